// edge_softmax on the CPU: softmax over the incoming edges of each destination, per column,
// and its backward; registered here as the CPU kernels of the ops src/ops/edge_softmax.cpp
// declares.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ops/cpu/functors.h"
#include "ops/cpu/graph_check.h"

namespace ripple::ops::cpu {
namespace {

// Checks the graph arrays and that `x` has one row per edge; returns eids (or undefined).
at::Tensor checked_eids(const char* op, const at::Tensor& indptr, const c10::optional<at::Tensor>& eids_opt,
                        const at::Tensor& x, const char* name) {
  at::Tensor eids;
  if (eids_opt.has_value() && eids_opt->defined()) eids = eids_opt->contiguous();
  const GraphExtent graph = check_graph(op, indptr, at::Tensor(), eids, -1);
  check_operand(op, name, x, detail::Target::kEdge, graph);
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), op, ": ", name, " must be floating point, got ", x.scalar_type());
  return eids;
}

at::Tensor edge_softmax_forward(const at::Tensor& indptr_in, const c10::optional<at::Tensor>& eids_opt,
                                const at::Tensor& scores_in) {
  const at::Tensor eids = checked_eids("edge_softmax", indptr_in, eids_opt, scores_in, "scores");
  const at::Tensor indptr = indptr_in.contiguous(), x = scores_in.contiguous();
  const int64_t num_dst = indptr.numel() - 1;
  const int64_t width = x.numel() / std::max<int64_t>(x.size(0), 1);
  at::Tensor out = at::empty_like(x);
  count_output(out);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "edge_softmax", [&] {
    using T = scalar_t;
    AT_DISPATCH_INDEX_TYPES(indptr.scalar_type(), "edge_softmax_index", [&] {
      const index_t* ip = indptr.data_ptr<index_t>();
      const index_t* ep = eids.defined() ? eids.data_ptr<index_t>() : nullptr;
      const T* xp = x.data_ptr<T>();
      T* op = out.data_ptr<T>();
      parallel_for_balanced_rows(ip, num_dst, width, [&](int64_t begin, int64_t end) {
        std::vector<T> mx(width), sum(width);
        for (int64_t v = begin; v < end; ++v) {
          std::fill(mx.begin(), mx.end(), -std::numeric_limits<T>::infinity());
          std::fill(sum.begin(), sum.end(), T(0));
          for (int64_t p = ip[v]; p < ip[v + 1]; ++p) {
            const T* row = xp + (ep ? ep[p] : p) * width;
            for (int64_t k = 0; k < width; ++k) mx[k] = std::max(mx[k], row[k]);
          }
          for (int64_t p = ip[v]; p < ip[v + 1]; ++p) {
            const int64_t e = ep ? ep[p] : p;
            for (int64_t k = 0; k < width; ++k) {
              const T ex = std::exp(xp[e * width + k] - mx[k]);
              op[e * width + k] = ex;
              sum[k] += ex;
            }
          }
          for (int64_t p = ip[v]; p < ip[v + 1]; ++p) {
            const int64_t e = ep ? ep[p] : p;
            for (int64_t k = 0; k < width; ++k) op[e * width + k] /= sum[k];
          }
        }
      });
    });
  });
  return out;
}

at::Tensor edge_softmax_backward(const at::Tensor& indptr_in, const c10::optional<at::Tensor>& eids_opt,
                                 const at::Tensor& out_in, const at::Tensor& grad_in) {
  const at::Tensor eids = checked_eids("edge_softmax backward", indptr_in, eids_opt, out_in, "out");
  TORCH_CHECK(out_in.sizes() == grad_in.sizes(), "edge_softmax backward: grad shape ", grad_in.sizes(),
              " differs from output shape ", out_in.sizes());
  const at::Tensor indptr = indptr_in.contiguous(), y = out_in.contiguous(), g = grad_in.contiguous();
  const int64_t num_dst = indptr.numel() - 1;
  const int64_t width = y.numel() / std::max<int64_t>(y.size(0), 1);
  at::Tensor grad_x = at::empty_like(y);
  count_output(g);  // read once, like the output `out` the check counted
  count_output(grad_x);
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "edge_softmax_backward", [&] {
    using T = scalar_t;
    AT_DISPATCH_INDEX_TYPES(indptr.scalar_type(), "edge_softmax_backward_index", [&] {
      const index_t* ip = indptr.data_ptr<index_t>();
      const index_t* ep = eids.defined() ? eids.data_ptr<index_t>() : nullptr;
      const T* yp = y.data_ptr<T>();
      const T* gp = g.data_ptr<T>();
      T* dp = grad_x.data_ptr<T>();
      parallel_for_balanced_rows(ip, num_dst, width, [&](int64_t begin, int64_t end) {
        std::vector<T> dotp(width);
        for (int64_t v = begin; v < end; ++v) {
          std::fill(dotp.begin(), dotp.end(), T(0));
          for (int64_t p = ip[v]; p < ip[v + 1]; ++p) {
            const int64_t e = ep ? ep[p] : p;
            for (int64_t k = 0; k < width; ++k) dotp[k] += yp[e * width + k] * gp[e * width + k];
          }
          for (int64_t p = ip[v]; p < ip[v + 1]; ++p) {
            const int64_t e = ep ? ep[p] : p;
            for (int64_t k = 0; k < width; ++k) {
              dp[e * width + k] = yp[e * width + k] * (gp[e * width + k] - dotp[k]);
            }
          }
        }
      });
    });
  });
  return grad_x;
}

}  // namespace

// Inference (no autograd) runs the forward kernel for ripple::edge_softmax itself.
TORCH_LIBRARY_IMPL(ripple, CPU, m) {
  m.impl("edge_softmax_forward", edge_softmax_forward);
  m.impl("edge_softmax_backward", edge_softmax_backward);
  m.impl("edge_softmax", edge_softmax_forward);
}

}  // namespace ripple::ops::cpu
