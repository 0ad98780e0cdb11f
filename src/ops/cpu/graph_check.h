// The boundary checks of every CPU kernel (internal): the graph arrays and each operand are
// checked here, once per call, before a kernel reads anything, so a call from Python with
// a short operand or an out-of-range id is a c10::Error naming the operand, not a read
// past the end of a buffer.
//
// An operand lives on one of three targets, as in DGL's {src, edge, dst} table: a source
// operand needs num_src rows, an edge operand num_edges, a destination operand num_dst.
// Graph arrays: indptr (num_dst + 1 entries, starting at 0, non-decreasing, ending at the
// edge count), indices (source ids in [0, num_src)) and the optional eids (edge rows in
// [0, num_edges)), all of one integer dtype. The value checks are one parallel pass over
// the arrays, cheaper than any kernel's pass over the same edges.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "ops/op_names.h"

namespace ripple::ops::cpu {

struct GraphExtent {
  int64_t num_src = 0, num_dst = 0, num_edges = 0;
  int64_t rows(detail::Target t) const;
};

// While one is alive on this thread, check_graph takes the graph arrays' values as valid
// and checks only their shapes, dtypes and lengths: for the arrays of a ripple::Graph, whose
// values were checked when it was built and are not changed after (the graph-handle forms
// of the operators, src/ops/autograd.cpp). Operands are still checked. Nests.
class TrustedGraphArrays {
 public:
  TrustedGraphArrays();
  ~TrustedGraphArrays();
  TrustedGraphArrays(const TrustedGraphArrays&) = delete;
  TrustedGraphArrays& operator=(const TrustedGraphArrays&) = delete;

 private:
  bool previous_;
};

// Whether a TrustedGraphArrays is alive on this thread (autograd functions carry it from
// forward to backward).
bool graph_arrays_trusted();

// Checks indptr, indices (undefined for ops that read no sources, like edge_softmax) and
// eids (may be undefined) for the op named `op`; returns the extent they describe.
// `num_src` < 0 means "not known" (no indices).
GraphExtent check_graph(const char* op, const at::Tensor& indptr, const at::Tensor& indices,
                        const at::Tensor& eids, int64_t num_src);

// Checks that `operand` (called `name` in messages) has a row dimension of the size its
// target needs.
void check_operand(const char* op, const char* name, const at::Tensor& operand, detail::Target target,
                   const GraphExtent& graph);

// Both functions above also count, for the work counter (runtime/work_counter.h), the bytes
// the kernel will move under a no-reuse model: the graph arrays once, a source operand's row
// once per edge, edge rows once, destination rows once. Outputs are counted here (once).
void count_output(const at::Tensor& out);

}  // namespace ripple::ops::cpu
