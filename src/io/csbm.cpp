// Contextual stochastic block model generator. See src/io/csbm.h.
#include "io/csbm.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ripple::io {

void generate_csbm(const GenerateOptions& o, const NodeChunkSink& sink) {
  using nn::mix64;
  const int64_t n = o.nodes, f = o.features, c = o.classes;
  const uint64_t label_key = mix64(o.seed ^ 0xC5B30001ull), node_key = mix64(o.seed ^ 0xC5B30002ull);
  auto label_of = [&](int64_t v) {
    NodeRandom r{mix64(label_key + static_cast<uint64_t>(v))};
    return static_cast<int64_t>(r.below(static_cast<uint64_t>(c)));
  };
  // Block members, to draw a same-block neighbour: one id per node.
  std::vector<std::vector<int64_t>> members(c);
  for (int64_t v = 0; v < n; ++v) members[label_of(v)].push_back(v);
  std::vector<float> means(c * f);
  {
    std::mt19937_64 rng(mix64(o.seed ^ 0xC5B30003ull));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& m : means) m = normal(rng);
  }
  const int64_t base_degree = o.edges / n;
  const double extra_probability = static_cast<double>(o.edges % n) / static_cast<double>(n);
  const double train_end = o.train_fraction, valid_end = train_end + 0.5 * (1.0 - train_end);

  NodeChunk chunk;
  std::vector<std::vector<int64_t>> rows(kChunkNodes);
  for (int64_t first = 0; first < n; first += kChunkNodes) {
    const int64_t count = std::min(kChunkNodes, n - first);
    chunk.start(first, count, f);
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t k = 0; k < count; ++k) {
      const int64_t v = first + k;
      const int64_t label = label_of(v);
      NodeRandom r{mix64(node_key + static_cast<uint64_t>(v))};
      const double split = r.unit();
      chunk.split_parts[k] = split <= train_end ? 0 : split <= valid_end ? 1 : 2;
      chunk.labels[k] = label;
      const int64_t degree = base_degree + (r.unit() <= extra_probability ? 1 : 0);
      std::vector<int64_t>& row = rows[k];
      row.clear();
      const std::vector<int64_t>& block = members[label];
      for (int64_t e = 0; e < degree; ++e) {
        const int64_t u = r.unit() <= o.p_in ? block[r.below(block.size())] : static_cast<int64_t>(r.below(n));
        if (u != v) row.push_back(u);
      }
      std::sort(row.begin(), row.end());
      row.erase(std::unique(row.begin(), row.end()), row.end());
      float* x = chunk.features.data() + k * f;
      const float* mu = means.data() + label * f;
      for (int64_t j = 0; j < f; j += 2) {
        const auto [z0, z1] = r.normals();
        x[j] = static_cast<float>(o.signal) * mu[j] + z0;
        if (j + 1 < f) x[j + 1] = static_cast<float>(o.signal) * mu[j + 1] + z1;
      }
    }
    chunk.row_offsets.assign(1, 0);
    chunk.sources.clear();
    for (int64_t k = 0; k < count; ++k) {
      chunk.sources.insert(chunk.sources.end(), rows[k].begin(), rows[k].end());
      chunk.row_offsets.push_back(static_cast<int64_t>(chunk.sources.size()));
    }
    sink(chunk);
  }
}

}  // namespace ripple::io
