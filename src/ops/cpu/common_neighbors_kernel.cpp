// Common neighbours of node pairs: the sparse intersection of two adjacency rows, for each
// pair of a batch, by merging sorted rows or, on dense graphs, by ANDing rows as bitsets.
// See kernels.h and include/ripple/ops.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
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

// Rows are intersected as bitsets only while all of them take at most this many bytes.
constexpr int64_t kBitsetMaxBytes = int64_t{64} << 20;

// Calls emit(x) for each x in both sorted ranges, ascending.
template <typename Index, typename Emit>
void merge_intersect(const Index* a, const Index* a_end, const Index* b, const Index* b_end, Emit&& emit) {
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

int64_t bitset_words(int64_t num_nodes) { return (num_nodes + 63) / 64; }

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

// A square graph's rows as bitsets over its nodes: ceil(N / 64) words a row, bit y of row x
// set when y is in row x. Two rows intersect in one AND a word, whatever their lengths.
class RowBitsets {
 public:
  template <typename Index>
  RowBitsets(const Index* indptr, const Index* indices, int64_t num_nodes)
      : words_(bitset_words(num_nodes)), bits_(static_cast<size_t>(num_nodes * words_), 0) {
    at::parallel_for(0, num_nodes, 256, [&](int64_t begin, int64_t end) {
      for (int64_t x = begin; x < end; ++x) {
        uint64_t* row = bits_.data() + x * words_;
        for (Index p = indptr[x]; p < indptr[x + 1]; ++p) {
          const auto y = static_cast<uint64_t>(indices[p]);
          row[y >> 6] |= uint64_t{1} << (y & 63);
        }
      }
    });
  }

  // Calls emit(y) for each y in rows u and v, ascending.
  template <typename Emit>
  void intersect(int64_t u, int64_t v, Emit&& emit) const {
    const uint64_t* a = bits_.data() + u * words_;
    const uint64_t* b = bits_.data() + v * words_;
    for (int64_t w = 0; w < words_; ++w) {
      for (uint64_t both = a[w] & b[w]; both != 0; both &= both - 1) emit(w * 64 + __builtin_ctzll(both));
    }
  }

  int64_t count(int64_t u, int64_t v) const {
    const uint64_t* a = bits_.data() + u * words_;
    const uint64_t* b = bits_.data() + v * words_;
    int64_t n = 0;
    for (int64_t w = 0; w < words_; ++w) n += __builtin_popcountll(a[w] & b[w]);
    return n;
  }

 private:
  int64_t words_;
  std::vector<uint64_t> bits_;
};

// For each pair, count(u, v) then intersect(u, v, emit) of `rows` (merged lists or bitsets):
// the (indptr [B + 1], indices) of the common-neighbour graph.
template <typename Index, typename Rows>
std::tuple<at::Tensor, at::Tensor> intersect_pairs(const Rows& rows, const int64_t* u, const int64_t* v,
                                                   int64_t batch, const at::TensorOptions& index_options) {
  std::vector<int64_t> offsets(static_cast<size_t>(batch) + 1, 0);
  int64_t* count = offsets.data();
  at::parallel_for(0, batch, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) count[i + 1] = rows.count(u[i], v[i]);
  });
  for (int64_t i = 0; i < batch; ++i) count[i + 1] += count[i];
  TORCH_CHECK(count[batch] <= std::numeric_limits<Index>::max(), "common_neighbors: ", count[batch],
              " common neighbours overflow the graph's int32 indices; use an int64 graph or smaller batches");
  at::Tensor out_ptr = at::empty({batch + 1}, index_options);
  std::copy(offsets.begin(), offsets.end(), out_ptr.data_ptr<Index>());
  at::Tensor out_idx = at::empty({count[batch]}, index_options);
  Index* out = out_idx.data_ptr<Index>();
  at::parallel_for(0, batch, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Index* o = out + count[i];
      rows.intersect(u[i], v[i], [&o](int64_t x) { *o++ = static_cast<Index>(x); });
    }
  });
  return {out_ptr, out_idx};
}

