// gspmm on the CPU: one pass over destination rows, no atomics, deterministic.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "ops/broadcast.h"
#include "ops/cpu/functors.h"
#include "ops/cpu/graph_check.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/memory_access.h"
#include "ops/cpu/register_block.h"

namespace ripple::ops::cpu {
namespace {

using detail::BinaryOp;
using detail::Broadcast;
using detail::Reduce;

template <typename T, typename I>
struct SpmmArgs {
  const I* indptr;
  const I* indices;
  const I* eids;
  const T* lhs;
  const T* rhs;
  T* out;
  int64_t* arg_src;
  int64_t* arg_edge;
  int64_t num_dst;
  int64_t num_src;
  bool mean;
  const Broadcast* bc;
};

template <typename T, typename I, typename Op, typename Red>
void spmm_rows(const SpmmArgs<T, I>& a) {
  const Broadcast& bc = *a.bc;
  const int64_t len = bc.out_len;
  parallel_for_balanced_rows(a.indptr, a.num_dst, len, [&](int64_t begin, int64_t end) {
    for (int64_t v = begin; v < end; ++v) {
      T* o = a.out + v * len;
      for (int64_t k = 0; k < len; ++k) o[k] = Red::template init<T>();
      // max/min always record the winning source and edge (gspmm_forward allocates both).
      int64_t* as = Red::kTracksArg ? a.arg_src + v * len : nullptr;
      int64_t* ae = Red::kTracksArg ? a.arg_edge + v * len : nullptr;
      if (as) std::fill(as, as + len, -1);
      if (ae) std::fill(ae, ae + len, -1);
      const int64_t row_begin = a.indptr[v], row_end = a.indptr[v + 1];
      for (int64_t p = row_begin; p < row_end; ++p) {
        const int64_t u = a.indices[p];
        const int64_t e = a.eids ? static_cast<int64_t>(a.eids[p]) : p;
        const T* l = a.lhs ? a.lhs + u * bc.lhs_len : nullptr;
        const T* r = a.rhs ? a.rhs + e * bc.rhs_len : nullptr;
        if constexpr (!Red::kTracksArg) {
          if (bc.rhs_trailing && l && r) {
            // e.g. [H, D] features times a per-head (or per-edge) weight.
            const int64_t inner = bc.rhs_inner;
            for (int64_t h = 0; h < bc.rhs_len; ++h) {
              const T rh = r[h];
              T* oh = o + h * inner;
              const T* lh = l + h * inner;
              for (int64_t d = 0; d < inner; ++d) oh[d] += Op::call(lh[d], rh);
            }
          } else if (!bc.use_offsets) {
            if (l && r) {
              for (int64_t k = 0; k < len; ++k) o[k] += Op::call(l[k], r[k]);
            } else if (l) {
              for (int64_t k = 0; k < len; ++k) o[k] += Op::call(l[k], T(0));
            } else {
              for (int64_t k = 0; k < len; ++k) o[k] += Op::call(T(0), r[k]);
            }
          } else {
            for (int64_t k = 0; k < len; ++k) {
              o[k] += Op::call(l ? l[bc.lhs_offset[k]] : T(0), r ? r[bc.rhs_offset[k]] : T(0));
            }
          }
        } else if (!bc.use_offsets) {
          // Branchless select, so the loop vectorizes; the first edge always wins.
          const bool first = p == row_begin;
          auto track = [&](int64_t k, T m) {
            const bool take = first | Red::better(m, o[k]);
            o[k] = take ? m : o[k];
            as[k] = take ? u : as[k];
            ae[k] = take ? e : ae[k];
          };
          if (l && r) {
            for (int64_t k = 0; k < len; ++k) track(k, Op::call(l[k], r[k]));
          } else if (l) {
            for (int64_t k = 0; k < len; ++k) track(k, Op::call(l[k], T(0)));
          } else {
            for (int64_t k = 0; k < len; ++k) track(k, Op::call(T(0), r[k]));
          }
        } else {
          for (int64_t k = 0; k < len; ++k) {
            const T lv = l ? l[bc.use_offsets ? bc.lhs_offset[k] : k] : T(0);
            const T rv = r ? r[bc.use_offsets ? bc.rhs_offset[k] : k] : T(0);
            const T m = Op::call(lv, rv);
            if (p == row_begin || Red::better(m, o[k])) {
              o[k] = m;
              as[k] = u;
              ae[k] = e;
            }
          }
        }
      }
      if (row_end == row_begin) {
        std::fill(o, o + len, T(0));
      } else if (a.mean) {
        const T inv = T(1) / static_cast<T>(row_end - row_begin);
        for (int64_t k = 0; k < len; ++k) o[k] *= inv;
      }
    }
  });
}

// Columns [c, c + V L) of the sum of the rows indices[p] of x over the edges p of one row,
// in V registers (L = kVectorLanes floats each): the edges are added in order, as in the loop
// of spmm_sum_rows, so the results are the same bits. The rows of the edge `distance` ahead
// (at most last_edge) are prefetched.
template <int V, typename I>
void sum_rows_in_registers(const float* x, const I* indices, int64_t len, int64_t row_begin, int64_t row_end,
                           int64_t last_edge, int64_t distance, int64_t c, float* out) {
  FloatVec acc[V];
  for (int v = 0; v < V; ++v) acc[v] = FloatVec{};
  constexpr int64_t kBytes = V * kVectorLanes * static_cast<int64_t>(sizeof(float));
  for (int64_t p = row_begin; p < row_end; ++p) {
    const int64_t row_ahead = static_cast<int64_t>(indices[std::min(p + distance, last_edge)]);
    const char* ahead = reinterpret_cast<const char*>(x + row_ahead * len + c);
    for (int64_t b = 0; b < kBytes; b += 64) __builtin_prefetch(ahead + b, 0, 3);
    const float* l = x + static_cast<int64_t>(indices[p]) * len + c;
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) acc[v] += load_vec(l + v * kVectorLanes);
  }
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) store_vec(out + c + v * kVectorLanes, acc[v]);
}

