// Fused backward of gspmm(mul, sum) with a scalar edge weight per head, x[u] * w[e]: the GCN
// and GAT aggregation when both the node features and the edge weights need gradients (GAT's
// attention). Unfused, it is two passes that each gather an [E, H, D]-sized stream of rows:
//   grad_x = reverse spmm(mul, sum)(grad, w)          gathers grad[v] for every edge
//   grad_w = sddmm(dot)(x, grad)                      gathers x[u] for every edge
// Walking the reverse graph (rows = sources u), x[u] stays in cache for all of u's edges, so
// one gather of grad[v] per edge serves both: grad_x[u] += w[e] * grad[v] and
// grad_w[e] = <x[u], grad[v]> per head. The summation order of each result is the one of the
// unfused kernels, so results are bit-identical to them.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "ops/cpu/functors.h"
#include "ops/cpu/graph_check.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/memory_access.h"

namespace ripple::ops::cpu {
namespace {

template <typename T, typename I>
void mul_sum_backward_rows(const I* indptr, const I* indices, const I* eids, int64_t num_src, const T* grad,
                           const T* x, const T* w, T* grad_x, T* grad_w, int64_t heads, int64_t dim) {
  const int64_t len = heads * dim;
  parallel_for_balanced_rows(indptr, num_src, len, [&](int64_t begin, int64_t end) {
    const int64_t last_edge = static_cast<int64_t>(indptr[end]) - 1;
    const int64_t distance = prefetch_edges(len * static_cast<int64_t>(sizeof(T)));
    std::vector<T> acc(static_cast<size_t>(len));
    for (int64_t u = begin; u < end; ++u) {
      T* __restrict__ o = acc.data();
      std::fill(o, o + len, T(0));
      const T* __restrict__ xu = x + u * len;
      for (int64_t p = indptr[u]; p < indptr[u + 1]; ++p) {
        const int64_t ahead = std::min(p + distance, last_edge);
        prefetch_row<T, I>(grad, indices[ahead], len);
        if (eids) {  // edge rows in reverse order are random too: the weight read, the gradient written
          const int64_t e_ahead = static_cast<int64_t>(eids[ahead]) * heads;
          __builtin_prefetch(w + e_ahead, 0, 3);
          __builtin_prefetch(grad_w + e_ahead, 1, 3);
        }
        const T* __restrict__ gv = grad + static_cast<int64_t>(indices[p]) * len;
        const int64_t e = eids ? static_cast<int64_t>(eids[p]) : p;
        for (int64_t h = 0; h < heads; ++h) {
          const T wh = w[e * heads + h];
          T* __restrict__ oh = o + h * dim;
          const T* __restrict__ gh = gv + h * dim;
          for (int64_t d = 0; d < dim; ++d) oh[d] += gh[d] * wh;
          grad_w[e * heads + h] = dot_product(xu + h * dim, gh, dim);
        }
      }
      std::copy(o, o + len, grad_x + u * len);
    }
  });
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> gspmm_mul_sum_backward(const at::Tensor& rev_indptr, const at::Tensor& rev_indices,
                                                          const c10::optional<at::Tensor>& rev_eids_opt,
                                                          const at::Tensor& grad_in, const at::Tensor& x_in,
                                                          const at::Tensor& w_in) {
  // The reverse graph: rows are sources of the forward graph, indices its destinations.
  at::Tensor eids;
  if (rev_eids_opt.has_value() && rev_eids_opt->defined()) eids = rev_eids_opt->contiguous();
  TORCH_CHECK(grad_in.dim() >= 1, "gspmm_mul_sum_backward: grad must have a row dimension");
  const GraphExtent graph = check_graph("gspmm_mul_sum_backward", rev_indptr, rev_indices, eids, grad_in.size(0));
  const int64_t num_src = graph.num_dst, num_edges = graph.num_edges;
  const at::Tensor grad = grad_in.contiguous(), x = x_in.contiguous(), w = w_in.contiguous();
  TORCH_CHECK(grad.dim() >= 2 && x.dim() == grad.dim() && x.sizes().slice(1) == grad.sizes().slice(1) &&
                  x.size(0) == num_src,
              "gspmm_mul_sum_backward: x ", x.sizes(), " must be [", num_src, ", ...] with grad's row shape ",
              grad.sizes());
  TORCH_CHECK(w.size(0) == num_edges && w.size(-1) == 1 && w.dim() == grad.dim() &&
                  w.sizes().slice(1, w.dim() - 2) == grad.sizes().slice(1, grad.dim() - 2),
              "gspmm_mul_sum_backward: w ", w.sizes(), " must be [", num_edges,
              ", heads..., 1] matching grad ", grad.sizes());
  TORCH_CHECK(grad.scalar_type() == x.scalar_type() && w.scalar_type() == x.scalar_type(),
              "gspmm_mul_sum_backward: grad, x and w must share a dtype");
  const int64_t dim = grad.size(-1);
  const int64_t heads = w.numel() / std::max<int64_t>(num_edges, 1);
  at::Tensor grad_x = at::empty_like(x), grad_w = at::empty_like(w);
  // No-reuse traffic: a grad row gathered per edge, x and w read once, both outputs written once.
  check_operand("gspmm_mul_sum_backward", "grad", grad, detail::Target::kSrc, graph);
  count_output(x);
  count_output(w);
  count_output(grad_x);
  count_output(grad_w);
  const at::Tensor ip = rev_indptr.contiguous(), ix = rev_indices.contiguous();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gspmm_mul_sum_backward", [&] {
    AT_DISPATCH_INDEX_TYPES(ip.scalar_type(), "gspmm_mul_sum_backward_index", [&] {
      mul_sum_backward_rows<scalar_t, index_t>(ip.data_ptr<index_t>(), ix.data_ptr<index_t>(),
                                               eids.defined() ? eids.data_ptr<index_t>() : nullptr, num_src,
                                               grad.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                                               w.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(),
                                               grad_w.data_ptr<scalar_t>(), heads, dim);
    });
  });
  return {grad_x, grad_w};
}

}  // namespace ripple::ops::cpu
