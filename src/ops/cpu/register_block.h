// The register-blocked multiply-add at the heart of Ripple's dense products (dense_gemm.cpp)
// and of full-ranking evaluation (src/tasks/ranking_kernels.cpp), internal.
//
// register_block<R, V> computes an R x (16 V) block of a product: acc[r][v] holds result row
// r and columns 16 v .. 16 v + 15; each step t loads the V vectors of B's row t once and
// broadcasts one A element per row, R x V FMAs a step. The A element of row r at step t is
// a[r * a_row + t * a_step] (a row-major A, or a transposed one), B's row t starts at
// b + t * b_step. Each result is the sum over t = 0..steps-1 in that order, added to the
// start value; GCC/Clang vector extensions, so AVX-512 registers where the build has them and
// narrower ones otherwise. Nothing is checked; callers keep R x V within the registers
// (24 accumulators for AVX-512's 32).
#pragma once

#include <cstdint>
#include <cstring>

namespace ripple::ops::cpu {

inline constexpr int64_t kVectorLanes = 16;

// 16 floats; aligned(4) so that loads and stores need no particular alignment.
using Vec16 = float __attribute__((vector_size(kVectorLanes * sizeof(float)), aligned(4)));

// Where the accumulators start from: zero, a row of `bias` (the same for every row), or the
// values already in the result.
enum class BlockStart { kZero, kBias, kResult };

template <int R, int V>
void register_block(int64_t steps, const float* a, int64_t a_row, int64_t a_step, const float* b, int64_t b_step,
                    BlockStart start, const float* bias, float* c, int64_t ldc) {
  Vec16 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      if (start == BlockStart::kResult) {
        std::memcpy(&acc[r][v], c + r * ldc + v * kVectorLanes, sizeof(Vec16));
      } else if (start == BlockStart::kBias) {
        std::memcpy(&acc[r][v], bias + v * kVectorLanes, sizeof(Vec16));
      } else {
        acc[r][v] = Vec16{};
      }
    }
  }
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = a + r * a_row;
  for (int64_t t = 0; t < steps; ++t) {
    Vec16 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) std::memcpy(&bv[v], b + t * b_step + v * kVectorLanes, sizeof(Vec16));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float x = row[r][t * a_step];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] += x * bv[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) std::memcpy(c + r * ldc + v * kVectorLanes, &acc[r][v], sizeof(Vec16));
  }
}

}  // namespace ripple::ops::cpu
