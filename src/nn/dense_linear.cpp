// dense_linear (dense_linear.h): ATen for small or unusual products, Ripple's kernels for the
// large ones, wrapped in an autograd function.
#include "nn/dense_linear.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "ops/cpu/dense_gemm.h"

namespace ripple::nn {
namespace {

namespace dense = ops::cpu::dense;

// Below this many rows ATen's product costs about as much as packing the weight.
constexpr int64_t kMinRows = 64;

// x [m, in] W^T [in, out] + b with Ripple's kernel; x and weight contiguous.
at::Tensor forward_product(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const int64_t m = x.size(0), in = x.size(1), out = weight.size(0);
  at::Tensor y = at::empty({m, out}, x.options());
  const at::Tensor b = bias.defined() ? bias.contiguous() : bias;
  // B[t][j] = W^T[t][j] = weight[j][t]: rows step 1, columns step in.
  dense::gemm_rows(m, out, in, x.data_ptr<float>(), in, weight.data_ptr<float>(), 1, in,
                   b.defined() ? b.data_ptr<float>() : nullptr, y.data_ptr<float>(), out);
  return y;
}

class DenseLinearFunction : public torch::autograd::Function<DenseLinearFunction> {
 public:
  // Without a bias, `bias` is an empty tensor (autograd functions take no undefined tensors
  // as inputs).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    const bool has_bias = bias.numel() > 0;
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_bias"] = has_bias;
    return forward_product(x, weight, has_bias ? bias : at::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor grad = grads[0].contiguous();
    const int64_t m = x.size(0), in = x.size(1), out = weight.size(0);
    at::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) grad_bias = grad.sum(0);
    if (at::GradMode::is_enabled()) {
      // Asked for a graph of the backward (second derivatives): ATen's differentiable products.
      if (ctx->needs_input_grad(0)) grad_x = grad.mm(weight);
      if (ctx->needs_input_grad(1)) grad_weight = grad.t().mm(x);
      return {grad_x, grad_weight, grad_bias};
    }
    if (ctx->needs_input_grad(0)) {
      // grad [m, out] W [out, in]: B[t][j] = weight[t][j].
      grad_x = at::empty({m, in}, x.options());
      dense::gemm_rows(m, in, out, grad.data_ptr<float>(), out, weight.data_ptr<float>(), in, 1, nullptr,
                       grad_x.data_ptr<float>(), in);
    }
    if (ctx->needs_input_grad(1)) {
      grad_weight = at::empty({out, in}, weight.options());
      dense::gemm_reduce(m, out, in, grad.data_ptr<float>(), out, x.data_ptr<float>(), in,
                         grad_weight.data_ptr<float>(), in);
    }
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

bool dense_linear_uses_own_kernels(const at::Tensor& x, const at::Tensor& weight) {
  if (!dense::kAvailable) return false;
  if (x.dim() != 2 || weight.dim() != 2 || x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat) {
    return false;
  }
  if (!x.device().is_cpu() || !weight.device().is_cpu() || x.size(1) != weight.size(1)) return false;
  return x.size(0) >= kMinRows && x.size(1) > 0 && x.size(1) % dense::kColumnMultiple == 0 &&
         weight.size(0) % dense::kColumnMultiple == 0 && weight.size(0) > 0;
}

at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const bool bias_ok = !bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0) &&
                                           bias.scalar_type() == at::kFloat && bias.device().is_cpu());
  if (bias_ok && x.dim() == 2 && weight.dim() == 2 && weight.size(0) == 1) {
    // One output (a link predictor's or a regression's last layer): a matrix-vector product,
    // whose backward is an outer product and a second one. As a matrix product through the
    // BLAS, the backward zeroes, packs and multiplies 1-wide matrices: two more passes over
    // x-sized data.
    const at::Tensor y = at::mv(x, weight.squeeze(0)).unsqueeze(1);
    return bias.defined() ? y + bias : y;
  }
  if (!bias_ok || !dense_linear_uses_own_kernels(x, weight)) {
    const at::Tensor y = at::matmul(x, weight.t());
    return bias.defined() ? y + bias : y;
  }
  const at::Tensor xc = x.contiguous(), wc = weight.contiguous();
  const bool tracked = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() ||
                                                      (bias.defined() && bias.requires_grad()));
  if (!tracked) return forward_product(xc, wc, bias);
  return DenseLinearFunction::apply(xc, wc, bias.defined() ? bias : at::empty({0}, weight.options()));
}

}  // namespace ripple::nn
