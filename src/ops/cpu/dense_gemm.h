// Single-precision matrix products for the dense layers (internal): a register-blocked
// kernel that holds 6 rows x 64 columns of the result in 24 AVX-512 registers (6 x 16 in 12
// AVX2 registers), for the three products of a linear layer on many rows (forward, gradient
// of the input, gradient of the weight).
//
// Why not the BLAS: Debian 12's OpenBLAS (0.3.21) runs its AVX2 kernels on current AMD and
// Intel server cores (src/cli/blas_kernels.h), which caps sgemm at half of what these cores'
// 512-bit FMA units do. On AVX2-only cores a layer's three products are 1.1-1.35x faster
// here than with OpenBLAS (the weight's gradient alone is slower). docs/performance.md has
// the measurements.
//
// Each result element is one sum over the inner dimension in ascending order (gemm_rows), or
// a sum of fixed slices of rows added in slice order (gemm_reduce), so results depend neither
// on the thread count nor on the vector width. Used where the compiler targets AVX-512 or
// AVX2 with FMA (kAvailable); callers use ATen's products elsewhere. Raw row-major float
// arrays in; callers check shapes and the column multiple (kColumnMultiple); nothing is
// checked here, and only the scratch allocations can fail (std::bad_alloc).
#pragma once

#include <cstdint>

#include "ops/cpu/register_block.h"

namespace ripple::ops::cpu::dense {

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
inline constexpr bool kAvailable = true;
#else
inline constexpr bool kAvailable = false;
#endif

// The result's column count must be a multiple of this (one vector of floats: 16 with
// AVX-512, 8 with AVX2).
inline constexpr int64_t kColumnMultiple = kVectorLanes;

// c[i * ldc + j] = bias[j] + sum over t < k of a[i * lda + t] * b[t * b_row + j * b_col]
// for i < m, j < n (bias may be null: 0). b_row/b_col are the strides of B's rows (the inner
// dimension) and columns, so B can be a matrix or a transposed one. n % kColumnMultiple == 0.
void gemm_rows(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t b_row,
               int64_t b_col, const float* bias, float* c, int64_t ldc);

// c[i * ldc + j] = sum over r < m of g[r * ldg + i] * x[r * ldx + j] for i < p, j < n: the
// product G^T X of two tall matrices (a weight's gradient). n % kColumnMultiple == 0.
void gemm_reduce(int64_t m, int64_t p, int64_t n, const float* g, int64_t ldg, const float* x, int64_t ldx, float* c,
                 int64_t ldc);

}  // namespace ripple::ops::cpu::dense
