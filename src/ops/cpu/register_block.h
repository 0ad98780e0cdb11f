// The register-blocked multiply-add at the heart of Ripple's dense products (dense_gemm.cpp)
// and of full-ranking evaluation (src/tasks/ranking_kernels.cpp), internal.
//
// register_block<R, V> computes an R x (L V) block of a product, L = kVectorLanes floats
// (one register): acc[r][v] holds result row r and columns L v .. L v + L - 1; each step t
// loads the V vectors of B's row t once and broadcasts one A element per row, R x V FMAs a
// step. The A element of row r at step t is a[r * a_row + t * a_step] (a row-major A, or a
// transposed one), B's row t starts at b + t * b_step. Each result is the sum over
// t = 0..steps-1 in that order, added to the start value, so it does not depend on L.
// GCC/Clang vector extensions sized to the build's registers: 16 floats with AVX-512, 8
// with AVX2, 4 otherwise (a vector wider than the registers would be spilled to memory on
// every step). Nothing is checked; callers keep R x V + V + 1 within kVectorRegisters.
#pragma once

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

namespace ripple::ops::cpu {

#if defined(__AVX512F__)
inline constexpr int64_t kVectorLanes = 16;  // floats in one 512-bit register
inline constexpr int kVectorRegisters = 32;
#elif defined(__AVX__)
inline constexpr int64_t kVectorLanes = 8;  // one 256-bit register
inline constexpr int kVectorRegisters = 16;
#else
inline constexpr int64_t kVectorLanes = 4;  // one 128-bit register (SSE, NEON)
inline constexpr int kVectorRegisters = 16;
#endif

// One register of floats. Memory is read and written only through load_vec and store_vec,
// which need no particular alignment.
using FloatVec = float __attribute__((vector_size(kVectorLanes * sizeof(float))));

// Unaligned loads and stores as single vector instructions. (A memcpy here is expanded by
// GCC 12 tuned for Zen 3 into 16-byte pieces bounced through the stack, which made the
// kernels 5-50x slower.)
inline FloatVec load_vec(const float* p) {
#if defined(__AVX512F__)
  return _mm512_loadu_ps(p);
#elif defined(__AVX__)
  return _mm256_loadu_ps(p);
#else
  FloatVec v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}

inline void store_vec(float* p, FloatVec v) {
#if defined(__AVX512F__)
  _mm512_storeu_ps(p, v);
#elif defined(__AVX__)
  _mm256_storeu_ps(p, v);
#else
  std::memcpy(p, &v, sizeof v);
#endif
}

// Where the accumulators start from: zero, a row of `bias` (the same for every row), or the
// values already in the result.
enum class BlockStart { kZero, kBias, kResult };

template <int R, int V>
void register_block(int64_t steps, const float* a, int64_t a_row, int64_t a_step, const float* b, int64_t b_step,
                    BlockStart start, const float* bias, float* c, int64_t ldc) {
  static_assert(R * V + V + 1 <= kVectorRegisters, "the block's accumulators would not stay in registers");
  FloatVec acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      if (start == BlockStart::kResult) {
        acc[r][v] = load_vec(c + r * ldc + v * kVectorLanes);
      } else if (start == BlockStart::kBias) {
        acc[r][v] = load_vec(bias + v * kVectorLanes);
      } else {
        acc[r][v] = FloatVec{};
      }
    }
  }
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = a + r * a_row;
  for (int64_t t = 0; t < steps; ++t) {
    FloatVec bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) bv[v] = load_vec(b + t * b_step + v * kVectorLanes);
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
    for (int v = 0; v < V; ++v) store_vec(c + r * ldc + v * kVectorLanes, acc[r][v]);
  }
}

}  // namespace ripple::ops::cpu
