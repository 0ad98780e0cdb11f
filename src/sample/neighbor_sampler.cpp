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

namespace ripple {
namespace {

using nn::mix64;

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kOdd = 0xD1B54A32D192ED03ull;

// The random stream of one node at one hop: draw i is mix64(key + i * kOdd).
struct NodeStream {
  uint64_t key;
  uint64_t draw(uint64_t i) const { return mix64(key + i * kOdd); }
  // Uniform integer in [0, n) (multiply-shift; bias below 2^-40 for n < 2^24).
  uint64_t below(uint64_t i, uint64_t n) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(draw(i)) * n) >> 64);
  }
  // Uniform double in (0, 1].
  double unit(uint64_t i) const { return static_cast<double>((draw(i) >> 11) + 1) * 0x1.0p-53; }
};

uint64_t hop_key(uint64_t seed, int64_t epoch, int64_t hop) {
  return mix64(mix64(mix64(seed ^ 0x6E5A3D1C2B4F7A99ull) + static_cast<uint64_t>(epoch) * kGolden) +
               static_cast<uint64_t>(hop));
}

// How one node's row [begin, end) of the CSC is sampled. Positions are CSC edge positions,
// written ascending.
class RowSampler {
 public:
  RowSampler(int64_t fanout, bool replace, const float* weights)
      : fanout_(fanout), replace_(replace), weights_(weights) {}

  int64_t count(int64_t begin, int64_t end) const {
    const int64_t degree = end - begin;
    if (fanout_ < 0) return degree;
    if (weights_ == nullptr) return replace_ ? (degree > 0 ? fanout_ : 0) : std::min(fanout_, degree);
    int64_t positive = 0;
    for (int64_t p = begin; p < end; ++p) {
      if (weights_[p] < 0 || !std::isfinite(weights_[p])) {
        throw InputError(fmt::format("edge_weights: edge {} has weight {}; weights must be finite and non-negative",
                                     p, weights_[p]));
      }
      positive += weights_[p] > 0;
    }
    if (replace_) return positive > 0 ? fanout_ : 0;
    return std::min(fanout_, positive);
  }

  // Fills out[0 .. count) with the sampled positions of the row.
  void fill(int64_t begin, int64_t end, const NodeStream& rng, int64_t* out, int64_t count) const {
    const int64_t degree = end - begin;
    if (count == 0) return;
    if (fanout_ < 0 || (!replace_ && weights_ == nullptr && count == degree)) {
      std::iota(out, out + count, begin);
      return;
    }
    if (weights_ != nullptr) {
      weighted(begin, end, rng, out, count);
    } else if (replace_) {
      for (int64_t i = 0; i < count; ++i) out[i] = begin + static_cast<int64_t>(rng.below(i, degree));
    } else if (count <= 32) {
      floyd(degree, rng, out, count);
      for (int64_t i = 0; i < count; ++i) out[i] += begin;
    } else {
      partial_shuffle(degree, rng, out, count);
      for (int64_t i = 0; i < count; ++i) out[i] += begin;
    }
    std::sort(out, out + count);
  }

 private:
  // Robert Floyd's algorithm: `count` distinct offsets in [0, degree) from `count` draws.
  static void floyd(int64_t degree, const NodeStream& rng, int64_t* out, int64_t count) {
    int64_t taken = 0;
    for (int64_t j = degree - count; j < degree; ++j) {
      const int64_t t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(j), static_cast<uint64_t>(j + 1)));
      const bool seen = std::find(out, out + taken, t) != out + taken;
      out[taken++] = seen ? j : t;
    }
  }

  // The first `count` places of a Fisher-Yates shuffle of [0, degree).
  static void partial_shuffle(int64_t degree, const NodeStream& rng, int64_t* out, int64_t count) {
    std::vector<int64_t> order(degree);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t j = i + static_cast<int64_t>(rng.below(i, degree - i));
      std::swap(order[i], order[j]);
      out[i] = order[i];
    }
  }

  void weighted(int64_t begin, int64_t end, const NodeStream& rng, int64_t* out, int64_t count) const {
    const int64_t degree = end - begin;
    if (replace_) {  // inverse transform on the running sum
      std::vector<double> cumulative(degree);
      double total = 0;
      for (int64_t p = 0; p < degree; ++p) cumulative[p] = total += weights_[begin + p];
      for (int64_t i = 0; i < count; ++i) {
        const double u = rng.unit(i) * total;
        int64_t p = std::lower_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
        p = std::min(p, degree - 1);
        while (weights_[begin + p] == 0) --p;  // u landed exactly on a boundary before a zero weight
        out[i] = begin + p;
      }
      return;
    }
    // Efraimidis-Spirakis: the `count` smallest keys -log(u) / w, zero weights excluded.
    std::vector<std::pair<double, int64_t>> keys;
    keys.reserve(degree);
    for (int64_t p = 0; p < degree; ++p) {
      const float w = weights_[begin + p];
      if (w > 0) keys.emplace_back(-std::log(rng.unit(p)) / w, begin + p);
    }
    std::nth_element(keys.begin(), keys.begin() + (count - 1), keys.end());
    for (int64_t i = 0; i < count; ++i) out[i] = keys[i].second;
  }

  int64_t fanout_;
  bool replace_;
  const float* weights_;
};

// Global id -> local id of the batch being sampled, -1 when absent. One per thread, sized to
// the largest graph seen, and reset after each batch by walking the ids it touched.
std::vector<int32_t>& local_id_scratch(int64_t num_nodes) {
  thread_local std::vector<int32_t> scratch;
  if (static_cast<int64_t>(scratch.size()) < num_nodes) scratch.assign(num_nodes, -1);
  return scratch;
}

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
  std::vector<int32_t>& local = local_id_scratch(graph.num_nodes());
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
        const NodeStream rng{mix64(key + static_cast<uint64_t>(g) * kGolden)};
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
