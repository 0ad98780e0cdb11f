// Synchronous data parallel training. See src/dist/data_parallel.h.
#include "dist/data_parallel.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <vector>

namespace ripple::dist {

DataParallel::DataParallel(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
                           std::function<void(const std::string&)> log)
    : GroupStrategy(comm, reduce_metrics, std::move(log)),
      bucket_elements_(std::max<int64_t>(1, static_cast<int64_t>(settings.bucket_mb * 1e6 / sizeof(float)))),
      compress_(settings.compress),
      compress_ratio_(settings.compress_ratio),
      error_feedback_(settings.error_feedback) {
  if (compress_ != "none" && compress_ != "ef21-topk") wire_ = wire_precision(compress_);
  overlap_ = settings.overlap_backward && compress_ == "none";
}

DataParallel::~DataParallel() = default;

void DataParallel::start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& /*state*/) {
  if (overlap_) {
    buckets_.reset();  // the previous unit's model's hooks first
    buckets_ = std::make_unique<BackwardBuckets>(
        model.parameters(), optimizer.flat_grads(), bucket_elements_,
        [this, &optimizer](int64_t offset, int64_t length, size_t bucket) {
          const at::Tensor slice = optimizer.flat_grads().narrow(0, offset, length);
          slice.mul_(share_);
          in_flight_.push_back(comm_.start_all_reduce_sum(
              slice, Traffic::gradients,
              fmt::format("all-reduce of gradient bucket {}/{} ({})", bucket + 1, buckets_->size(), at_)));
        });
  }
  if (wire_ && error_feedback_) feedback_ = std::make_unique<QuantErrorFeedback>(*wire_, optimizer.flat_grads().numel());
  if (compress_ != "ef21-topk") return;
  std::vector<int64_t> sizes;
  for (const at::Tensor& p : model.parameters()) sizes.push_back(p.numel());  // FlatAdam's order
  ef21_ = std::make_unique<Ef21TopK>(sizes, compress_ratio_);
}

train::StepTotals DataParallel::all_reduce_totals(int64_t examples, double loss_sum) {
  const at::Tensor totals = at::tensor({static_cast<double>(examples), loss_sum}, at::kDouble);
  comm_.all_reduce_sum(totals, Traffic::control, fmt::format("all-reduce of the step's example count ({})", at_));
  return {static_cast<int64_t>(std::llround(totals[0].item<double>())), totals[1].item<double>()};
}

void DataParallel::before_backward(train::FlatAdam& /*optimizer*/, int64_t examples, double loss_sum, int64_t epoch,
                                   int64_t step) {
  if (!overlap_) return;
  at_ = where(epoch, step);
  step_totals_ = all_reduce_totals(examples, loss_sum);
  share_ = static_cast<double>(examples) / static_cast<double>(step_totals_->examples);
  buckets_->begin_pass();
}

train::StepTotals DataParallel::synchronize_step(train::FlatAdam& optimizer, int64_t examples, double loss_sum,
                                                 int64_t epoch, int64_t step) {
  if (overlap_) {
    if (!step_totals_) {  // no batch here: the totals, then every bucket (of zeros)
      at_ = where(epoch, step);
      step_totals_ = all_reduce_totals(examples, loss_sum);
      if (step_totals_->examples == 0) {
        step_totals_.reset();
        return {};
      }
      share_ = 0;
      buckets_->begin_pass();
    }
    const train::StepTotals totals = *step_totals_;
    step_totals_.reset();
    // finish_pass launches what backward left, then may throw (a misused loop): the
    // collectives in flight are waited for either way.
    std::exception_ptr misuse;
    try {
      buckets_->finish_pass();
    } catch (const std::logic_error&) {
      misuse = std::current_exception();
    }
    for (PendingCollective& pending : in_flight_) comm_.finish(pending);
    in_flight_.clear();
    if (misuse) std::rethrow_exception(misuse);
    ++syncs_;
    return totals;
  }
  at_ = where(epoch, step);
  const std::string& at = at_;
  const train::StepTotals totals = all_reduce_totals(examples, loss_sum);
  if (totals.examples == 0) return {};
  const at::Tensor& grads = optimizer.flat_grads();
  grads.mul_(static_cast<double>(examples) / static_cast<double>(totals.examples));
  if (ef21_) {
    const at::Tensor messages = comm_.all_gather(ef21_->compress(grads), Traffic::gradients,
                                                 fmt::format("all-gather of the EF21 top-k messages ({})", at));
    ef21_->decompress(messages, grads);
  } else {
    const int64_t n = grads.numel();
    const int64_t buckets = (n + bucket_elements_ - 1) / bucket_elements_;
    for (int64_t b = 0; b < buckets; ++b) {
      const int64_t offset = b * bucket_elements_;
      const at::Tensor bucket = grads.narrow(0, offset, std::min(bucket_elements_, n - offset));
      if (wire_) {
        const at::Tensor message = feedback_ ? feedback_->compress(bucket, offset) : quantize_message(*wire_, bucket);
        sum_dequantized(*wire_,
                        comm_.all_gather(message, Traffic::gradients,
                                         fmt::format("all-gather of quantized gradient bucket {}/{} ({})", b + 1,
                                                     buckets, at)),
                        bucket);
      } else {
        comm_.all_reduce_sum(bucket, Traffic::gradients,
                             fmt::format("all-reduce of gradient bucket {}/{} ({})", b + 1, buckets, at));
      }
    }
  }
  ++syncs_;
  return totals;
}

}  // namespace ripple::dist
