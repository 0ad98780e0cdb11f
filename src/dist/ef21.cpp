// EF21 with top-k compression. See src/dist/ef21.h.
#include "dist/ef21.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

namespace ripple::dist {

Ef21TopK::Ef21TopK(const std::vector<int64_t>& sizes, double ratio) : sizes_(sizes) {
  int64_t offset = 0;
  for (const int64_t size : sizes_) {
    offsets_.push_back(offset);
    // At least one entry of every non-empty tensor.
    const int64_t k =
        size == 0 ? 0 : std::clamp<int64_t>(static_cast<int64_t>(std::ceil(ratio * static_cast<double>(size))), 1, size);
    ks_.push_back(k);
    k_total_ += k;
    offset += size;
  }
  local_ = at::zeros({offset}, at::kFloat);
  global_ = at::zeros({offset}, at::kFloat);
}

at::Tensor Ef21TopK::compress(const at::Tensor& grad) {
  at::NoGradGuard no_grad;
  const at::Tensor difference = grad - local_;
  std::vector<at::Tensor> indices, values;
  for (size_t s = 0; s < sizes_.size(); ++s) {
    const at::Tensor slice = difference.narrow(0, offsets_[s], sizes_[s]);
    const at::Tensor top = std::get<1>(slice.abs().topk(ks_[s], 0, /*largest=*/true, /*sorted=*/false));
    values.push_back(slice.index_select(0, top));
    indices.push_back(top + offsets_[s]);
  }
  const at::Tensor index = at::cat(indices), value = at::cat(values);
  local_.index_add_(0, index, value);
  return at::cat({index.to(at::kInt), value.view(at::kInt)});
}

void Ef21TopK::decompress(const at::Tensor& messages, const at::Tensor& grad) {
  at::NoGradGuard no_grad;
  for (int64_t r = 0; r < messages.size(0); ++r) {
    const at::Tensor message = messages[r].contiguous();
    global_.index_add_(0, message.narrow(0, 0, k_total_).to(at::kLong),
                       message.narrow(0, k_total_, k_total_).view(at::kFloat));
  }
  grad.copy_(global_);
}

}  // namespace ripple::dist
