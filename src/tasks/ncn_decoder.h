// NCN's link predictor (Neural Common Neighbor, Wang et al. 2023, "cn1" with the options of
// the authors' ddi command: a node MLP added to the embeddings before the common neighbours
// are summed, LayerNorm in every branch, two hidden layers in the output MLP).
//
// For node embeddings h [N, W] and a pair (u, v):
//   rows  = h + xlin(h)                       xlin: Lin, dropout, ReLU, Lin, LN, dropout, ReLU
//   cn    = sum of rows over the common neighbours of u and v (ops::common_neighbors, gspmm)
//   pair  = tail(ReLU(dropout(LN(Lin(h_u * h_v)))))
//   cnb   = tail(ReLU(dropout(LN(Lin(ReLU(dropout(Lin(cn))))))))
//   score = out(pair + beta * cnb)            out: `layers` - 1 times (Lin, LN, dropout, ReLU), then Lin to 1
// beta is a learned scalar starting at 1. `tail` is a further Lin (the authors' default), or
// nothing with `tail_activation` (their --tailact: the branches end on their ReLU). Every Lin
// is W x W except the last. Internal to the link task (src/tasks/link_task.h); shape errors
// surface as c10::Error from the operators.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include "ripple/graph.h"
#include "ripple/nn/context.h"
#include "ripple/nn/layers.h"

namespace ripple::tasks {

class NcnDecoderImpl : public torch::nn::Module {
 public:
  // `width`: the embeddings' width; `layers` >= 1: linear layers of the output MLP;
  // `dropout`: the probability of every dropout in the predictor; `tail_activation`: the
  // pair and common-neighbour branches end on their activation, without a last Lin.
  NcnDecoderImpl(int64_t width, int64_t layers, double dropout, bool tail_activation);

  // The rows the common neighbours sum: h + xlin(h), [N, W]. Computed once per encoding.
  at::Tensor neighbour_rows(const at::Tensor& h, nn::ForwardContext& ctx);

  // One logit per column of `pairs` (int64 [2, B]); `rows` from neighbour_rows(h), `graph`
  // the encoder's graph whose common neighbours are summed.
  at::Tensor forward(const at::Tensor& h, const at::Tensor& rows, const at::Tensor& pairs, const Graph& graph,
                     nn::ForwardContext& ctx);

 private:
  // ReLU(dropout(x)), in training mode.
  at::Tensor drop_relu(const at::Tensor& x, nn::ForwardContext& ctx);

  double dropout_;
  nn::Linear node_in_{nullptr}, node_out_{nullptr}, pair_in_{nullptr}, cn_in_{nullptr}, cn_out_{nullptr};
  nn::Linear pair_tail_{nullptr}, cn_tail_{nullptr};  // null with tail_activation
  at::Tensor beta_;                                    // [1], the common-neighbour branch's scale
  torch::nn::LayerNorm node_norm_{nullptr}, pair_norm_{nullptr}, cn_norm_{nullptr};
  torch::nn::ModuleList out_linears_, out_norms_;  // out: hidden layers and their norms, then the last Lin
};
TORCH_MODULE(NcnDecoder);

}  // namespace ripple::tasks
