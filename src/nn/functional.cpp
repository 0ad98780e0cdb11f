#include "ripple/nn/functional.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "ripple/error.h"

namespace ripple::nn {

uint64_t ForwardContext::next_key() {
  const uint64_t key = mix64(mix64(seed ^ 0x5EEDull) ^ mix64(static_cast<uint64_t>(epoch) * 0x100000001B3ull + calls++));
  return batch == 0 ? key : mix64(key + static_cast<uint64_t>(batch) * 0x9E3779B97F4A7C15ull);
}

namespace {

// MurmurHash3's 32-bit finalizer: a bijection with full avalanche, in 32-bit lanes that
// AVX2 multiplies eight at a time (a 64-bit mix per element cost a fifth of a mini-batch
// training step).
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

// Element i of the stream `key` is kept when its top 24 bits, as a fraction, are >= p.
// `for_each` visits [begin, end) in runs that share the high 32 bits of i, so the inner
// loop is plain 32-bit arithmetic the compiler vectorizes.
struct KeepRule {
  uint32_t k0, k1, threshold;
  KeepRule(uint64_t key, double p)
      : k0(static_cast<uint32_t>(key)), k1(static_cast<uint32_t>(key >> 32)),
        threshold(static_cast<uint32_t>(p * 16777216.0)) {}

  // f(offset from begin, n < 2^31, first low word, mixed high word) for each run.
  template <typename F>
  void for_each_run(int64_t begin, int64_t end, const F& f) const {
    for (int64_t run = begin; run < end;) {
      const int64_t stop = std::min<int64_t>({end, (run | 0xFFFFFFFFll) + 1, run + (1ll << 30)});
      const uint32_t high = k1 + static_cast<uint32_t>(static_cast<uint64_t>(run) >> 32) * 0x9E3779B9u;
      f(run - begin, stop - run, static_cast<uint32_t>(run) + k0, high);
      run = stop;
    }
  }
  // 1 or 0, as a signed int: int-to-float conversion vectorizes, a branch or select does not.
  int32_t keep(uint32_t low, uint32_t high) const { return (fmix32(fmix32(low) ^ high) >> 8) >= threshold; }
};

// out[i] = x[i] * (kept(i) ? scale : 0) for contiguous x, in one pass with no mask tensor;
// with kRelu, max(x[i], 0) in place of x[i] (ReLU then dropout, the same bits as two passes).
template <typename T, bool kRelu = false>
at::Tensor apply_mask(const at::Tensor& x, double p, uint64_t key) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty_like(in);
  const T* src = in.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  const KeepRule rule(key, p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  at::parallel_for(0, in.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    rule.for_each_run(begin, end, [&](int64_t offset, int64_t n, uint32_t low, uint32_t high) {
      const T* s = src + begin + offset;
      T* d = dst + begin + offset;
      const auto count = static_cast<uint32_t>(n);
      for (uint32_t j = 0; j < count; ++j) {
        const T v = kRelu ? std::max(s[j], T(0)) : s[j];
        d[j] = v * (static_cast<T>(rule.keep(low + j, high)) * scale);
      }
    });
  });
  return out;
}

at::Tensor apply_dropout(const at::Tensor& x, double p, uint64_t key) {
  if (x.scalar_type() == at::kFloat) return apply_mask<float>(x, p, key);
  if (x.scalar_type() == at::kDouble) return apply_mask<double>(x, p, key);
  return x * dropout_mask(x.numel(), p, key, x.scalar_type()).view(x.sizes());
}

// Dropout whose backward regenerates the mask from its key instead of saving it: the
// gradient is masked and scaled exactly like the input was.
struct CounterDropout : torch::autograd::Function<CounterDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double p, int64_t key) {
    ctx->saved_data["p"] = p;
    ctx->saved_data["key"] = key;
    return apply_dropout(x, p, static_cast<uint64_t>(key));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const double p = ctx->saved_data["p"].toDouble();
    const auto key = static_cast<uint64_t>(ctx->saved_data["key"].toInt());
    return {apply_dropout(grad[0], p, key), at::Tensor(), at::Tensor()};
  }
};

// d[i] = g[i] * (y[i] > 0 ? scale : 0): a select between two constants and a multiply,
// which the compiler vectorizes (a branch would mispredict on half the elements of a
// dropout pattern; restrict-qualified parameters, as captured pointers are not).
template <typename T>
void scale_where_positive(const T* __restrict__ g, const T* __restrict__ y, T* __restrict__ d, int64_t n, T scale) {
  for (int64_t i = 0; i < n; ++i) d[i] = g[i] * (y[i] > T(0) ? scale : T(0));
}

// The gradient of ReLU-then-dropout from its output y: an element passed both exactly when
// its output is positive (the scale is >= 1, so a positive input stays positive), and then
// its gradient is scaled like its value was. One pass, no mask to draw again.
template <typename T>
at::Tensor relu_mask_backward(const at::Tensor& grad, const at::Tensor& y, double p) {
  const at::Tensor g = grad.contiguous();
  at::Tensor out = at::empty_like(g);
  const T* gs = g.data_ptr<T>();
  const T* ys = y.data_ptr<T>();
  T* d = out.data_ptr<T>();
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  at::parallel_for(0, g.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    scale_where_positive(gs + begin, ys + begin, d + begin, end - begin, scale);
  });
  return out;
}

// ReLU then counter-based dropout, saving only its output (the backward needs no mask).
struct CounterReluDropout : torch::autograd::Function<CounterReluDropout> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double p, int64_t key) {
    const at::Tensor y = x.scalar_type() == at::kFloat ? apply_mask<float, true>(x, p, static_cast<uint64_t>(key))
                                                       : apply_mask<double, true>(x, p, static_cast<uint64_t>(key));
    ctx->saved_data["p"] = p;
    ctx->save_for_backward({y});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const double p = ctx->saved_data["p"].toDouble();
    const at::Tensor y = ctx->get_saved_variables()[0];
    const at::Tensor g = y.scalar_type() == at::kFloat ? relu_mask_backward<float>(grad[0], y, p)
                                                       : relu_mask_backward<double>(grad[0], y, p);
    return {g, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor dropout_mask(int64_t n, double p, uint64_t key, at::ScalarType type) {
  at::Tensor mask = at::empty({n}, at::kFloat);
  float* m = mask.data_ptr<float>();
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const KeepRule rule(key, p);
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    rule.for_each_run(begin, end, [&](int64_t offset, int64_t n, uint32_t low, uint32_t high) {
      float* run = m + begin + offset;
      const auto count = static_cast<uint32_t>(n);
      for (uint32_t j = 0; j < count; ++j) run[j] = static_cast<float>(rule.keep(low + j, high)) * scale;
    });
  });
  return type == at::kFloat ? mask : mask.to(type);
}

at::Tensor dropout(const at::Tensor& x, double p, ForwardContext& ctx) {
  if (!ctx.training || p <= 0.0) return x;
  const uint64_t key = ctx.next_key();
  if (p >= 1.0) return x * 0;
  return CounterDropout::apply(x, p, static_cast<int64_t>(key));
}

at::Tensor relu_dropout(const at::Tensor& x, double p, ForwardContext& ctx) {
  const bool fused = x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble;
  if (!ctx.training || p <= 0.0 || p >= 1.0 || !fused) return dropout(at::relu(x), p, ctx);
  return CounterReluDropout::apply(x, p, static_cast<int64_t>(ctx.next_key()));
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
