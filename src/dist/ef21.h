// EF21 error feedback with top-k compression (Richtarik, Sokolov, Fatkhullin 2021), per
// parameter tensor (internal): what dist.compress = "ef21-topk" sends instead of the whole
// gradient.
//
// Each rank keeps an estimate of its own gradient (local); every rank keeps the same sum of
// all ranks' estimates (global). Per step a rank sends c = top-k(gradient - local), the k
// largest entries by magnitude of each parameter tensor's slice (k = max(1, ceil(ratio *
// size))), and adds c to its local estimate; every rank adds every rank's c, in rank
// order, to the global estimate, which is the gradient the optimizer then uses. Unlike
// plain top-k the error is fed back, so nothing is dropped for good: a constant gradient is
// sent exactly after ceil(size / k) steps.
//
// A message is int32 [2k]: k flat indices, then the k float32 values' bits. Sums are
// formed by index-add on every rank (an all-gather of messages, not an all-reduce: sums of
// sparse or quantized blocks would not fit the wire format). Not thread-safe.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace ripple::dist {

class Ef21TopK {
 public:
  // `sizes`: the element count of each parameter tensor, in the flat gradient's order.
  Ef21TopK(const std::vector<int64_t>& sizes, double ratio);
  // A copy would share the estimates' storage (tensors are handles): moves only.
  Ef21TopK(const Ef21TopK&) = delete;
  Ef21TopK& operator=(const Ef21TopK&) = delete;
  Ef21TopK(Ef21TopK&&) = default;
  Ef21TopK& operator=(Ef21TopK&&) = default;
  int64_t entries_per_message() const { return k_total_; }
  // This rank's message for its gradient `grad` (flat float32); updates the local estimate.
  at::Tensor compress(const at::Tensor& grad);
  // Every rank's messages, [ranks, 2k] in rank order: adds them to the global estimate and
  // writes it into `grad`.
  void decompress(const at::Tensor& messages, const at::Tensor& grad);
  const at::Tensor& local_estimate() const { return local_; }
  const at::Tensor& global_estimate() const { return global_; }

 private:
  std::vector<int64_t> offsets_, sizes_, ks_;
  int64_t k_total_ = 0;
  at::Tensor local_, global_;
};

}  // namespace ripple::dist
