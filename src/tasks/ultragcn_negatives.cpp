// UltraGCN's negative term, fused. See src/tasks/ultragcn_negatives.h.
#include "tasks/ultragcn_negatives.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace ripple::tasks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// How far ahead (in negatives) the rows of the next items are prefetched.
constexpr int64_t kPrefetchDistance = 8;

template <typename T>
T dot(const T* __restrict__ a, const T* __restrict__ b, int64_t d) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < d; ++k) s += a[k] * b[k];
  return s;
}

template <typename T>
void axpy(T alpha, const T* __restrict__ x, T* __restrict__ y, int64_t d) {
#pragma omp simd
  for (int64_t k = 0; k < d; ++k) y[k] += alpha * x[k];
}

// log(1 + t) for t = exp(-|s|) in (0, 1]. In float, log(1 + t) rather than log1p: glibc's
// log1pf took 30% of the kernel, logf half of that. Each term's absolute error stays within
// about 1e-7 (the rounding of 1 + t; a score below -16 adds 0 instead of its exp(s)); the
// loss is only reported, and the gradient does not use this value.
inline float log_one_plus(float t) { return std::log(1.0f + t); }
inline double log_one_plus(double t) { return std::log1p(t); }

// The problem and its outputs, as raw pointers for the kernel.
template <typename T>
struct NegativePass {
  const T* embedding;  // [num_users + num_items, d]
  int64_t d, num_users, batch, negatives;
  const int64_t* users;  // [batch]
  const int64_t* items;  // [batch * negatives]
  const float* user_beta;
  const float* item_beta;
  T base, degree, scale;
  double* row_loss;  // [batch]
  T* coefficient;    // [batch * negatives]: d loss / d score, or null without gradient
  T* user_grad;      // [batch, d], or null without gradient
};

// Pass 1, rows [begin, end) of the batch: each negative's score, loss and d loss / d score,
// and the gradient of each row's user embedding.
template <typename T>
void score_rows(const NegativePass<T>& p, int64_t begin, int64_t end) {
  const int64_t d = p.d, n = p.negatives;
  const T* item_rows = p.embedding + p.num_users * d;
  const T per_negative = p.scale / static_cast<T>(n);
  for (int64_t b = begin; b < end; ++b) {
    const int64_t u = p.users[b];
    const T* eu = p.embedding + u * d;
    const int64_t* row_items = p.items + b * n;
    const T user_weight = p.degree * static_cast<T>(p.user_beta[u]);
    T* gu = p.user_grad != nullptr ? p.user_grad + b * d : nullptr;
    if (gu != nullptr) std::fill(gu, gu + d, T(0));
    double loss = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (j + kPrefetchDistance < n) __builtin_prefetch(item_rows + row_items[j + kPrefetchDistance] * d);
      const int64_t i = row_items[j];
      const T* ei = item_rows + i * d;
      const T s = dot(eu, ei, d);
      const T w = p.base + user_weight * static_cast<T>(p.item_beta[i]);
      // softplus(s) = max(s, 0) + log1p(exp(-|s|)); sigmoid(s) from the same exponential.
      const T t = std::exp(-std::abs(s));
      loss += static_cast<double>(w * (std::max(s, T(0)) + log_one_plus(t)));
      if (gu == nullptr) continue;
      const T g = w * (s >= 0 ? T(1) / (T(1) + t) : t / (T(1) + t)) * per_negative;
      p.coefficient[b * n + j] = g;
      axpy(g, ei, gu, d);
    }
    p.row_loss[b] = loss * static_cast<double>(p.scale) / static_cast<double>(n);
  }
}

