// Neighbour sampling: per-hop fanouts, uniform or weighted, with or without replacement,
// counter-based randomness. See include/ripple/sample.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ripple/error.h"
#include "ripple/nn/context.h"
#include "ripple/sample.h"
#include "sample/row_sampler.h"

namespace ripple {
namespace {

using sample_detail::hop_key;
using sample_detail::node_stream;
using sample_detail::RowSampler;

void check_arguments(const Graph& graph, const at::Tensor& seeds, const SamplerOptions& o,
                     const at::Tensor& weights) {
  if (o.fanouts.empty()) throw InputError("sampler.fanouts: expected at least one hop, got []");
  for (size_t k = 0; k < o.fanouts.size(); ++k) {
    if (o.fanouts[k] == 0 || o.fanouts[k] < -1) {
      throw InputError(fmt::format("sampler.fanouts[{}]: expected a positive count or -1 (all), got {}", k,
                                   o.fanouts[k]));
    }
  }
  if (graph.is_bipartite()) throw InputError("sample_neighbors: the graph must have one node set (not bipartite)");
  if (seeds.dim() != 1 || seeds.scalar_type() != at::kLong) {
    throw InputError(fmt::format("sample_neighbors: seeds must be a 1-D int64 tensor, got {} of shape {}",
                                 c10::toString(seeds.scalar_type()), fmt::join(seeds.sizes(), "x")));
  }
  if (graph.num_nodes() >= std::numeric_limits<int32_t>::max()) {
    throw InputError("sample_neighbors: graphs of 2^31 nodes or more are not supported");
  }
  if (weights.defined() && (weights.dim() != 1 || weights.scalar_type() != at::kFloat ||
                            weights.numel() != graph.num_edges())) {
    throw InputError(fmt::format("edge_weights: expected float32 [{}] (one per edge, CSC order), got {} of shape [{}]",
                                 graph.num_edges(), c10::toString(weights.scalar_type()),
                                 fmt::join(weights.sizes(), ", ")));
  }
}

// at::parallel_for over [0, n), or a plain loop when the caller is itself one of several
// workers (nested OpenMP teams would oversubscribe the cores).
template <class F>
void for_rows(bool parallel, int64_t n, const F& body) {
  if (parallel) {
    at::parallel_for(0, n, 256, body);
  } else if (n > 0) {
    body(0, n);
  }
}

// The sampler over the graph's own index type I (int32 or int64): the CSC is read in place,
// never converted (a copy of a 200M-edge int32 CSC to int64 is 1.6 GB per call).
template <class I>
SampledBatch sample_with_index(const Graph& graph, const at::Tensor& seeds_in, const SamplerOptions& options,
                               int64_t epoch, const at::Tensor& edge_weights) {
  const at::Tensor indptr_t = graph.csc_indptr().contiguous(), indices_t = graph.csc_indices().contiguous();
  const at::Tensor weights_t = edge_weights.defined() ? edge_weights.contiguous() : at::Tensor();
  const I* indptr = indptr_t.data_ptr<I>();
  const I* indices = indices_t.data_ptr<I>();
  const float* weights = weights_t.defined() ? weights_t.data_ptr<float>() : nullptr;

  SampledBatch batch;
  batch.seeds = seeds_in.contiguous();
  std::vector<int32_t>& local = sample_detail::position_scratch(graph.num_nodes());
  std::vector<int64_t> nodes;  // global ids by local id; grows hop by hop
  struct ScratchReset {        // leaves the scratch all -1 however this call ends
    std::vector<int32_t>& local;
    std::vector<int64_t>& nodes;
    ~ScratchReset() {
      for (int64_t g : nodes) local[g] = -1;
    }
  } reset{local, nodes};

  const int64_t* seed = batch.seeds.data_ptr<int64_t>();
  for (int64_t i = 0; i < batch.seeds.numel(); ++i) {
    if (seed[i] < 0 || seed[i] >= graph.num_nodes()) {
      throw InputError(fmt::format("seeds[{}] = {} is out of range [0, {})", i, seed[i], graph.num_nodes()));
    }
    if (local[seed[i]] >= 0) throw InputError(fmt::format("seeds[{}] = {} appears twice", i, seed[i]));
    local[seed[i]] = static_cast<int32_t>(nodes.size());
    nodes.push_back(seed[i]);
  }

  std::vector<Block> hops;
  for (size_t hop = 0; hop < options.fanouts.size(); ++hop) {
    const int64_t num_dst = static_cast<int64_t>(nodes.size());
    const RowSampler rows(options.fanouts[hop], options.replace, weights);
    const uint64_t key = hop_key(options.seed, epoch, static_cast<int64_t>(hop));
    at::Tensor block_indptr = at::empty({num_dst + 1}, at::kLong);
    int64_t* bp = block_indptr.data_ptr<int64_t>();
    bp[0] = 0;
    for_rows(options.parallel, num_dst, [&](int64_t b, int64_t e) {
      for (int64_t v = b; v < e; ++v) bp[v + 1] = rows.count(indptr[nodes[v]], indptr[nodes[v] + 1]);
    });
    for (int64_t v = 0; v < num_dst; ++v) bp[v + 1] += bp[v];
    at::Tensor edge_ids = at::empty({bp[num_dst]}, at::kLong);
    int64_t* ep = edge_ids.data_ptr<int64_t>();
    for_rows(options.parallel, num_dst, [&](int64_t b, int64_t e) {
      for (int64_t v = b; v < e; ++v) {
        const int64_t g = nodes[v];
        const sample_detail::NodeStream rng = node_stream(key, g);
        rows.fill(indptr[g], indptr[g + 1], rng, ep + bp[v], bp[v + 1] - bp[v]);
      }
    });
    // Relabel in edge order, so local ids depend only on the sample.
    at::Tensor block_indices = at::empty({bp[num_dst]}, at::kLong);
    int64_t* bi = block_indices.data_ptr<int64_t>();
    for (int64_t j = 0; j < bp[num_dst]; ++j) {
      const int64_t g = indices[ep[j]];
      if (local[g] < 0) {
        local[g] = static_cast<int32_t>(nodes.size());
        nodes.push_back(g);
      }
      bi[j] = local[g];
    }
    GraphFlags flags;
    flags.sorted = false;
    flags.deduplicated = !options.replace && graph.flags().deduplicated;
    Block block;
    block.graph = Graph::from_csc(static_cast<int64_t>(nodes.size()), block_indptr, block_indices, flags);
    block.src_nodes = at::tensor(nodes, at::kLong);
    block.edge_ids = edge_ids;
    hops.push_back(std::move(block));
  }
  batch.blocks.assign(std::make_move_iterator(hops.rbegin()), std::make_move_iterator(hops.rend()));
  return batch;
}

}  // namespace

SampledBatch sample_neighbors(const Graph& graph, const at::Tensor& seeds, const SamplerOptions& options,
                              int64_t epoch, const at::Tensor& edge_weights) {
  check_arguments(graph, seeds, options, edge_weights);
  if (graph.index_type() == at::kInt) return sample_with_index<int32_t>(graph, seeds, options, epoch, edge_weights);
  return sample_with_index<int64_t>(graph, seeds, options, epoch, edge_weights);
}

}  // namespace ripple
