#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include "ripple/nn/functional.h"
#include "ripple/nn/layers.h"
#include "ripple/ops.h"

namespace ripple::nn {

GATConvImpl::GATConvImpl(int64_t in, int64_t out, int64_t heads_, bool concat_, double slope, double attn_p)
    : heads(heads_), out_channels(out), concat(concat_), negative_slope(slope), attn_dropout(attn_p) {
  lin = register_module("lin", Linear(in, heads * out, /*bias=*/false, /*glorot=*/true));
  att_src = register_parameter("att_src", torch::empty({1, heads, out}));
  att_dst = register_parameter("att_dst", torch::empty({1, heads, out}));
  torch::nn::init::xavier_uniform_(att_src);
  torch::nn::init::xavier_uniform_(att_dst);
  bias = register_parameter("bias", torch::zeros({concat ? heads * out : out}));
}

at::Tensor GATConvImpl::forward(GraphCache& g, const Features& x, ForwardContext& ctx) {
  const Graph& graph = g.with_self_loops();
  const at::Tensor h = lin->forward(x).view({-1, heads, out_channels});
  const at::Tensor score_src = (h * att_src).sum(-1, /*keepdim=*/true);  // [N, H, 1]
  // On a bipartite block the destinations are the first num_dst sources.
  const at::Tensor score_dst = (h.narrow(0, 0, graph.num_dst()) * att_dst).sum(-1, /*keepdim=*/true);
  const at::Tensor logits = at::leaky_relu(ops::gsddmm(graph, "add", score_src, score_dst, "src", "dst"), negative_slope);
  const at::Tensor alpha = nn::dropout(ops::edge_softmax(graph, logits), attn_dropout, ctx);  // [E, H, 1]
  const at::Tensor out = propagate(graph, "sum", h, {}, alpha);                              // [N, H, D]
  return (concat ? out.reshape({-1, heads * out_channels}) : out.mean(1)) + bias;
}

GATv2ConvImpl::GATv2ConvImpl(int64_t in, int64_t out, int64_t heads_, bool concat_, double slope, double attn_p)
    : heads(heads_), out_channels(out), concat(concat_), negative_slope(slope), attn_dropout(attn_p) {
  lin_l = register_module("lin_l", Linear(in, heads * out, /*bias=*/true, /*glorot=*/true));
  lin_r = register_module("lin_r", Linear(in, heads * out, /*bias=*/true, /*glorot=*/true));
  att = register_parameter("att", torch::empty({1, heads, out}));
  torch::nn::init::xavier_uniform_(att);
  bias = register_parameter("bias", torch::zeros({concat ? heads * out : out}));
}

at::Tensor GATv2ConvImpl::forward(GraphCache& g, const Features& x, ForwardContext& ctx) {
  const Graph& graph = g.with_self_loops();
  const at::Tensor hl = lin_l->forward(x).view({-1, heads, out_channels});
  const at::Tensor hr = lin_r->forward(x.head(graph.num_dst())).view({-1, heads, out_channels});
  const at::Tensor pair = at::leaky_relu(ops::gsddmm(graph, "add", hl, hr, "src", "dst"), negative_slope);
  const at::Tensor logits = (pair * att).sum(-1, /*keepdim=*/true);  // [E, H, 1]
  const at::Tensor alpha = nn::dropout(ops::edge_softmax(graph, logits), attn_dropout, ctx);
  const at::Tensor out = propagate(graph, "sum", hl, {}, alpha);
  return (concat ? out.reshape({-1, heads * out_channels}) : out.mean(1)) + bias;
}

}  // namespace ripple::nn
