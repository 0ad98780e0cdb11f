// DiLoCo, Streaming DiLoCo and local SGD. See src/dist/diloco.h.
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

std::pair<int64_t, int64_t> fragment_bounds(int64_t n, int64_t fragments, int64_t f) {
  return {f * n / fragments, (f + 1) * n / fragments};
}

DiLoCo::DiLoCo(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
               std::function<void(const std::string&)> log)
    : PeriodicStrategy(comm,
                       settings.strategy == "streaming-diloco" ? settings.sync_every / settings.fragments
                                                               : settings.sync_every,
                       reduce_metrics, std::move(log)),
      outer_lr_(settings.strategy == "local-sgd" ? 1.0 : settings.outer_lr),
      outer_momentum_(settings.strategy == "local-sgd" ? 0.0 : settings.outer_momentum) {
  if (settings.strategy == "streaming-diloco") {
    fragments_ = settings.fragments;
    overlap_steps_ = settings.overlap_steps;
    mix_ = settings.fragment_mix;
  }
  if (settings.compress != "none") wire_ = wire_precision(settings.compress);
  error_feedback_ = wire_.has_value() && settings.error_feedback;
}

void DiLoCo::start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) {
  PeriodicStrategy::start_unit(model, optimizer, state);
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  if (params.numel() < fragments_) {
    throw InputError(fmt::format("rank {}: dist.fragments = {} but the model has only {} parameters", comm_.rank(),
                                 fragments_, params.numel()));
  }
  global_ = params.clone();
  change_ = at::zeros_like(params);
  if (error_feedback_) feedback_ = std::make_unique<QuantErrorFeedback>(*wire_, params.numel());
  fragment_marks_.assign(static_cast<size_t>(fragments_), 0);
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
  const auto rounds = state.strategy_state.find("streaming_rounds");
  rounds_ = rounds != state.strategy_state.end() ? rounds->second.to(at::kLong).reshape({1}).clone()
                                                 : at::zeros({1}, at::kLong);
  if (fragments_ > 1) state.strategy_state["streaming_rounds"] = rounds_;
}

at::Tensor DiLoCo::fragment(const at::Tensor& flat, int64_t f) const {
  const auto [begin, end] = fragment_bounds(flat.numel(), fragments_, f);
  return flat.narrow(0, begin, end - begin);
}

int64_t DiLoCo::examples_for_round(int64_t since_last_exchange) {
  if (fragments_ == 1) return since_last_exchange;
  const int64_t f = rounds_.item<int64_t>() % fragments_;
  return examples_trained() - fragment_marks_[static_cast<size_t>(f)];
}

void DiLoCo::exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all, const std::string& at) {
  at::NoGradGuard no_grad;
  if (in_flight_.active()) complete_exchange(optimizer);
  const int64_t f = rounds_.item<int64_t>() % fragments_;
  at::Tensor change = fragment(change_, f);
  at::sub_out(change, fragment(global_, f), fragment(optimizer.flat_params(), f))
      .mul_(static_cast<double>(examples_here) / examples_all);
  const auto counted = [&] {  // after the collective succeeded or started (elastic groups retry a failed one)
    fragment_marks_[static_cast<size_t>(f)] = examples_trained();
    rounds_ += 1;
    ++syncs_;
  };
  const std::string of = fragments_ > 1 ? fmt::format(", fragment {} of {}", f + 1, fragments_) : "";
  // The message of a quantized exchange; with error feedback, the residual it changes is
  // put back should the collective fail (an elastic group runs the round again).
  at::Tensor message, residual_before;
  if (wire_) {
    if (feedback_) {
      residual_before = fragment(feedback_->residual(), f).clone();
      message = feedback_->compress(change, fragment_bounds(change_.numel(), fragments_, f).first);
    } else {
      message = quantize_message(*wire_, change);
    }
  }
  try {
    if (overlap_steps_ == 0) {
      if (wire_) {
        sum_dequantized(*wire_,
                        comm_.all_gather(message, Traffic::parameters,
                                         fmt::format("all-gather of the quantized parameter changes ({}, outer "
                                                     "step{})", at, of)),
                        change);
      } else {
        comm_.all_reduce_sum(change, Traffic::parameters,
                             fmt::format("all-reduce of the parameter changes ({}, outer step{})", at, of));
      }
      counted();
      apply_outer_step(optimizer, f);
      return;
    }
    // Started now, applied after overlap_steps more inner steps (or at the next round, the
    // next evaluation or the end of the unit, whichever comes first).
    in_flight_ = wire_ ? comm_.start_all_gather(message, Traffic::parameters,
                                                fmt::format("all-gather of the quantized parameter changes ({}, "
                                                            "overlapped outer step{})", at, of))
                       : comm_.start_all_reduce_sum(change, Traffic::parameters,
                                                    fmt::format("all-reduce of the parameter changes ({}, overlapped "
                                                                "outer step{})", at, of));
  } catch (const DistributedError&) {
    if (residual_before.defined()) fragment(feedback_->residual(), f).copy_(residual_before);
    throw;
  }
  in_flight_fragment_ = f;
  in_flight_steps_ = 0;
  counted();
}

void DiLoCo::after_inner_step(train::FlatAdam& optimizer) {
  if (in_flight_.active() && ++in_flight_steps_ >= overlap_steps_) complete_exchange(optimizer);
}

void DiLoCo::complete_exchange(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  const at::Tensor done = comm_.finish(in_flight_);
  // An all-reduce summed the fragment of change_ in place; gathered messages still need adding.
  if (wire_) sum_dequantized(*wire_, done, fragment(change_, in_flight_fragment_));
  apply_outer_step(optimizer, in_flight_fragment_);
}

void DiLoCo::apply_outer_step(train::FlatAdam& optimizer, int64_t f) {
  const at::Tensor global = fragment(global_, f);
  outer_nesterov_step(global, fragment(change_, f), fragment(momentum_, f), outer_lr_, outer_momentum_);
  const at::Tensor mine = fragment(optimizer.flat_params(), f);
  if (mix_ == 0) {
    mine.copy_(global);
  } else {
    mine.mul_(mix_).add_(global, 1 - mix_);
  }
}

void DiLoCo::prepare_evaluation(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  if (in_flight_.active()) complete_exchange(optimizer);
  local_ = optimizer.flat_params().clone();
  optimizer.flat_params().copy_(global_);
}

void DiLoCo::resume_training(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  optimizer.flat_params().copy_(local_);
}

void DiLoCo::finish_unit(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  if (in_flight_.active()) complete_exchange(optimizer);
  optimizer.flat_params().copy_(global_);
}

}  // namespace ripple::dist
