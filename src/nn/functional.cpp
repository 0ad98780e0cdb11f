#include "ripple/nn/functional.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "ripple/error.h"

namespace ripple::nn {

uint64_t ForwardContext::next_key() {
  const uint64_t key = mix64(mix64(seed ^ 0x5EEDull) ^ mix64(static_cast<uint64_t>(epoch) * 0x100000001B3ull + calls++));
  return batch == 0 ? key : mix64(key + static_cast<uint64_t>(batch) * 0x9E3779B97F4A7C15ull);
}

at::Tensor dropout_mask(int64_t n, double p, uint64_t key, at::ScalarType type) {
  at::Tensor mask = at::empty({n}, at::kFloat);
  float* m = mask.data_ptr<float>();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  // Keep when the top 24 bits, as a fraction, are >= p.
  const uint32_t threshold = static_cast<uint32_t>(p * 16777216.0);
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint32_t r = static_cast<uint32_t>(mix64(key + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull) >> 40);
      m[i] = r >= threshold ? scale : 0.0f;
    }
  });
  return type == at::kFloat ? mask : mask.to(type);
}

at::Tensor dropout(const at::Tensor& x, double p, ForwardContext& ctx) {
  if (!ctx.training || p <= 0.0) return x;
  const uint64_t key = ctx.next_key();
  return x * dropout_mask(x.numel(), p, key, x.scalar_type()).view(x.sizes());
}

bool is_known_activation(const std::string& n) {
  return n == "relu" || n == "elu" || n == "gelu" || n == "leaky_relu" || n == "tanh" || n == "identity";
}

at::Tensor activate(const at::Tensor& x, const std::string& n) {
  if (n == "relu") return at::relu(x);
  if (n == "elu") return at::elu(x);
  if (n == "gelu") return at::gelu(x);
  if (n == "leaky_relu") return at::leaky_relu(x, 0.01);
  if (n == "tanh") return at::tanh(x);
  if (n == "identity") return x;
  throw InputError("unknown activation '" + n + "' (expected relu, elu, gelu, leaky_relu, tanh, identity)");
}

}  // namespace ripple::nn
