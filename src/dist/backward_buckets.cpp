// Gradient buckets that backward fills. See src/dist/backward_buckets.h.
#include "dist/backward_buckets.h"

#include <fmt/format.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <stdexcept>

namespace ripple::dist {
namespace {

// Runs after a parameter's AccumulateGrad: its gradient buffer holds what it received.
class AccumulatedHook final : public torch::autograd::FunctionPostHook {
 public:
  AccumulatedHook(BackwardBuckets* owner, size_t param) : owner_(owner), param_(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    owner_->gradient_accumulated(param_);
    return outputs;
  }

 private:
  BackwardBuckets* owner_;
  size_t param_;
};

}  // namespace

BackwardBuckets::BackwardBuckets(const std::vector<at::Tensor>& params, const at::Tensor& flat_grads,
                                 int64_t bucket_elements, Launch launch)
    : launch_(std::move(launch)),
      bucket_of_(params.size()),
      expected_(params.size(), -1),
      received_(params.size(), 0) {
  if (params.empty()) throw std::logic_error("BackwardBuckets: no parameters");
  const auto* base = static_cast<const char*>(flat_grads.data_ptr());
  // From the last parameter back; a bucket closes once it holds bucket_elements or more.
  bool open = false;  // a bucket has parameters and is not closed yet
  int64_t begin = 0, end = 0;
  for (size_t i = params.size(); i-- > 0;) {
    const at::Tensor& grad = params[i].grad();
    if (!grad.defined() || !grad.is_contiguous()) {
      throw std::logic_error("BackwardBuckets: every parameter needs its gradient as a view of the flat buffer");
    }
    const int64_t offset = (static_cast<const char*>(grad.data_ptr()) - base) / static_cast<int64_t>(sizeof(float));
    if (!open) {
      end = offset + grad.numel();
    } else if (offset + grad.numel() != begin) {
      throw std::logic_error("BackwardBuckets: the parameters' gradients must lie in order in the flat buffer");
    }
    begin = offset;
    open = true;
    bucket_of_[i] = buckets_.size();
    if (end - begin >= bucket_elements || i == 0) {
      buckets_.push_back({begin, end - begin});
      open = false;
    }
  }
  waiting_on_.assign(buckets_.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(params[i]);
    if (!accumulator) throw std::logic_error("BackwardBuckets: a parameter is not a leaf that requires grad");
    const uintptr_t key = accumulator->add_post_hook(std::make_unique<AccumulatedHook>(this, i));
    remove_hooks_.emplace_back([accumulator, key] { accumulator->del_post_hook(key); });
  }
}

BackwardBuckets::~BackwardBuckets() {
  for (const auto& remove : remove_hooks_) remove();
}

void BackwardBuckets::begin_pass() {
  std::fill(received_.begin(), received_.end(), 0);
  next_ = 0;
  too_many_ = -1;
  counting_ = expected_.front() < 0;
  if (counting_) return;
  std::fill(waiting_on_.begin(), waiting_on_.end(), 0);
  for (size_t i = 0; i < expected_.size(); ++i) {
    if (expected_[i] > 0) ++waiting_on_[bucket_of_[i]];
  }
  launch_ready();
}

void BackwardBuckets::gradient_accumulated(size_t param) {
  const int64_t received = ++received_[param];
  if (counting_) return;
  if (received == expected_[param]) {
    if (--waiting_on_[bucket_of_[param]] == 0) launch_ready();
  } else if (received > expected_[param] && too_many_ < 0) {
    too_many_ = static_cast<int64_t>(param);
  }
}

void BackwardBuckets::launch_ready() {
  while (next_ < buckets_.size() && waiting_on_[next_] == 0) {
    launch_(buckets_[next_].offset, buckets_[next_].length, next_);
    ++next_;
  }
}

void BackwardBuckets::finish_pass() {
  for (; next_ < buckets_.size(); ++next_) launch_(buckets_[next_].offset, buckets_[next_].length, next_);
  if (counting_) {
    // The first pass that ran backward sets the counts (a rank without a batch counts nothing).
    const bool backward_ran = std::any_of(received_.begin(), received_.end(), [](int64_t n) { return n > 0; });
    if (backward_ran) expected_ = received_;
    counting_ = false;
  }
  if (too_many_ >= 0) {
    const auto p = static_cast<size_t>(too_many_);
    throw std::logic_error(fmt::format("dist.overlap_backward: parameter {} received {} gradients in this backward "
                                       "pass against {} in the first, so its bucket was sent before the last one; "
                                       "train this model with dist.overlap_backward = false",
                                       p, received_[p], expected_[p]));
  }
}

}  // namespace ripple::dist
