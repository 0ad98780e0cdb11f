// The register-blocked products of dense_gemm.h.
//
// Both run register_block (register_block.h) on blocks of up to kRows rows and kVectors
// vectors of kLanes columns: A is row-major for gemm_rows, and a packed transposed chunk of
// G for gemm_reduce (there one step's kRows elements are contiguous).
#include "ops/cpu/dense_gemm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <utility>

#include "ops/cpu/register_block.h"

namespace ripple::ops::cpu::dense {
namespace {

constexpr int64_t kLanes = kVectorLanes;
constexpr int kRows = 6;
constexpr int kVectors = kLanes == 16 ? 4 : 2;  // 24 of AVX-512's 32 registers, 12 of AVX2's 16
constexpr int64_t kPanel = kVectors * kLanes;  // result columns per kernel call

using Kernel = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, BlockStart, const float*,
                        float*, int64_t);

template <int R, int... V>
constexpr std::array<Kernel, kVectors> kernels_of_rows(std::integer_sequence<int, V...>) {
  return {&register_block<R, V + 1>...};
}

template <int... R>
constexpr std::array<std::array<Kernel, kVectors>, kRows> kernel_table(std::integer_sequence<int, R...>) {
  return {kernels_of_rows<R + 1>(std::make_integer_sequence<int, kVectors>{})...};
}

// kTable[rows - 1][vectors - 1]: the kernel for a block of that many rows and vectors.
constexpr auto kTable = kernel_table(std::make_integer_sequence<int, kRows>{});

// Calls the kernel for `rows` rows and the `columns` columns (a multiple of kLanes, at most
// kPanel) starting at c.
void run_block(int64_t rows, int64_t columns, int64_t steps, const float* a, int64_t a_row, int64_t a_step,
               const float* b, int64_t b_step, BlockStart start, const float* bias, float* c, int64_t ldc) {
  kTable[static_cast<size_t>(rows - 1)][static_cast<size_t>(columns / kLanes - 1)](steps, a, a_row, a_step, b, b_step,
                                                                                  start, bias, c, ldc);
}

// Inner-dimension steps per pass over a panel: a packed panel of 256 x kPanel floats (64 KiB
// with AVX-512, 16 KiB with AVX2) stays in L2 while the row blocks pass over it, and 6 rows
// of A (6 KiB) in L1.
constexpr int64_t kDepth = 256;

// gemm_reduce's rows are cut into slices of this many (each slice's sum is kept apart and the
// slices added in order, whatever the thread count), and each slice walks them in chunks,
// packed so that the chunk of G (chunk x p floats, 256 KiB for p = 256) stays in L2.
constexpr int64_t kSliceRows = 2048;
constexpr int64_t kChunkRows = 256;

}  // namespace

void gemm_rows(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t b_row,
               int64_t b_col, const float* bias, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  // B in panels of kPanel columns, each [k][kPanel], zero past the last column.
  std::unique_ptr<float[]> packed(new float[static_cast<size_t>(panels * std::max<int64_t>(k, 1) * kPanel)]);
  at::parallel_for(0, panels, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float* panel = packed.get() + p * k * kPanel;
      const int64_t width = std::min(kPanel, n - p * kPanel);
      for (int64_t t = 0; t < k; ++t) {
        for (int64_t j = 0; j < width; ++j) panel[t * kPanel + j] = b[t * b_row + (p * kPanel + j) * b_col];
        std::fill(panel + t * kPanel + width, panel + (t + 1) * kPanel, 0.0f);
      }
    }
  });
  const int64_t blocks = (m + kRows - 1) / kRows;
  at::parallel_for(0, blocks, 16, [&](int64_t block_begin, int64_t block_end) {
    for (int64_t blk = block_begin; blk < block_end; ++blk) {
      const int64_t i0 = blk * kRows, rows = std::min<int64_t>(kRows, m - i0);
      // k == 0: the result is the bias (or zero), which the first pass's start gives.
      for (int64_t t0 = 0; t0 < std::max<int64_t>(k, 1); t0 += kDepth) {
        const int64_t steps = std::min(kDepth, k - t0);
        const BlockStart start = t0 > 0 ? BlockStart::kResult : (bias != nullptr ? BlockStart::kBias : BlockStart::kZero);
        for (int64_t p = 0; p < panels; ++p) {
          run_block(rows, std::min(kPanel, n - p * kPanel), steps, a + i0 * lda + t0, lda, 1,
                    packed.get() + (p * k + t0) * kPanel, kPanel, start, bias != nullptr ? bias + p * kPanel : nullptr,
                    c + i0 * ldc + p * kPanel, ldc);
        }
      }
    }
  });
}

