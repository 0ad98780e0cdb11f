// The round schedule of the periodic strategies. See src/dist/periodic_strategy.h.
#include "dist/periodic_strategy.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace ripple::dist {

PeriodicStrategy::PeriodicStrategy(Communicator& comm, int64_t sync_every, bool reduce_metrics,
                                   std::function<void(const std::string&)> log)
    : GroupStrategy(comm, reduce_metrics, std::move(log)), sync_every_(sync_every) {}

void PeriodicStrategy::start_unit(torch::nn::Module& /*model*/, train::FlatAdam& /*optimizer*/,
                                  train::TrainState& /*state*/) {
  steps_since_ = 0;
  examples_since_ = 0;
  examples_trained_ = 0;
}

train::StepTotals PeriodicStrategy::synchronize_step(train::FlatAdam& optimizer, int64_t examples, double loss_sum,
                                                     int64_t epoch, int64_t step) {
  if (examples > 0) {
    examples_since_ += examples;
    examples_trained_ += examples;
    return {examples, loss_sum};
  }
  // This rank's batches are out: join the others' rounds until theirs are too.
  while (round(optimizer, false, epoch, step)) {
  }
  return {};
}

void PeriodicStrategy::after_update(train::FlatAdam& optimizer, int64_t epoch, int64_t step) {
  after_inner_step(optimizer);
  if (++steps_since_ >= sync_every_) round(optimizer, true, epoch, step);
}

bool PeriodicStrategy::round(train::FlatAdam& optimizer, bool going, int64_t epoch, int64_t step) {
  const std::string at = where(epoch, step);
  const int64_t examples_here = examples_for_round(examples_since_);
  bool any_going = false;
  double examples = 0;
  // In an elastic group a lost peer makes the survivors run the whole round again, the
  // counts included: the lost rank's examples no longer weigh.
  survive(at, [&] {
    const at::Tensor counts = at::tensor({going ? 1.0 : 0.0, static_cast<double>(examples_here)}, at::kDouble);
    comm_.all_reduce_sum(counts, Traffic::control, fmt::format("all-reduce of the synchronization round ({})", at));
    any_going = counts[0].item<double>() > 0;
    examples = counts[1].item<double>();
    if (any_going && examples > 0) exchange(optimizer, examples_here, examples, at);
  });
  if (!any_going || examples == 0) return any_going;
  steps_since_ = 0;
  examples_since_ = 0;
  return any_going;
}

}  // namespace ripple::dist
