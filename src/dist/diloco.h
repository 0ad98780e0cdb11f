// dist.strategy = "diloco", "streaming-diloco" and "local-sgd": training that synchronizes
// every H steps instead of every step (internal), the Synchronizer of the training loop
// (train/synchronizer.h).
//
// DiLoCo (Douillard et al. 2023): every rank keeps the last synchronized model (the global
// model) and takes H = dist.sync_every steps of its own optimizer (the inner Adam, whose
// moments stay per rank) on its own examples. Then the ranks all-reduce their change
// (global - local), weighted by the examples each trained on since the last synchronization;
// the weighted mean is the outer gradient of a Nesterov SGD step (PyTorch's SGD with
// nesterov=True, dist.outer_lr, dist.outer_momentum) on the global model, which every rank
// then continues from. local-sgd is the same with outer lr 1 and no momentum: the new
// global model is the ranks' weighted mean. Traffic per synchronization: one all-reduce of
// the parameters and one of two numbers, instead of a gradient all-reduce per step. With
// dist.compress = fp16, int8 or int4 the changes travel quantized instead
// (dist/quantize.h: an all-gather of the messages, summed in float32 on every rank); the
// global model, the outer momentum and the inner steps stay float32. With
// dist.error_feedback each rank adds what its last message of a slice rounded off to its
// next one (QuantErrorFeedback): a residual per rank, zero at the start of every unit (also
// a resumed one: the checkpoint is rank 0's), kept untouched by an exchange that failed.
//
// Streaming DiLoCo (Douillard et al. 2025) splits the flat parameter vector into
// P = dist.fragments contiguous slices of equal size (±1) and synchronizes one of them every
// H / P steps, in turn, so each fragment still every H steps and a synchronization sends a
// P-th of the model (the peak per collective falls P-fold). A fragment's change counts the
// examples since that fragment's last synchronization. Its collective is started, and the
// rank trains on for dist.overlap_steps steps while it travels; then the outer step updates
// the global fragment and the rank's own fragment becomes dist.fragment_mix * its own +
// (1 - fragment_mix) * the global one (0: replaced, as in DiLoCo). An exchange in flight is
// also finished before the next round, before each epoch's evaluation and at the end of the
// unit, on every rank alike. With one fragment, no overlap and mix 0 it is DiLoCo.
//
// The rounds and epochs follow dist/periodic_strategy.h. Evaluation, model selection,
// checkpoints and the unit's final model see the global model; the outer momentum (and the
// streaming round count) are in the checkpoint (TrainState::strategy_state). A group resumed
// after a restart continues from the last checkpointed global model with rank 0's inner
// optimizer state on every rank, so unlike ddp its result is not bit-identical to an
// uninterrupted run. A model with fewer parameters than fragments throws InputError.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dist/periodic_strategy.h"
#include "dist/quantize.h"
#include "ripple/settings.h"

namespace ripple::dist {

// One outer step: PyTorch's SGD with Nesterov momentum (no dampening) on `params` given the
// outer gradient `grad`: buf = momentum * buf + grad; params -= lr * (grad + momentum * buf).
void outer_nesterov_step(const at::Tensor& params, const at::Tensor& grad, const at::Tensor& buf, double lr,
                         double momentum);

// The [begin, end) of fragment `f` of `n` values cut into `fragments` contiguous slices.
std::pair<int64_t, int64_t> fragment_bounds(int64_t n, int64_t fragments, int64_t f);

class DiLoCo final : public PeriodicStrategy {
 public:
  // settings.strategy "local-sgd" ignores outer_lr and outer_momentum (1 and 0); only
  // "streaming-diloco" reads fragments, overlap_steps and fragment_mix.
  DiLoCo(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
         std::function<void(const std::string&)> log);

 protected:
  void prepare_evaluation(train::FlatAdam& optimizer) override;
  void resume_training(train::FlatAdam& optimizer) override;
  void start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) override;
  void finish_unit(train::FlatAdam& optimizer) override;
  // The outer step on the examples-weighted mean change (of this round's fragment).
  void exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all,
                const std::string& at) override;
  int64_t examples_for_round(int64_t since_last_exchange) override;
  void after_inner_step(train::FlatAdam& optimizer) override;

 private:
  at::Tensor fragment(const at::Tensor& flat, int64_t f) const;
  // The outer step on fragment f of the global model from the summed change in change_,
  // then fragment f of the parameters mixed with it.
  void apply_outer_step(train::FlatAdam& optimizer, int64_t f);
  // Waits for the exchange in flight and applies it.
  void complete_exchange(train::FlatAdam& optimizer);

  double outer_lr_, outer_momentum_;
  int64_t fragments_ = 1, overlap_steps_ = 0;
  double mix_ = 0;
  std::optional<WirePrecision> wire_;  // the quantized exchange, when dist.compress asks
  bool error_feedback_ = false;
  std::unique_ptr<QuantErrorFeedback> feedback_;  // dist.error_feedback: one residual per unit
  at::Tensor global_, momentum_, local_, change_;
  at::Tensor rounds_;                   // int64 [1]: exchanges so far (streaming: in the checkpoint)
  std::vector<int64_t> fragment_marks_;  // examples_trained() at each fragment's last exchange
  PendingCollective in_flight_;
  int64_t in_flight_fragment_ = 0, in_flight_steps_ = 0;
};

}  // namespace ripple::dist
