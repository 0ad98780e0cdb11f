// DiLoCo and local SGD. See src/dist/diloco.h.
#include "dist/diloco.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include "ripple/error.h"

namespace ripple::dist {

void outer_nesterov_step(const at::Tensor& params, const at::Tensor& grad, const at::Tensor& buf, double lr,
                         double momentum) {
  buf.mul_(momentum).add_(grad);
  params.sub_(grad + momentum * buf, lr);
}

DiLoCo::DiLoCo(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
               std::function<void(const std::string&)> log)
    : PeriodicStrategy(comm, settings.sync_every, reduce_metrics, std::move(log)),
      outer_lr_(settings.strategy == "local-sgd" ? 1.0 : settings.outer_lr),
      outer_momentum_(settings.strategy == "local-sgd" ? 0.0 : settings.outer_momentum) {
  if (settings.compress != "none") wire_ = wire_precision(settings.compress);
}

void DiLoCo::start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) {
  PeriodicStrategy::start_unit(model, optimizer, state);
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  global_ = params.clone();
  change_ = at::empty_like(params);
  const auto saved = state.strategy_state.find("outer_momentum");
  if (saved != state.strategy_state.end()) {
    if (saved->second.numel() != params.numel()) {
      throw InputError(fmt::format("rank {}: the checkpoint's outer momentum holds {} values, the model {} "
                                   "parameters (a checkpoint of another model?)", comm_.rank(),
                                   saved->second.numel(), params.numel()));
    }
    momentum_ = saved->second.to(at::kFloat).reshape({-1}).contiguous();
  } else {
    momentum_ = at::zeros_like(params);
  }
  state.strategy_state["outer_momentum"] = momentum_;  // the same storage: checkpoints see it
}

void DiLoCo::exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all, const std::string& at) {
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  at::sub_out(change_, global_, params).mul_(static_cast<double>(examples_here) / examples_all);
  if (wire_) {
    quantized_all_reduce_sum(comm_, change_, *wire_, Traffic::parameters,
                             fmt::format("all-gather of the quantized parameter changes ({}, outer step)", at));
  } else {
    comm_.all_reduce_sum(change_, Traffic::parameters,
                         fmt::format("all-reduce of the parameter changes ({}, outer step)", at));
  }
  outer_nesterov_step(global_, change_, momentum_, outer_lr_, outer_momentum_);
  params.copy_(global_);
  ++syncs_;
}

void DiLoCo::enter_evaluation(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  local_ = optimizer.flat_params().clone();
  optimizer.flat_params().copy_(global_);
}

void DiLoCo::leave_evaluation(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  optimizer.flat_params().copy_(local_);
}

void DiLoCo::finish_unit(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  optimizer.flat_params().copy_(global_);
}

}  // namespace ripple::dist
