// LightGCN's propagation, differentiable, for the rows a batch needs (internal).
//
// out = (E0[rows] + E1[rows] + ... + E_L[rows]) / (L + 1), E_{l+1} = A E_l, on a graph whose
// CSC weights are symmetric (w(u->v) = w(v->u), as LightGCN's 1/sqrt(deg(u) deg(v)) on an
// undirected graph): every layer but the last runs on the whole graph, the last only for
// `rows`. The propagation is linear, so backward needs no activation: it runs L - 1 whole-graph
// products with A (= A^T) and one restricted to the rows' neighbours. Against the same
// composition of gspmm and index_select under autograd, this saves the reverse view of a
// per-batch slice, the edge-weight indirection of the transposed products and 2L + 1
// node-sized zero-filled gradients per batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "ripple/graph.h"

namespace ripple::tasks {

// `embedding` float32 [N, d] (N = graph nodes); `weights` float32 [E, 1] in CSC order; `rows`
// int64, ascending and distinct. Differentiable in `embedding`. The graph must be
// symmetric with symmetric weights (not checked here: RecommendData builds it so).
at::Tensor lightgcn_propagate_rows(const Graph& graph, const at::Tensor& weights, const at::Tensor& embedding,
                                   const at::Tensor& rows, int64_t layers);

// The final embedding of every node (no gradient): the mean of E0..E_L.
at::Tensor lightgcn_propagate_all(const Graph& graph, const at::Tensor& weights, const at::Tensor& embedding,
                                  int64_t layers);

}  // namespace ripple::tasks
