// MessagePassing: the base of Ripple's graph layers, in PyG's terms.
//
//   out[v] = update( AGGREGATE_{e=(u->v)} message(x_src[u], x_dst[v], edge[e]) )
//
// A layer whose message is in the kernel algebra declares it with fused_op() ("copy_lhs":
// the source row; "mul": source row times edge value, ...) and propagate() runs one gspmm,
// with no edge-sized intermediate. Any other message is written by overriding message(),
// which receives per-edge gathered rows; propagate() then materializes the [E, ...] messages
// and segment-reduces them by destination (gspmm copy_rhs over the CSC order). Setting
// materialize_ forces the second path, which tests use to check the two agree.
#pragma once

#include <torch/nn/module.h>

#include <string>

#include "ripple/graph.h"

namespace ripple::nn {

class MessagePassing : public torch::nn::Module {
 public:
  // reduce: sum, mean, max or min. Undefined x_dst/edge are allowed when unused.
  at::Tensor propagate(const Graph& graph, const std::string& reduce, const at::Tensor& x_src,
                       const at::Tensor& x_dst = {}, const at::Tensor& edge = {});
  void set_materialize(bool on) { materialize_ = on; }

  // For a linear map W (in -> out) next to a linear aggregation (sum, mean, weighted sum):
  // whether W x then aggregating costs fewer multiply-adds than aggregating then W, i.e.
  // num_src*in*out + E*out <= E*in + num_dst*in*out. On a whole graph (num_src == num_dst)
  // that is out <= in; on a sampled block, whose sources outnumber its destinations
  // several times, aggregating first usually wins. Sparse inputs always transform first
  // (their product is a cheap gspmm over the non-zeros).
  static bool transform_first(const Graph& graph, bool sparse_input, int64_t in, int64_t out);

 protected:
  // The gspmm op equal to message(), or "" if there is none.
  virtual std::string fused_op() const { return ""; }
  // Per-edge message from gathered rows x_j = x_src[src(e)], x_i = x_dst[dst(e)], edge[e].
  virtual at::Tensor message(const at::Tensor& x_j, const at::Tensor& x_i, const at::Tensor& edge);
  virtual at::Tensor update(const at::Tensor& aggregated) { return aggregated; }

  bool materialize_ = false;
};

}  // namespace ripple::nn