// Half the registers hold the sums, the rest the loads in flight.
constexpr int kSumVectors = kVectorRegisters / 2;

template <typename I, int... V>
constexpr auto sum_rows_table(std::integer_sequence<int, V...>) {
  using Fn = void (*)(const float*, const I*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);
  return std::array<Fn, sizeof...(V)>{&sum_rows_in_registers<V + 1, I>...};
}

// One output row of a float copy_lhs sum whose width is a multiple of L, in passes of up to
// kSumVectors registers over the row's edges.
template <typename I>
void sum_row_by_columns(const float* x, const I* indices, int64_t len, int64_t row_begin, int64_t row_end,
                        int64_t last_edge, int64_t distance, float* out) {
  static constexpr auto kTable = sum_rows_table<I>(std::make_integer_sequence<int, kSumVectors>{});
  for (int64_t c = 0; c < len; c += kSumVectors * kVectorLanes) {
    const int64_t vectors = std::min<int64_t>(kSumVectors, (len - c) / kVectorLanes);
    kTable[static_cast<size_t>(vectors - 1)](x, indices, len, row_begin, row_end, last_edge, distance, c, out);
  }
}

// Sum/mean over contiguous rows: copy_lhs (x[u]) or a binary op with a per-edge scalar per
// head (x[u] * w[e], the GCN and GAT aggregation). This is the hot loop of every model, so it
// gets its own path: the output row is accumulated in a buffer that stays in L1, and the source
// rows of the edge prefetch_edges() ahead are prefetched, which keeps several random DRAM
// reads in flight per core instead of one (the gather is latency-bound, not compute-bound).
template <typename T, typename I, typename Op, bool kHasRhs>
void spmm_sum_rows(const SpmmArgs<T, I>& a) {
  const Broadcast& bc = *a.bc;
  const int64_t len = bc.out_len;
  const int64_t inner = kHasRhs ? bc.rhs_inner : len;
  const int64_t heads = kHasRhs ? bc.rhs_len : 1;
  parallel_for_balanced_rows(a.indptr, a.num_dst, len, [&](int64_t begin, int64_t end) {
    const int64_t last_edge = static_cast<int64_t>(a.indptr[end]) - 1;
    const int64_t distance = prefetch_edges(len * static_cast<int64_t>(sizeof(T)));
    const bool streaming = a.num_dst * len * static_cast<int64_t>(sizeof(T)) >= kStreamingOutputBytes;
    // Float rows of whole vectors: the sums in registers, one pass over the row's edges per
    // kSumVectors registers of columns. Summed in a buffer instead, every edge loads and
    // stores all of it, and the stores bound the loop when the rows come from cache. Rows
    // wider than one pass are summed so only when the source matrix stays in cache (rows from
    // memory are better read whole, in one pass).
    const int64_t pass = kSumVectors * kVectorLanes;
    const bool by_columns = !kHasRhs && std::is_same_v<T, float> && len % kVectorLanes == 0 &&
                            (len <= pass || a.num_src * len * static_cast<int64_t>(sizeof(T)) <= kCachedSourceBytes);
    const int64_t column_distance = prefetch_edges(std::min(len, pass) * static_cast<int64_t>(sizeof(T)));
    std::vector<T> acc(static_cast<size_t>(len));
    for (int64_t v = begin; v < end; ++v) {
      T* __restrict__ o = acc.data();
      const int64_t row_begin = a.indptr[v], row_end = a.indptr[v + 1];
      bool in_registers = false;
      if constexpr (!kHasRhs && std::is_same_v<T, float>) {
        if (by_columns) {
          sum_row_by_columns(a.lhs, a.indices, len, row_begin, row_end, last_edge, column_distance, o);
          in_registers = true;
        }
      }
      if (!in_registers) {
        for (int64_t k = 0; k < len; ++k) o[k] = T(0);
        for (int64_t p = row_begin; p < row_end; ++p) {
          const int64_t ahead = std::min(p + distance, last_edge);
          if (ahead >= 0) {
            prefetch_row<T, I>(a.lhs, a.indices[ahead], len);
            // Through eids (the reverse graph of a backward pass) edge rows are random reads too.
            if (kHasRhs && a.eids) __builtin_prefetch(a.rhs + static_cast<int64_t>(a.eids[ahead]) * heads, 0, 3);
          }
          const T* __restrict__ l = a.lhs + static_cast<int64_t>(a.indices[p]) * len;
          if constexpr (kHasRhs) {
            const int64_t e = a.eids ? static_cast<int64_t>(a.eids[p]) : p;
            const T* r = a.rhs + e * heads;
            for (int64_t h = 0; h < heads; ++h) {
              const T rh = r[h];
              T* __restrict__ oh = o + h * inner;
              const T* __restrict__ lh = l + h * inner;
              for (int64_t d = 0; d < inner; ++d) oh[d] += Op::call(lh[d], rh);
            }
          } else {
            for (int64_t k = 0; k < len; ++k) o[k] += l[k];
          }
        }
      }
      if (a.mean && row_end > row_begin) {
        const T inv = T(1) / static_cast<T>(row_end - row_begin);
        for (int64_t k = 0; k < len; ++k) o[k] *= inv;
      }
      store_row(a.out + v * len, o, len, streaming);
    }
    finish_streaming_stores();
  });
}