// Pass 2: the item gradients of items [first, last), item_grad [num_items, d]. Every pass
// reads all the negatives in batch order and keeps its own items, so each item's terms are
// added in the same order whatever the number of passes.
template <typename T>
void add_item_gradients(const NegativePass<T>& p, int64_t first, int64_t last, T* item_grad) {
  const int64_t d = p.d, n = p.negatives;
  const auto width = static_cast<uint64_t>(last - first);
  for (int64_t b = 0; b < p.batch; ++b) {
    const T* eu = p.embedding + p.users[b] * d;
    const int64_t* row_items = p.items + b * n;
    const T* row_coefficient = p.coefficient + b * n;
    for (int64_t j = 0; j < n; ++j) {
      if (j + kPrefetchDistance < n) {
        const int64_t ahead = row_items[j + kPrefetchDistance];
        if (static_cast<uint64_t>(ahead - first) < width) __builtin_prefetch(item_grad + ahead * d, 1);
      }
      const int64_t i = row_items[j];
      if (static_cast<uint64_t>(i - first) < width) axpy(row_coefficient[j], eu, item_grad + i * d, d);
    }
  }
}

// Buffers kept between batches on this thread: a fresh 18 MB gradient a batch costs its
// page faults (the kernel zeroes each new page), more than a fill of a reused one.
template <typename T>
struct Scratch {
  at::Tensor grad;  // reused while nothing else holds it
  std::vector<T> coefficient, user_grad;
  std::vector<double> row_loss;
};

template <typename T>
Scratch<T>& scratch() {
  thread_local Scratch<T> s;
  return s;
}

// A zero-filled gradient like `embedding`: the cached one when no one else holds it or a
// view of it.
template <typename T>
at::Tensor zeroed_gradient(const at::Tensor& embedding) {
  at::Tensor& cached = scratch<T>().grad;
  if (cached.defined() && cached.use_count() == 1 && cached.storage().use_count() == 1 &&
      cached.sizes() == embedding.sizes()) {
    T* g = cached.data_ptr<T>();
    const int64_t count = cached.numel();
    at::parallel_for(0, count, 1 << 16, [&](int64_t begin, int64_t end) {
      std::memset(g + begin, 0, static_cast<size_t>(end - begin) * sizeof(T));
    });
    return cached;
  }
  cached = at::zeros_like(embedding, at::MemoryFormat::Contiguous);
  return cached;
}

void check_inputs(const at::Tensor& embedding, int64_t num_users, const at::Tensor& users, const at::Tensor& items,
                  const at::Tensor& user_beta, const at::Tensor& item_beta) {
  TORCH_CHECK(embedding.is_cpu() && users.is_cpu() && items.is_cpu() && user_beta.is_cpu() && item_beta.is_cpu(),
              "ultragcn_negative_loss: a CPU kernel; every tensor must be on the CPU");
  TORCH_CHECK(embedding.dim() == 2 && (embedding.scalar_type() == at::kFloat || embedding.scalar_type() == at::kDouble),
              "ultragcn_negative_loss: embedding must be a float32 or float64 matrix");
  const int64_t num_items = embedding.size(0) - num_users;
  TORCH_CHECK(num_users >= 0 && num_items > 0, "ultragcn_negative_loss: embedding has ", embedding.size(0),
              " rows, fewer than num_users + 1 = ", num_users + 1);
  TORCH_CHECK(users.dim() == 1 && users.scalar_type() == at::kLong, "ultragcn_negative_loss: users must be int64 [B]");
  TORCH_CHECK(items.dim() == 1 && items.scalar_type() == at::kLong && users.numel() > 0 &&
                  items.numel() % users.numel() == 0 && items.numel() > 0,
              "ultragcn_negative_loss: items must be int64 [B * n] with n >= 1, B = ", users.numel(), ", got ",
              items.numel());
  TORCH_CHECK(user_beta.dim() == 1 && user_beta.scalar_type() == at::kFloat && user_beta.numel() == num_users,
              "ultragcn_negative_loss: user_beta must be float32 [", num_users, "]");
  TORCH_CHECK(item_beta.dim() == 1 && item_beta.scalar_type() == at::kFloat && item_beta.numel() == num_items,
              "ultragcn_negative_loss: item_beta must be float32 [", num_items, "]");
  TORCH_CHECK(users.min().item<int64_t>() >= 0 && users.max().item<int64_t>() < num_users,
              "ultragcn_negative_loss: a user id is outside [0, ", num_users, ")");
  TORCH_CHECK(items.min().item<int64_t>() >= 0 && items.max().item<int64_t>() < num_items,
              "ultragcn_negative_loss: an item id is outside [0, ", num_items, ")");
}

