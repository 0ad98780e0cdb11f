// Uniform and R-MAT graphs, destination by destination. See src/io/random_graph.h.
#include "io/random_graph.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <random>
#include <vector>

namespace ripple::io {
namespace {

using nn::mix64;

// Graph500 R-MAT quadrant probabilities.
constexpr double kA = 0.57, kB = 0.19, kC = 0.19, kD = 0.05;

// Where R-MAT ids land: `perm` maps the 2^scale row/column ids to node ids (past the node
// count: not a node), `column_of` maps each node back to its column.
struct RmatIds {
  int scale = 0;
  std::vector<int64_t> perm;
  std::vector<int64_t> column_of;

  RmatIds(int64_t nodes, uint64_t seed) {
    while ((int64_t{1} << scale) < nodes) ++scale;
    perm.resize(size_t{1} << scale);
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
    std::mt19937_64 rng(mix64(seed ^ 0x2A7A0001ull));
    std::shuffle(perm.begin(), perm.end(), rng);
    column_of.resize(nodes);
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] < nodes) column_of[perm[i]] = static_cast<int64_t>(i);
    }
  }

  // R-MAT's probability of column `c` (before restricting to real nodes).
  double column_weight(int64_t c) const {
    const int ones = std::popcount(static_cast<uint64_t>(c));
    return std::pow(kB + kD, ones) * std::pow(kA + kC, scale - ones);
  }

  // A source row drawn given column `c`, redrawn until it names a node.
  int64_t source(int64_t c, int64_t nodes, NodeRandom& r) const {
    // P(row bit = 1 | column bit) as a threshold on 64 random bits.
    static const uint64_t given0 = static_cast<uint64_t>(kC / (kA + kC) * 0x1.0p64);
    static const uint64_t given1 = static_cast<uint64_t>(kD / (kB + kD) * 0x1.0p64);
    for (;;) {
      int64_t row = 0;
      for (int level = scale - 1; level >= 0; --level) {
        const uint64_t threshold = ((c >> level) & 1) ? given1 : given0;
        row = (row << 1) | (r.bits() < threshold ? 1 : 0);
      }
      if (perm[row] < nodes) return perm[row];
    }
  }
};

}  // namespace

void generate_random_graph(const GenerateOptions& o, const NodeChunkSink& sink) {
  const int64_t n = o.nodes, f = o.features;
  const bool rmat = o.kind == "rmat";
  std::optional<RmatIds> ids;
  if (rmat) ids.emplace(n, o.seed);
  // Separate streams, so the graph does not depend on the feature or class count.
  const uint64_t node_key = mix64(o.seed ^ 0x2A7A0002ull), edge_key = mix64(o.seed ^ 0x2A7A0004ull);

  // Multinomial split of the edges over the destinations, drawn in node order: node v
  // takes Binomial(edges left, weight_v / weight left).
  double weight_left = 0.0;
  if (rmat) {
    for (int64_t v = 0; v < n; ++v) weight_left += ids->column_weight(ids->column_of[v]);
  } else {
    weight_left = static_cast<double>(n);
  }
  std::mt19937_64 count_rng(mix64(o.seed ^ 0x2A7A0003ull));
  int64_t edges_left = o.edges;

  NodeChunk chunk;
  for (int64_t first = 0; first < n; first += kChunkNodes) {
    const int64_t count = std::min(kChunkNodes, n - first);
    chunk.start(first, count, f);
    chunk.row_offsets.assign(count + 1, 0);
    for (int64_t k = 0; k < count; ++k) {
      const int64_t v = first + k;
      const double w = rmat ? ids->column_weight(ids->column_of[v]) : 1.0;
      int64_t d = edges_left;
      if (v + 1 < n && edges_left > 0) {
        const double p = std::clamp(w / weight_left, 0.0, 1.0);
        d = std::binomial_distribution<int64_t>(edges_left, p)(count_rng);
      }
      weight_left -= w;
      edges_left -= d;
      chunk.row_offsets[k + 1] = chunk.row_offsets[k] + d;
    }
    chunk.sources.resize(chunk.row_offsets[count]);
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t k = 0; k < count; ++k) {
      const int64_t v = first + k;
      NodeRandom r{mix64(node_key + static_cast<uint64_t>(v))};
      const double split = r.unit();
      chunk.split_parts[k] = split <= 0.6 ? 0 : split <= 0.8 ? 1 : 2;
      chunk.labels[k] = static_cast<int64_t>(r.below(static_cast<uint64_t>(o.classes)));
      float* x = chunk.features.data() + k * f;
      for (int64_t j = 0; j < f; j += 2) {
        const auto [z0, z1] = r.normals();
        x[j] = z0;
        if (j + 1 < f) x[j + 1] = z1;
      }
      NodeRandom re{mix64(edge_key + static_cast<uint64_t>(v))};
      int64_t* row = chunk.sources.data() + chunk.row_offsets[k];
      const int64_t d = chunk.row_offsets[k + 1] - chunk.row_offsets[k];
      for (int64_t e = 0; e < d; ++e) {
        row[e] = rmat ? ids->source(ids->column_of[v], n, re) : static_cast<int64_t>(re.below(static_cast<uint64_t>(n)));
      }
    }
    sink(chunk);
  }
}

}  // namespace ripple::io