void gemm_reduce(int64_t m, int64_t p, int64_t n, const float* g, int64_t ldg, const float* x, int64_t ldx, float* c,
                 int64_t ldc) {
  if (p <= 0 || n <= 0) return;
  if (m <= 0) {
    for (int64_t i = 0; i < p; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const int64_t slices = (m + kSliceRows - 1) / kSliceRows;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  const int64_t blocks = (p + kRows - 1) / kRows;
  // Slice s's sum in partial[s * p * n ...], row-major [p][n]. One task per slice, or, with
  // too few slices to keep every thread busy, per slice and group of panels (G is then packed
  // once per group); each result's sum is the same either way.
  const int64_t wanted_tasks = 4 * static_cast<int64_t>(at::get_num_threads());
  const int64_t wanted_groups = std::min(panels, (wanted_tasks + slices - 1) / slices);
  const int64_t group_panels = (panels + wanted_groups - 1) / wanted_groups;
  const int64_t groups = (panels + group_panels - 1) / group_panels;  // none left empty
  std::unique_ptr<float[]> partial(new float[static_cast<size_t>(slices * p * n)]);
  at::parallel_for(0, slices * groups, 1, [&](int64_t task_begin, int64_t task_end) {
    // A chunk of G transposed, [block][step][kRows] with kLanes floats of slack behind each
    // block (a last block of fewer rows leaves the rest of each step unused): the kernel
    // reads one block (6 KiB) front to back while X's rows come from L1.
    std::unique_ptr<float[]> g_pack(new float[static_cast<size_t>(blocks * (kChunkRows * kRows + kLanes))]);
    for (int64_t task = task_begin; task < task_end; ++task) {
      const int64_t s = task / groups, q_begin = task % groups * group_panels;
      const int64_t q_end = std::min(panels, q_begin + group_panels);
      float* out = partial.get() + s * p * n;
      const int64_t r_end = std::min(m, (s + 1) * kSliceRows);
      for (int64_t r0 = s * kSliceRows; r0 < r_end; r0 += kChunkRows) {
        const int64_t steps = std::min(kChunkRows, r_end - r0);
        const BlockStart start = r0 == s * kSliceRows ? BlockStart::kZero : BlockStart::kResult;
        // Row by row of G. A block's kRows floats of a step go over as one whole vector
        // (where kLanes >= kRows) where G's row has that many left: the lanes past kRows
        // land on the next step's place, which is written after, or in the slack behind the
        // block's last step. (A std::copy of `rows` floats here was a memmove call per block
        // and step, a fifth of the product's time.)
        const int64_t block_stride = steps * kRows + kLanes;
        for (int64_t t = 0; t < steps; ++t) {
          const float* from = g + (r0 + t) * ldg;
          float* to = g_pack.get() + t * kRows;
          int64_t i0 = 0;
          for (; kLanes >= kRows && i0 + kLanes <= p; i0 += kRows, to += block_stride) {
            store_vec(to, load_vec(from + i0));
          }
          for (; i0 < p; i0 += kRows, to += block_stride) {
            for (int64_t r = 0; r < std::min<int64_t>(kRows, p - i0); ++r) to[r] = from[i0 + r];
          }
        }
        for (int64_t q = q_begin; q < q_end; ++q) {
          const int64_t columns = std::min(kPanel, n - q * kPanel);
          for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t i0 = blk * kRows;
            run_block(std::min<int64_t>(kRows, p - i0), columns, steps, g_pack.get() + blk * block_stride, 1, kRows,
                      x + r0 * ldx + q * kPanel, ldx, start, nullptr, out + i0 * n + q * kPanel, n);
          }
        }
      }
    }
  });
  at::parallel_for(0, p, 16, [&](int64_t i_begin, int64_t i_end) {
    for (int64_t i = i_begin; i < i_end; ++i) {
      float* row = c + i * ldc;
      std::copy(partial.get() + i * n, partial.get() + (i + 1) * n, row);
      for (int64_t s = 1; s < slices; ++s) {
        const float* add = partial.get() + (s * p + i) * n;
        for (int64_t j = 0; j < n; ++j) row[j] += add[j];
      }
    }
  });
}

}  // namespace ripple::ops::cpu::dense
