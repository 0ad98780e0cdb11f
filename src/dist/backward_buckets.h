// Gradient buckets that backward fills (internal to ddp, src/dist/data_parallel.h), so that
// each bucket's all-reduce starts while backward still computes the earlier layers'
// gradients, as PyTorch DDP's reducer does.
//
// The optimizer's flat gradient buffer is cut into buckets of whole parameters of about
// `bucket_elements` each, taken from the last parameter back (backward produces the last
// layers' gradients first). A hook after each parameter's gradient accumulation counts the
// gradients it received; a bucket is complete when each of its parameters has received as
// many as it did in the unit's first backward pass, which only counts. Buckets are launched
// (the `launch` callback: scale it and start its all-reduce) strictly in bucket order, so
// every rank starts the same collectives in the same order whatever order its hooks fire in;
// finish_pass launches what backward left (all of them on a rank without a batch).
//
// How it fails: autograd sums the gradients of a parameter used several times in one graph
// before accumulating them once, so a parameter receives more gradients than it did in the
// first pass only when a step runs backward more than once; its bucket would then have been
// sent before its last one, and finish_pass throws std::logic_error naming the parameter
// (such a loop needs dist.overlap_backward = false). A parameter that receives fewer (one
// unused in this step) only holds its bucket back to finish_pass. The hooks live as long as
// this object; destroy it before the parameters' model is rebuilt.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace ripple::dist {

class BackwardBuckets {
 public:
  // (offset, length) of the bucket in the flat gradient buffer, and its index.
  using Launch = std::function<void(int64_t offset, int64_t length, size_t bucket)>;
  // `params` in the order of `flat_grads` (FlatAdam's), each with its gradient a view of it.
  BackwardBuckets(const std::vector<at::Tensor>& params, const at::Tensor& flat_grads, int64_t bucket_elements,
                  Launch launch);
  ~BackwardBuckets();
  BackwardBuckets(const BackwardBuckets&) = delete;
  BackwardBuckets& operator=(const BackwardBuckets&) = delete;

  size_t size() const { return buckets_.size(); }
  // Before a backward pass (or, on a rank without a batch, before finish_pass alone).
  void begin_pass();
  // After it: launches every bucket not launched yet, in order. Throws std::logic_error (see
  // above) after launching them all, so every rank's collectives still match.
  void finish_pass();

  // Called by the hooks.
  void gradient_accumulated(size_t param);

 private:
  struct Bucket {
    int64_t offset = 0, length = 0;
  };
  void launch_ready();

  Launch launch_;
  std::vector<Bucket> buckets_;       // in launch order
  std::vector<size_t> bucket_of_;     // by parameter
  std::vector<int64_t> expected_;     // gradients per pass, by parameter (-1: first pass not seen)
  std::vector<int64_t> received_;     // this pass, by parameter
  std::vector<int64_t> waiting_on_;   // this pass, by bucket: parameters not complete yet
  size_t next_ = 0;                   // the next bucket to launch
  bool counting_ = true;              // this pass only counts (the first of the unit)
  int64_t too_many_ = -1;             // a parameter that received more than expected
  // Each removes its hook; holding its accumulator keeps the hook alive until then.
  std::vector<std::function<void()>> remove_hooks_;
};

}  // namespace ripple::dist
