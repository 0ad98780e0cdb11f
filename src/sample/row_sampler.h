// The per-row draw of neighbour sampling (internal to src/sample): a node's counter-based
// random stream and how one CSC row is sampled from it, shared by the whole-graph sampler
// and the sampler of a partitioned graph, so that both draw the same neighbours for the
// same (seed, epoch, hop, node id) and row order. See include/ripple/sample.h for the
// conventions; a negative or non-finite weight throws InputError.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "ripple/error.h"
#include "ripple/nn/context.h"

namespace ripple::sample_detail {

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

inline uint64_t hop_key(uint64_t seed, int64_t epoch, int64_t hop) {
  return mix64(mix64(mix64(seed ^ 0x6E5A3D1C2B4F7A99ull) + static_cast<uint64_t>(epoch) * kGolden) +
               static_cast<uint64_t>(hop));
}

// The stream of node `id` (its id in the whole graph) under a hop's key.
inline NodeStream node_stream(uint64_t hop_key, int64_t id) {
  return NodeStream{mix64(hop_key + static_cast<uint64_t>(id) * kGolden)};
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

// Node id -> position in the batch being sampled, -1 when absent. One per thread, shared by
// both samplers (never nested), sized to the largest graph seen; a sampler resets the
// entries it set before it returns, however it ends.
inline std::vector<int32_t>& position_scratch(int64_t num_nodes) {
  thread_local std::vector<int32_t> scratch;
  if (static_cast<int64_t>(scratch.size()) < num_nodes) scratch.assign(static_cast<size_t>(num_nodes), -1);
  return scratch;
}

}  // namespace ripple::sample_detail
