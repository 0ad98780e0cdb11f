#include "ripple/nn/message_passing.h"

#include <ATen/ATen.h>

#include "ripple/ops.h"

namespace ripple::nn {

at::Tensor MessagePassing::message(const at::Tensor& x_j, const at::Tensor& x_i, const at::Tensor& edge) {
  const std::string op = fused_op();
  TORCH_CHECK(!op.empty(), "MessagePassing: layer defines neither fused_op() nor message()");
  if (op == "copy_lhs") return x_j;
  if (op == "copy_rhs") return edge;
  if (op == "add") return x_j + edge;
  if (op == "sub") return x_j - edge;
  if (op == "mul") return x_j * edge;
  return x_j / edge;
}

bool MessagePassing::transform_first(const Graph& graph, bool sparse_input, int64_t in, int64_t out) {
  if (sparse_input) return true;
  const double e = static_cast<double>(graph.num_edges());
  const double src = static_cast<double>(graph.num_src()), dst = static_cast<double>(graph.num_dst());
  const double ins = static_cast<double>(in), outs = static_cast<double>(out);
  return src * ins * outs + e * outs <= e * ins + dst * ins * outs;
}

at::Tensor MessagePassing::propagate(const Graph& graph, const std::string& reduce, const at::Tensor& x_src,
                                     const at::Tensor& x_dst, const at::Tensor& edge) {
  const std::string op = fused_op();
  if (!op.empty() && !materialize_) return update(ops::gspmm(graph, op, reduce, x_src, edge));
  const CooView& c = graph.coo();
  const at::Tensor x_j = x_src.defined() ? x_src.index_select(0, c.src) : at::Tensor();
  const at::Tensor x_i = x_dst.defined() ? x_dst.index_select(0, c.dst) : at::Tensor();
  const at::Tensor messages = message(x_j, x_i, edge);
  return update(ops::gspmm(graph, "copy_rhs", reduce, at::Tensor(), messages));
}

}  // namespace ripple::nn