std::vector<int64_t> feature_shape(const at::Tensor& t) {
  return std::vector<int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> gspmm_forward(
    const at::Tensor& indptr, const at::Tensor& indices, const c10::optional<at::Tensor>& eids_opt,
    const std::string& op_name, const std::string& reduce_name,
    const c10::optional<at::Tensor>& lhs_opt, const c10::optional<at::Tensor>& rhs_opt,
    int64_t num_src) {
  const BinaryOp op = detail::parse_spmm_op(op_name);
  const Reduce reduce = detail::parse_reduce(reduce_name);
  at::Tensor eids;
  if (eids_opt.has_value() && eids_opt->defined()) eids = eids_opt->contiguous();
  const GraphExtent graph = check_graph("gspmm", indptr, indices, eids, num_src);
  const int64_t num_dst = graph.num_dst;
  const bool need_lhs = detail::uses_lhs(op), need_rhs = detail::uses_rhs(op);
  TORCH_CHECK(!need_lhs || (lhs_opt.has_value() && lhs_opt->defined()), "gspmm: op '", op_name,
              "' needs lhs (source node data)");
  TORCH_CHECK(!need_rhs || (rhs_opt.has_value() && rhs_opt->defined()), "gspmm: op '", op_name,
              "' needs rhs (edge data)");
  at::Tensor lhs = need_lhs ? lhs_opt->contiguous() : at::Tensor();
  at::Tensor rhs = need_rhs ? rhs_opt->contiguous() : at::Tensor();
  if (need_lhs) check_operand("gspmm", "lhs", lhs, detail::Target::kSrc, graph);
  if (need_rhs) check_operand("gspmm", "rhs", rhs, detail::Target::kEdge, graph);
  if (need_lhs && need_rhs) {
    TORCH_CHECK(lhs.scalar_type() == rhs.scalar_type(), "gspmm: lhs dtype ", lhs.scalar_type(),
                " differs from rhs dtype ", rhs.scalar_type());
  }
  const at::Tensor& any = need_lhs ? lhs : rhs;
  TORCH_CHECK(at::isFloatingType(any.scalar_type()), "gspmm: operands must be floating point");
  const Broadcast bc = detail::compute_broadcast(need_lhs ? feature_shape(lhs) : feature_shape(rhs),
                                                 need_rhs ? feature_shape(rhs) : feature_shape(lhs),
                                                 false);
  std::vector<int64_t> out_sizes{num_dst};
  out_sizes.insert(out_sizes.end(), bc.out_shape.begin(), bc.out_shape.end());
  at::Tensor out = at::empty(out_sizes, any.options());
  count_output(out);
  const bool tracks = reduce == Reduce::kMax || reduce == Reduce::kMin;
  at::Tensor arg_src, arg_edge;
  if (tracks) {
    arg_src = at::empty(out_sizes, any.options().dtype(at::kLong));
    arg_edge = at::empty(out_sizes, any.options().dtype(at::kLong));
  }
  const at::Tensor ip = indptr.contiguous(), ix = indices.contiguous();

  AT_DISPATCH_FLOATING_TYPES(any.scalar_type(), "gspmm", [&] {
    using T = scalar_t;
    AT_DISPATCH_INDEX_TYPES(ip.scalar_type(), "gspmm_index", [&] {
      using I = index_t;
      SpmmArgs<T, I> a{ip.data_ptr<I>(), ix.data_ptr<I>(), eids.defined() ? eids.data_ptr<I>() : nullptr,
                       need_lhs ? lhs.data_ptr<T>() : nullptr, need_rhs ? rhs.data_ptr<T>() : nullptr,
                       out.data_ptr<T>(), tracks ? arg_src.data_ptr<int64_t>() : nullptr,
                       tracks ? arg_edge.data_ptr<int64_t>() : nullptr, num_dst, num_src,
                       reduce == Reduce::kMean, &bc};
      dispatch_binary_op(op, [&](auto op_tag) {
        using Op = decltype(op_tag);
        switch (reduce) {
          case Reduce::kSum:
          case Reduce::kMean:
            if constexpr (std::is_same_v<Op, OpCopyLhs>) {
              if (!bc.use_offsets) { spmm_sum_rows<T, I, Op, false>(a); break; }
            } else if constexpr (!std::is_same_v<Op, OpCopyRhs>) {
              if (bc.rhs_trailing) { spmm_sum_rows<T, I, Op, true>(a); break; }
            }
            spmm_rows<T, I, Op, ReduceSum>(a);
            break;
          case Reduce::kMax: spmm_rows<T, I, Op, ReduceMax>(a); break;
          case Reduce::kMin: spmm_rows<T, I, Op, ReduceMin>(a); break;
        }
      });
    });
  });
  return {out, arg_src, arg_edge};
}

}  // namespace ripple::ops::cpu
