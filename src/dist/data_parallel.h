// dist.strategy = "ddp": synchronous data parallel training (internal), the Synchronizer of
// the training loop (train/synchronizer.h) for a group of ranks.
//
// Each rank computes the mean loss over its own share of a step's examples; before the
// update every rank's gradient is weighted by its share (examples / examples of all ranks)
// and the weighted gradients are summed by all-reduce, in buckets of dist.bucket_mb. The sum
// is the gradient of the mean loss over every rank's examples: exactly what one process
// computes on all of them, up to floating-point reassociation. Every rank then takes the
// same Adam step, so parameters stay identical (end_unit proves it, src/dist/group_strategy.h).
// A rank whose batches ran out joins the others' steps with a zero gradient.
//
// With dist.overlap_backward (uncompressed only) the step's example counts are all-reduced
// before backward, and each bucket's all-reduce starts as soon as backward has filled it
// (src/dist/backward_buckets.h: buckets of whole parameters from the last back), so the
// communication of the last layers' gradients overlaps the backward pass of the first; the
// update waits for them all. The same sums, in the same buckets on every rank.
//
// With dist.compress = "ef21-topk" the weighted gradients are not all-reduced whole: each
// rank sends its EF21 top-k message (src/dist/ef21.h) by all-gather and every rank forms
// the same estimate of their sum, which the update then uses. The estimates start at zero
// in every unit, also a resumed one (so a resumed compressed run is not bit-identical to an
// uninterrupted one). With fp16, int8 or int4 each bucket travels quantized
// (src/dist/quantize.h: all-gathered messages summed in rank order in float32 on every
// rank, so the ranks stay identical); with dist.error_feedback each rank adds what its
// previous messages rounded off to the next (QuantErrorFeedback), from zero in every unit.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dist/backward_buckets.h"
#include "dist/ef21.h"
#include "dist/group_strategy.h"
#include "dist/quantize.h"
#include "ripple/settings.h"

namespace ripple::dist {

class DataParallel final : public GroupStrategy {
 public:
  DataParallel(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
               std::function<void(const std::string&)> log);
  ~DataParallel() override;
  void before_backward(train::FlatAdam& optimizer, int64_t examples, double loss_sum, int64_t epoch,
                       int64_t step) override;
  train::StepTotals synchronize_step(train::FlatAdam& optimizer, int64_t examples, double loss_sum, int64_t epoch,
                                     int64_t step) override;

 protected:
  void start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) override;

 private:
  int64_t bucket_elements_;
  std::string compress_;
  double compress_ratio_;
  std::unique_ptr<Ef21TopK> ef21_;
  std::optional<WirePrecision> wire_;  // quantized buckets, when dist.compress asks
  bool error_feedback_ = false;
  std::unique_ptr<QuantErrorFeedback> feedback_;  // dist.error_feedback: one residual per unit
  // dist.overlap_backward: the unit's buckets, and the step in flight.
  bool overlap_ = false;
  std::unique_ptr<BackwardBuckets> buckets_;
  std::vector<PendingCollective> in_flight_;
  std::optional<train::StepTotals> step_totals_;  // all-reduced before backward
  double share_ = 0;                              // this rank's examples / the step's
  std::string at_;                                // where(epoch, step) of the step in flight
  // The step's example count and loss sum over every rank.
  train::StepTotals all_reduce_totals(int64_t examples, double loss_sum);
};

}  // namespace ripple::dist