// The loss (float64 scalar) and, with `with_grad`, d loss / d embedding.
template <typename T>
std::pair<double, at::Tensor> negative_loss_and_grad(const at::Tensor& embedding, int64_t num_users,
                                                     const at::Tensor& users, const at::Tensor& items,
                                                     const at::Tensor& user_beta, const at::Tensor& item_beta,
                                                     double base, double degree, double scale, bool with_grad) {
  const int64_t batch = users.numel(), d = embedding.size(1);
  const int64_t num_items = embedding.size(0) - num_users;
  Scratch<T>& s = scratch<T>();
  s.row_loss.resize(static_cast<size_t>(batch));
  at::Tensor grad;
  if (with_grad) {
    grad = zeroed_gradient<T>(embedding);
    s.coefficient.resize(static_cast<size_t>(items.numel()));
    s.user_grad.resize(static_cast<size_t>(batch * d));
  }
  const NegativePass<T> p{embedding.data_ptr<T>(), d, num_users, batch, items.numel() / batch,
                          users.data_ptr<int64_t>(), items.data_ptr<int64_t>(), user_beta.data_ptr<float>(),
                          item_beta.data_ptr<float>(), static_cast<T>(base), static_cast<T>(degree),
                          static_cast<T>(scale), s.row_loss.data(), with_grad ? s.coefficient.data() : nullptr,
                          with_grad ? s.user_grad.data() : nullptr};
  at::parallel_for(0, batch, 8, [&](int64_t begin, int64_t end) { score_rows(p, begin, end); });
  if (with_grad) {
    T* g = grad.data_ptr<T>();
    const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), num_items));
    at::parallel_for(0, threads, 1, [&](int64_t first, int64_t last) {
      for (int64_t t = first; t < last; ++t) {
        add_item_gradients(p, num_items * t / threads, num_items * (t + 1) / threads, g + num_users * d);
      }
    });
    for (int64_t b = 0; b < batch; ++b) axpy(T(1), p.user_grad + b * d, g + p.users[b] * d, d);
  }
  double total = 0;
  for (const double l : s.row_loss) total += l;
  return {total, grad};
}

class NegativeLossFunction : public torch::autograd::Function<NegativeLossFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& embedding, int64_t num_users,
                            const at::Tensor& users, const at::Tensor& items, const at::Tensor& user_beta,
                            const at::Tensor& item_beta, double base, double degree, double scale,
                            bool with_grad) {
    std::pair<double, at::Tensor> result;
    AT_DISPATCH_FLOATING_TYPES(embedding.scalar_type(), "ultragcn_negative_loss", [&] {
      result = negative_loss_and_grad<scalar_t>(embedding, num_users, users, items, user_beta, item_beta, base,
                                                degree, scale, with_grad);
    });
    if (with_grad) ctx->saved_data["grad"] = result.second;
    return at::scalar_tensor(result.first, embedding.options());
  }

  // Hands over the gradient built in forward (scaled in place when the incoming gradient
  // is not 1), so a second backward through a retained graph is refused, not wrong.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->saved_data.find("grad");
    TORCH_CHECK(saved != ctx->saved_data.end(),
                "ultragcn_negative_loss: backward ran twice through the same graph (retain_graph is not supported)");
    at::Tensor grad = saved->second.toTensor();
    ctx->saved_data.erase(saved);
    if (!(grads[0].item<double>() == 1.0)) grad.mul_(grads[0]);
    return {grad,         at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor ultragcn_negative_loss(const at::Tensor& embedding, int64_t num_users, const at::Tensor& users,
                                  const at::Tensor& items, const at::Tensor& user_beta, const at::Tensor& item_beta,
                                  double base, double degree, double scale) {
  check_inputs(embedding, num_users, users, items, user_beta, item_beta);
  const bool with_grad = embedding.requires_grad() && at::GradMode::is_enabled();
  return NegativeLossFunction::apply(embedding.contiguous(), num_users, users.contiguous(), items.contiguous(),
                                     user_beta.contiguous(), item_beta.contiguous(), base, degree, scale, with_grad);
}

}  // namespace ripple::tasks
