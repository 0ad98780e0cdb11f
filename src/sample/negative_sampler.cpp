// Uniform negative pairs for link prediction. See include/ripple/sample.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "ripple/error.h"
#include "ripple/nn/context.h"
#include "ripple/sample.h"

namespace ripple {

at::Tensor sample_negative_pairs(int64_t num_nodes, const at::Tensor& positives, int64_t per_positive, bool per_source,
                                 uint64_t key) {
  if (!positives.defined() || positives.dim() != 2 || positives.size(0) != 2 || positives.scalar_type() != at::kLong) {
    throw InputError("sample_negative_pairs: positives must be an int64 [2, B] tensor");
  }
  if (num_nodes < 1 || per_positive < 1) {
    throw InputError(fmt::format("sample_negative_pairs: need num_nodes >= 1 and per_positive >= 1, got {} and {}",
                                 num_nodes, per_positive));
  }
  const int64_t count = positives.size(1) * per_positive;
  at::Tensor out = at::empty({2, count}, at::kLong);
  const at::Tensor sources = positives[0].contiguous();
  const int64_t* source = sources.data_ptr<int64_t>();
  int64_t* u = out[0].data_ptr<int64_t>();
  int64_t* v = out[1].data_ptr<int64_t>();
  const auto n = static_cast<unsigned __int128>(num_nodes);
  at::parallel_for(0, count, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t r1 = nn::mix64(key + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull);
      v[i] = static_cast<int64_t>((static_cast<unsigned __int128>(r1) * n) >> 64);
      if (per_source) {
        u[i] = source[i / per_positive];
      } else {
        const uint64_t r2 = nn::mix64(r1 ^ 0x5851F42D4C957F2Dull);
        u[i] = static_cast<int64_t>((static_cast<unsigned __int128>(r2) * n) >> 64);
      }
    }
  });
  return out;
}

}  // namespace ripple
