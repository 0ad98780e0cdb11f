// Boundary checks of the CPU kernels. See graph_check.h.
#include "ops/cpu/graph_check.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <limits>

#include "runtime/work_counter.h"

namespace ripple::ops::cpu {
namespace {

using detail::Target;

const char* target_name(Target t) {
  return t == Target::kSrc ? "source" : (t == Target::kDst ? "destination" : "edge");
}

// First position p in [0, n) where values[p] is outside [0, bound), or n when none.
template <typename I>
int64_t first_out_of_range(const I* values, int64_t n, int64_t bound) {
  std::atomic<int64_t> first{n};
  at::parallel_for(0, n, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
    const I* v = values;
    bool bad = false;  // branch-free scan; the position is looked up only on failure
    for (int64_t p = begin; p < end; ++p) bad |= (v[p] < 0) | (static_cast<int64_t>(v[p]) >= bound);
    if (!bad) return;
    for (int64_t p = begin; p < end; ++p) {
      if (v[p] < 0 || static_cast<int64_t>(v[p]) >= bound) {
        int64_t seen = first.load();
        while (p < seen && !first.compare_exchange_weak(seen, p)) {
        }
        return;
      }
    }
  });
  return first.load();
}

// First destination v whose row ends before it starts, or num_dst when indptr is monotone.
template <typename I>
int64_t first_decreasing_row(const I* indptr, int64_t num_dst) {
  for (int64_t v = 0; v < num_dst; ++v) {
    if (indptr[v + 1] < indptr[v]) return v;
  }
  return num_dst;
}

}  // namespace

int64_t GraphExtent::rows(Target t) const {
  return t == Target::kSrc ? num_src : (t == Target::kDst ? num_dst : num_edges);
}

namespace {
thread_local bool trusted_graph_arrays = false;
}  // namespace

TrustedGraphArrays::TrustedGraphArrays() : previous_(trusted_graph_arrays) { trusted_graph_arrays = true; }
TrustedGraphArrays::~TrustedGraphArrays() { trusted_graph_arrays = previous_; }

bool graph_arrays_trusted() { return trusted_graph_arrays; }

GraphExtent check_graph(const char* op, const at::Tensor& indptr_in, const at::Tensor& indices_in,
                        const at::Tensor& eids_in, int64_t num_src) {
  const bool values = !trusted_graph_arrays;  // a built Graph's values were checked once
  TORCH_CHECK(indptr_in.defined() && indptr_in.dim() == 1 && indptr_in.numel() >= 1, op,
              ": indptr must be a non-empty 1-D tensor, got ",
              indptr_in.defined() ? indptr_in.sizes() : at::IntArrayRef{});
  const at::ScalarType type = indptr_in.scalar_type();
  TORCH_CHECK(type == at::kInt || type == at::kLong, op, ": indptr must be int32 or int64, got ", type);
  GraphExtent g;
  g.num_dst = indptr_in.numel() - 1;
  const at::Tensor indptr = indptr_in.contiguous();
  AT_DISPATCH_INDEX_TYPES(type, "check_graph_indptr", [&] {
    const index_t* ip = indptr.data_ptr<index_t>();
    TORCH_CHECK(ip[0] == 0, op, ": indptr[0] must be 0, got ", static_cast<int64_t>(ip[0]));
    const int64_t v = values ? first_decreasing_row(ip, g.num_dst) : g.num_dst;
    TORCH_CHECK(v == g.num_dst, op, ": indptr must be non-decreasing, but indptr[", v + 1, "] = ",
                static_cast<int64_t>(ip[v + 1]), " < indptr[", v, "] = ", static_cast<int64_t>(ip[v]));
    g.num_edges = static_cast<int64_t>(ip[g.num_dst]);
  });
  if (indices_in.defined()) {
    TORCH_CHECK(indices_in.dim() == 1 && indices_in.scalar_type() == type, op,
                ": indices must be 1-D with indptr's dtype (", type, "), got ", indices_in.scalar_type(), " of shape ",
                indices_in.sizes());
    TORCH_CHECK(indices_in.numel() == g.num_edges, op, ": indices has ", indices_in.numel(),
                " entries but indptr ends at ", g.num_edges);
    TORCH_CHECK(num_src >= 0, op, ": the source count must be given with indices");
    g.num_src = num_src;
    const at::Tensor indices = indices_in.contiguous();
    AT_DISPATCH_INDEX_TYPES(type, "check_graph_indices", [&] {
      const index_t* ix = indices.data_ptr<index_t>();
      const int64_t p = values ? first_out_of_range(ix, g.num_edges, num_src) : g.num_edges;
      TORCH_CHECK(p == g.num_edges, op, ": indices[", p, "] = ", static_cast<int64_t>(ix[p]),
                  " is not a source node id in [0, ", num_src, ")");
    });
  }
  if (eids_in.defined()) {
    TORCH_CHECK(eids_in.dim() == 1 && eids_in.scalar_type() == type && eids_in.numel() == g.num_edges, op,
                ": eids must be 1-D ", type, " with one entry per edge (", g.num_edges, "), got ",
                eids_in.scalar_type(), " of shape ", eids_in.sizes());
    const at::Tensor eids = eids_in.contiguous();
    AT_DISPATCH_INDEX_TYPES(type, "check_graph_eids", [&] {
      const index_t* ep = eids.data_ptr<index_t>();
      const int64_t p = values ? first_out_of_range(ep, g.num_edges, g.num_edges) : g.num_edges;
      TORCH_CHECK(p == g.num_edges, op, ": eids[", p, "] = ", static_cast<int64_t>(ep[p]),
                  " is not an edge row in [0, ", g.num_edges, ")");
    });
  }
  work::add_graph_bytes(indptr_in.nbytes() + (indices_in.defined() ? indices_in.nbytes() : 0) +
                        (eids_in.defined() ? eids_in.nbytes() : 0));
  return g;
}

void count_output(const at::Tensor& out) { work::add_graph_bytes(out.nbytes()); }

void check_operand(const char* op, const char* name, const at::Tensor& operand, Target target,
                   const GraphExtent& graph) {
  TORCH_CHECK(operand.defined() && operand.dim() >= 1, op, ": ", name, " must be a tensor with a row dimension");
  const int64_t rows = graph.rows(target);
  TORCH_CHECK(operand.size(0) == rows, op, ": ", name, " is a ", target_name(target), " operand and must have ",
              rows, " rows (one per ", target_name(target), target == Target::kEdge ? "" : " node", "), got shape ",
              operand.sizes());
  if (rows > 0) {
    const int64_t touched = target == Target::kDst ? graph.num_dst : graph.num_edges;
    work::add_graph_bytes(static_cast<uint64_t>(touched) * (operand.nbytes() / static_cast<uint64_t>(rows)));
  }
}

}  // namespace ripple::ops::cpu
