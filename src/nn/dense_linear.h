// x W^T + b for a dense layer (internal; Features::linear calls it), with its backward.
//
// On many rows of float32 on the CPU, with both widths multiples of the vector width (16
// floats with AVX-512, 8 with AVX2 and FMA), the three products (forward, gradient of x,
// gradient of W) run on Ripple's own kernels (src/ops/cpu/dense_gemm.h): about twice the
// speed of Debian's OpenBLAS with AVX-512, 1.1-1.35x with AVX2. Anything else goes to ATen
// (at::matmul; a single output, at::mv). The two agree to float rounding, not bit for bit. A
// backward asked to build its own graph (create_graph, for second derivatives) runs on ATen's
// differentiable products. Shape errors are ATen's: x [..., in], weight [out, in], bias
// [out] or undefined.
#pragma once

#include <ATen/core/Tensor.h>

namespace ripple::nn {

at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// Whether dense_linear takes Ripple's kernels for these arguments.
bool dense_linear_uses_own_kernels(const at::Tensor& x, const at::Tensor& weight);

}  // namespace ripple::nn
