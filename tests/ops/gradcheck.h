// Central finite-difference gradient check for tests (double precision).
#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace ripple::testing {

// Compares d(sum(f(x) * w))/dx from autograd with central differences, for a fixed random
// weight w; returns the largest absolute difference. Checks at most `max_entries` entries.
inline double gradcheck_max_error(const std::function<at::Tensor(const at::Tensor&)>& f,
                                  const at::Tensor& x0, int64_t max_entries = 64, double eps = 1e-6) {
  at::Tensor x = x0.detach().clone().set_requires_grad(true);
  at::Tensor y = f(x);
  at::Tensor w = at::linspace(-1.0, 1.0, y.numel(), y.options()).view(y.sizes()).detach();
  (y * w).sum().backward();
  const at::Tensor analytic = x.grad().clone();
  double worst = 0;
  const int64_t n = x.numel();
  const int64_t step = std::max<int64_t>(1, n / max_entries);
  at::Tensor flat = x0.detach().clone().contiguous();
  double* p = flat.data_ptr<double>();
  for (int64_t i = 0; i < n; i += step) {
    const double keep = p[i];
    p[i] = keep + eps;
    const double up = (f(flat) * w).sum().item<double>();
    p[i] = keep - eps;
    const double down = (f(flat) * w).sum().item<double>();
    p[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    worst = std::max(worst, std::abs(numeric - analytic.view(-1)[i].item<double>()));
  }
  return worst;
}

}  // namespace ripple::testing