// Sorted CSC rows, intersected by merge_intersect.
template <typename Index>
struct SortedRows {
  const Index* indptr;
  const Index* indices;

  template <typename Emit>
  void intersect(int64_t u, int64_t v, Emit&& emit) const {
    merge_intersect(indices + indptr[u], indices + indptr[u + 1], indices + indptr[v], indices + indptr[v + 1],
                    [&emit](Index x) { emit(static_cast<int64_t>(x)); });
  }
  int64_t count(int64_t u, int64_t v) const {
    int64_t n = 0;
    intersect(u, v, [&n](int64_t) { ++n; });
    return n;
  }
};

// The intersection itself, on a graph whose arrays and rows have been checked.
template <typename Index>
std::tuple<at::Tensor, at::Tensor> common_neighbors_impl(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                                                         const at::Tensor& pairs, IntersectMethod method) {
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
  if (method == IntersectMethod::kAuto) method = choose_intersect_method(num_nodes, indices_t.numel(), batch);
  if (method == IntersectMethod::kBitset) {
    return intersect_pairs<Index>(RowBitsets(indptr, indices, num_nodes), u, v, batch, indices_t.options());
  }
  return intersect_pairs<Index>(SortedRows<Index>{indptr, indices}, u, v, batch, indices_t.options());
}

}  // namespace

IntersectMethod choose_intersect_method(int64_t num_nodes, int64_t num_entries, int64_t batch) {
  const int64_t words = bitset_words(num_nodes);
  if (num_nodes * words * static_cast<int64_t>(sizeof(uint64_t)) > kBitsetMaxBytes) return IntersectMethod::kMerge;
  // A pair's merge steps over about 2E/N entries, its bitsets' AND over `words` words;
  // building the bitsets zeroes N x words words and sets E bits once per call.
  const double merge_steps = static_cast<double>(batch) * 2.0 * static_cast<double>(num_entries) /
                             static_cast<double>(std::max<int64_t>(num_nodes, 1));
  const double bitset_steps = static_cast<double>(batch * words + num_nodes * words + num_entries);
  return bitset_steps < merge_steps ? IntersectMethod::kBitset : IntersectMethod::kMerge;
}

std::tuple<at::Tensor, at::Tensor> common_neighbors(const at::Tensor& indptr, const at::Tensor& indices,
                                                    const at::Tensor& pairs) {
  check_graph("common_neighbors", indptr, indices, at::Tensor(), indptr.numel() - 1);
  check_pairs(pairs);
  if (indices.scalar_type() == at::kInt) {
    check_rows_ascending(first_row_not_ascending<int32_t>(indptr, indices));
    return common_neighbors_impl<int32_t>(indptr, indices, pairs, IntersectMethod::kAuto);
  }
  check_rows_ascending(first_row_not_ascending<int64_t>(indptr, indices));
  return common_neighbors_impl<int64_t>(indptr, indices, pairs, IntersectMethod::kAuto);
}

std::tuple<at::Tensor, at::Tensor> common_neighbors_graph(const Graph& graph, const at::Tensor& pairs,
                                                          IntersectMethod method) {
  // The graph's arrays were checked when it was made; its rows' order once, then cached.
  TORCH_CHECK(!graph.is_bipartite(), "common_neighbors: the graph must be square (one node set), got ",
              graph.num_src(), " sources and ", graph.num_dst(), " destinations");
  check_pairs(pairs);
  check_rows_ascending(graph.first_row_not_strictly_ascending());
  if (graph.index_type() == at::kInt) {
    return common_neighbors_impl<int32_t>(graph.csc_indptr(), graph.csc_indices(), pairs, method);
  }
  return common_neighbors_impl<int64_t>(graph.csc_indptr(), graph.csc_indices(), pairs, method);
}

}  // namespace ripple::ops::cpu
