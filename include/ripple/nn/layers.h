// Graph layers, each a thin composition of the kernel algebra (see ripple/ops.h).
// Shapes: node features [N, in] -> [N, out]; on a sampled bipartite block (see
// GraphCache::for_block) [num_src, in] -> [num_dst, out], the destinations being the first
// num_dst sources. Every forward takes the GraphCache of the input
// graph (layers pick the variant they need: GCN/GAT/APPNP add self loops as in their
// papers), the input Features (dense or sparse rows), and the ForwardContext (training
// flag, dropout stream). Parameters are initialised from LibTorch's global generator, so
// seed it (torch::manual_seed) before construction for reproducible runs.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <string>

#include "ripple/nn/context.h"
#include "ripple/nn/features.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/nn/message_passing.h"

namespace ripple::nn {

// Weight [out, in] and optional bias [out]; `glorot` picks Xavier-uniform (PyG's conv
// layers) over LibTorch's default Kaiming-uniform (PyG's Linear).
class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, bool bias, bool glorot);
  at::Tensor forward(const Features& x) const { return x.linear(weight, bias); }
  at::Tensor weight, bias;
};
TORCH_MODULE(Linear);

// Kipf & Welling: out = D^-1/2 (A+I) D^-1/2 X W + b. Transforms before aggregating when that
// is cheaper (out <= in), as reference GCN implementations do.
class GCNConvImpl : public MessagePassing {
 public:
  GCNConvImpl(int64_t in, int64_t out);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  Linear lin{nullptr};
  at::Tensor bias;

 protected:
  std::string fused_op() const override { return "mul"; }
};
TORCH_MODULE(GCNConv);

// Hamilton et al.: out = W_l * AGG_{u in N(v)} x_u + W_r x_v + b, AGG in {mean, sum, max}.
// For mean and sum the transform is applied first (linear maps commute with them).
class SAGEConvImpl : public MessagePassing {
 public:
  SAGEConvImpl(int64_t in, int64_t out, std::string aggr);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  Linear lin_l{nullptr}, lin_r{nullptr};
  std::string aggr;

 protected:
  std::string fused_op() const override { return "copy_lhs"; }
};
TORCH_MODULE(SAGEConv);

// A propagation without weights (PyG's SimpleConv): out_v = AGG_{u in N(v)} x_u, AGG in
// {mean, sum, max}, plus x_v itself when combine_root is "sum" ("none": not). The output
// keeps the input's width. NCN's encoder on ogbl-ddi ("puresum" with a residual) is one such
// layer, sum aggregation with the root added, over learned embeddings. An unknown aggr or
// combine_root throws SettingError naming model.aggr or model.combine_root.
class SimpleConvImpl : public MessagePassing {
 public:
  SimpleConvImpl(std::string aggr, std::string combine_root);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  std::string aggr, combine_root;

 protected:
  std::string fused_op() const override { return "copy_lhs"; }
};
TORCH_MODULE(SimpleConv);

// Velickovic et al.: multi-head attention, e_uv = LeakyReLU(a_s.Wx_u + a_d.Wx_v),
// alpha = edge_softmax(e), out_v = sum_u alpha_uv W x_u; heads concatenated or averaged.
class GATConvImpl : public MessagePassing {
 public:
  GATConvImpl(int64_t in, int64_t out, int64_t heads, bool concat, double negative_slope,
              double attn_dropout);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  Linear lin{nullptr};
  at::Tensor att_src, att_dst, bias;
  int64_t heads, out_channels;
  bool concat;
  double negative_slope, attn_dropout;

 protected:
  std::string fused_op() const override { return "mul"; }
};
TORCH_MODULE(GATConv);

// Brody et al. (GATv2): e_uv = a . LeakyReLU(W_s x_u + W_d x_v) — the nonlinearity sits
// between the two transforms, so the [E, heads, out] scores are materialized per edge.
class GATv2ConvImpl : public MessagePassing {
 public:
  GATv2ConvImpl(int64_t in, int64_t out, int64_t heads, bool concat, double negative_slope,
                double attn_dropout);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  Linear lin_l{nullptr}, lin_r{nullptr};
  at::Tensor att, bias;
  int64_t heads, out_channels;
  bool concat;
  double negative_slope, attn_dropout;

 protected:
  std::string fused_op() const override { return "mul"; }
};
TORCH_MODULE(GATv2Conv);

// Xu et al.: out = MLP((1 + eps) x_v + sum_u x_u), MLP = Linear-BatchNorm-ReLU-Linear.
class GINConvImpl : public MessagePassing {
 public:
  GINConvImpl(int64_t in, int64_t out, int64_t hidden, bool train_eps);
  at::Tensor forward(GraphCache& g, const Features& x, ForwardContext& ctx);
  Linear lin1{nullptr}, lin2{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
  at::Tensor eps;

 protected:
  std::string fused_op() const override { return "copy_lhs"; }
};
TORCH_MODULE(GINConv);

// Gasteiger et al.: K steps of personalized PageRank, h <- (1-alpha) A_hat h + alpha h0.
class APPNPPropagationImpl : public MessagePassing {
 public:
  APPNPPropagationImpl(int64_t k, double alpha) : k(k), alpha(alpha) {}
  at::Tensor forward(GraphCache& g, const at::Tensor& h0);
  int64_t k;
  double alpha;

 protected:
  std::string fused_op() const override { return "mul"; }
};
TORCH_MODULE(APPNPPropagation);

}  // namespace ripple::nn
