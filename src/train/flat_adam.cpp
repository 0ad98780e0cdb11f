// See src/train/flat_adam.h.
#include "train/flat_adam.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "ripple/error.h"

namespace ripple::train {

FlatAdam::FlatAdam(const std::vector<at::Tensor>& params, double lr, double weight_decay, bool decoupled,
                   double beta1, double beta2, double eps)
    : lr_(lr), weight_decay_(weight_decay), decoupled_(decoupled), beta1_(beta1), beta2_(beta2), eps_(eps) {
  int64_t total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& p = params[i];
    if (p.scalar_type() != at::kFloat || !p.is_cpu()) {
      throw InputError(fmt::format("FlatAdam: parameter {} is {} on {}, expected float32 on the CPU", i,
                                   c10::toString(p.scalar_type()), p.device().str()));
    }
    total += p.numel();
  }
  params_ = at::empty({total}, at::kFloat);
  grads_ = at::zeros({total}, at::kFloat);
  exp_avg_ = at::zeros({total}, at::kFloat);
  exp_avg_sq_ = at::zeros({total}, at::kFloat);
  int64_t offset = 0;
  for (at::Tensor p : params) {  // a handle: set_data and mutable_grad act on the shared variable
    const int64_t n = p.numel();
    at::Tensor slice = params_.narrow(0, offset, n);
    slice.copy_(p.detach().reshape({n}));
    p.set_data(slice.view(p.sizes()));
    p.mutable_grad() = grads_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

void FlatAdam::zero_grad() { grads_.zero_(); }

void FlatAdam::step() {
  at::NoGradGuard no_grad;
  ++steps_;
  if (max_grad_norm_ > 0) {
    const double norm = grads_.norm().item<double>();
    if (norm > max_grad_norm_) grads_.mul_(max_grad_norm_ / (norm + 1e-6));
  }
  if (decoupled_ && weight_decay_ != 0) params_.mul_(1 - lr_ * weight_decay_);
  const at::Tensor grad = !decoupled_ && weight_decay_ != 0 ? grads_.add(params_, weight_decay_) : grads_;
  exp_avg_.mul_(beta1_).add_(grad, 1 - beta1_);
  exp_avg_sq_.mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
  const double bias_correction1 = 1 - std::pow(beta1_, static_cast<double>(steps_));
  const double bias_correction2 = 1 - std::pow(beta2_, static_cast<double>(steps_));
  const at::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(eps_);
  params_.addcdiv_(exp_avg_, denom, -lr_ / bias_correction1);
}

}  // namespace ripple::train
