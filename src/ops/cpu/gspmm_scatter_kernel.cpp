// The gradient of gspmm(copy_lhs, sum) towards its sources, scattered along the forward
// graph's own CSC instead of gathered over its reverse: out[u] = the sum of grad[v] over the
// edges (u, v). For a graph made for one call whose few sources fan out to many
// destinations (the common-neighbour graph of a batch of pairs: 4,267 nodes, 24,576 pairs,
// 4.6 million edges), building the reverse view is a second pass over every edge, and the
// gather over it reads a grad row from a matrix far larger than a cache per edge.
//
// Here each thread owns a slab of columns, so no two threads write the same element, and
// walks the destinations in order, adding grad[v]'s slab into u's sums for each edge. The
// sums live in a buffer of the thread's own with rows contiguous (the slabs of out's rows,
// 1 KiB apart, would use half of L2's sets), taken in blocks small enough to stay in L2
// (with ascending rows, a cursor per destination marks where the next block starts), then
// copied into out. Each u receives its edges in ascending v, as the reverse graph lists
// them: the sums are the same bits as the gather's, whatever the thread count.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ripple/graph.h"

namespace ripple::ops::cpu {
namespace {

// A slab's block of output rows is kept within this many bytes (half of a 512 KiB L2).
constexpr int64_t kScatterBlockBytes = int64_t{256} << 10;
constexpr int64_t kCacheLineBytes = 64;

template <typename T, typename I>
void scatter_sum(const I* indptr, const I* indices, int64_t num_dst, int64_t num_src, const T* grad, int64_t len,
                 bool rows_ascending, T* out) {
  const int64_t lanes = kCacheLineBytes / static_cast<int64_t>(sizeof(T));
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t slab = (((len + threads - 1) / threads + lanes - 1) / lanes) * lanes;
  const int64_t slabs = (len + slab - 1) / slab;
  const int64_t block_rows =
      rows_ascending ? std::max<int64_t>(1, kScatterBlockBytes / (slab * static_cast<int64_t>(sizeof(T)))) : num_src;
  at::parallel_for(0, slabs, 1, [&](int64_t slab_begin, int64_t slab_end) {
    std::vector<I> cursor(static_cast<size_t>(num_dst));
    std::vector<T> sums;  // the slab's columns of every output row, rows contiguous
    for (int64_t s = slab_begin; s < slab_end; ++s) {
      const int64_t c0 = s * slab, width = std::min(len, c0 + slab) - c0;
      sums.assign(static_cast<size_t>(num_src * width), T(0));
      std::copy(indptr, indptr + num_dst, cursor.begin());
      for (int64_t u0 = 0; u0 < num_src; u0 += block_rows) {
        const I u_end = static_cast<I>(std::min(num_src, u0 + block_rows));
        for (int64_t v = 0; v < num_dst; ++v) {
          const T* __restrict__ g = grad + v * len + c0;
          const I row_end = indptr[v + 1];
          I p = cursor[v];
          for (; p < row_end && indices[p] < u_end; ++p) {
            T* __restrict__ o = sums.data() + static_cast<int64_t>(indices[p]) * width;
            for (int64_t k = 0; k < width; ++k) o[k] += g[k];
          }
          cursor[v] = p;
        }
      }
      for (int64_t u = 0; u < num_src; ++u) std::copy_n(sums.data() + u * width, width, out + u * len + c0);
    }
  });
}

}  // namespace

at::Tensor gspmm_sum_to_sources(const Graph& graph, const at::Tensor& grad_in) {
  TORCH_CHECK(grad_in.dim() >= 1 && grad_in.size(0) == graph.num_dst(), "gspmm_sum_to_sources: grad ",
              grad_in.sizes(), " must have one row per destination (", graph.num_dst(), ")");
  const at::Tensor grad = grad_in.contiguous();
  std::vector<int64_t> shape = grad.sizes().vec();
  shape[0] = graph.num_src();
  at::Tensor out = at::empty(shape, grad.options());
  if (out.numel() == 0) return out;
  const int64_t len = grad.numel() / std::max<int64_t>(grad.size(0), 1);
  // Blocks need rows ascending (computed once per graph, not the flags' claim).
  const bool rows_ascending = graph.first_row_not_strictly_ascending() < 0;
  const at::Tensor& ip = graph.csc_indptr();
  const at::Tensor& ix = graph.csc_indices();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "gspmm_sum_to_sources", [&] {
    AT_DISPATCH_INDEX_TYPES(ip.scalar_type(), "gspmm_sum_to_sources_index", [&] {
      scatter_sum<scalar_t, index_t>(ip.data_ptr<index_t>(), ix.data_ptr<index_t>(), graph.num_dst(),
                                     graph.num_src(), grad.data_ptr<scalar_t>(), len, rows_ascending,
                                     out.data_ptr<scalar_t>());
    });
  });
  return out;
}

}  // namespace ripple::ops::cpu
