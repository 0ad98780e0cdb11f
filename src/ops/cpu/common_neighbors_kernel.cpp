// Common neighbours of node pairs: the sparse intersection of two adjacency rows, for each
// pair of a batch. See kernels.h and include/ripple/ops.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include "ops/cpu/graph_check.h"
#include "ops/cpu/kernels.h"
#include "ripple/graph.h"

namespace ripple::ops::cpu {
namespace {

// Rows differing in length by more than this factor are intersected by binary search of
// the shorter row's entries in the longer one (m log n), others by a linear merge (m + n).
constexpr int64_t kSearchRatio = 16;

// Calls emit(x) for each x in both sorted ranges, ascending.
template <typename Index, typename Emit>
void intersect(const Index* a, const Index* a_end, const Index* b, const Index* b_end, Emit&& emit) {
  if (a_end - a > b_end - b) {
    std::swap(a, b);
    std::swap(a_end, b_end);
  }
  if ((a_end - a) * kSearchRatio < b_end - b) {
    for (; a != a_end && b != b_end; ++a) {
      b = std::lower_bound(b, b_end, *a);
      if (b != b_end && *b == *a) emit(*a);
    }
    return;
  }
  while (a != a_end && b != b_end) {
    if (*a < *b) {
      ++a;
    } else if (*b < *a) {
      ++b;
    } else {
      emit(*a);
      ++a;
      ++b;
    }
  }
}

// Rows must be strictly ascending (sorted, no repeated neighbour) for the intersection.
void check_rows_ascending(int64_t first_bad_row) {
  TORCH_CHECK(first_bad_row < 0, "common_neighbors: row ", first_bad_row,
              " of the graph is not strictly ascending; the intersection needs sorted rows without repeated "
              "neighbours (Graph::from_edges builds them)");
}

template <typename Index>
int64_t first_row_not_ascending(const at::Tensor& indptr_t, const at::Tensor& indices_t) {
  const Index* indptr = indptr_t.data_ptr<Index>();
  const Index* indices = indices_t.data_ptr<Index>();
  std::atomic<int64_t> unsorted_row{-1};
  at::parallel_for(0, indptr_t.numel() - 1, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v) {
      for (Index p = indptr[v] + 1; p < indptr[v + 1]; ++p) {
        if (indices[p] <= indices[p - 1]) {
          unsorted_row.store(v);
          return;
        }
      }
    }
  });
  return unsorted_row.load();
}

void check_pairs(const at::Tensor& pairs) {
  TORCH_CHECK(pairs.dim() == 2 && pairs.size(0) == 2 && pairs.scalar_type() == at::kLong,
              "common_neighbors: pairs must be an int64 [2, B] tensor, got ", pairs.scalar_type(), " ", pairs.sizes());
}

// The intersection itself, on a graph whose arrays and rows have been checked.
template <typename Index>
std::tuple<at::Tensor, at::Tensor> common_neighbors_impl(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                                                         const at::Tensor& pairs) {
  const int64_t num_nodes = indptr_t.numel() - 1;
  const Index* indptr = indptr_t.data_ptr<Index>();
  const Index* indices = indices_t.data_ptr<Index>();

  const int64_t batch = pairs.size(1);
  const at::Tensor p = pairs.contiguous();
  const int64_t* u = p.data_ptr<int64_t>();
  const int64_t* v = u + batch;
  for (int64_t i = 0; i < batch; ++i) {
    TORCH_CHECK(u[i] >= 0 && u[i] < num_nodes && v[i] >= 0 && v[i] < num_nodes, "common_neighbors: pair ", i, " (",
                u[i], ", ", v[i], ") names a node outside [0, ", num_nodes, ")");
  }
  auto row = [&](int64_t x) { return std::pair{indices + indptr[x], indices + indptr[x + 1]}; };
  std::vector<int64_t> offsets(static_cast<size_t>(batch) + 1, 0);
  int64_t* count = offsets.data();
  at::parallel_for(0, batch, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto [a, a_end] = row(u[i]);
      const auto [b, b_end] = row(v[i]);
      int64_t n = 0;
      intersect(a, a_end, b, b_end, [&n](Index) { ++n; });
      count[i + 1] = n;
    }
  });
  for (int64_t i = 0; i < batch; ++i) count[i + 1] += count[i];
  TORCH_CHECK(count[batch] <= std::numeric_limits<Index>::max(), "common_neighbors: ", count[batch],
              " common neighbours overflow the graph's int32 indices; use an int64 graph or smaller batches");
  at::Tensor out_ptr = at::empty({batch + 1}, indices_t.options());
  std::copy(offsets.begin(), offsets.end(), out_ptr.data_ptr<Index>());
  at::Tensor out_idx = at::empty({count[batch]}, indices_t.options());
  Index* out = out_idx.data_ptr<Index>();
  at::parallel_for(0, batch, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto [a, a_end] = row(u[i]);
      const auto [b, b_end] = row(v[i]);
      Index* o = out + count[i];
      intersect(a, a_end, b, b_end, [&o](Index x) { *o++ = x; });
    }
  });
  return {out_ptr, out_idx};
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> common_neighbors(const at::Tensor& indptr, const at::Tensor& indices,
                                                    const at::Tensor& pairs) {
  check_graph("common_neighbors", indptr, indices, at::Tensor(), indptr.numel() - 1);
  check_pairs(pairs);
  if (indices.scalar_type() == at::kInt) {
    check_rows_ascending(first_row_not_ascending<int32_t>(indptr, indices));
    return common_neighbors_impl<int32_t>(indptr, indices, pairs);
  }
  check_rows_ascending(first_row_not_ascending<int64_t>(indptr, indices));
  return common_neighbors_impl<int64_t>(indptr, indices, pairs);
}

std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const Graph& graph, const at::Tensor& pairs) {
  // The graph's arrays were checked when it was made; its rows' order once, then cached.
  TORCH_CHECK(!graph.is_bipartite(), "common_neighbors: the graph must be square (one node set), got ",
              graph.num_src(), " sources and ", graph.num_dst(), " destinations");
  check_pairs(pairs);
  check_rows_ascending(graph.first_row_not_strictly_ascending());
  if (graph.index_type() == at::kInt) {
    return common_neighbors_impl<int32_t>(graph.csc_indptr(), graph.csc_indices(), pairs);
  }
  return common_neighbors_impl<int64_t>(graph.csc_indptr(), graph.csc_indices(), pairs);
}

}  // namespace ripple::ops::cpu
