#include "graphs.h"

#include <ATen/ATen.h>

#include <random>
#include <stdexcept>
#include <vector>

namespace ripple::bench {

Graph make_graph(const std::string& kind, int64_t nodes, int64_t edges, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> src(edges), dst(edges);
  if (kind == "uniform") {
    std::uniform_int_distribution<int64_t> pick(0, nodes - 1);
    for (int64_t i = 0; i < edges; ++i) {
      src[i] = pick(rng);
      dst[i] = pick(rng);
    }
  } else if (kind == "rmat") {
    int scale = 0;
    while ((int64_t{1} << scale) < nodes) ++scale;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<int64_t> perm(int64_t{1} << scale);
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int64_t i = 0; i < edges; ++i) {
      int64_t r = 0, c = 0;
      do {
        r = c = 0;
        for (int bit = 0; bit < scale; ++bit) {
          const double p = u(rng);
          const int quadrant = p < 0.57 ? 0 : p < 0.76 ? 1 : p < 0.95 ? 2 : 3;
          r = (r << 1) | (quadrant >> 1);
          c = (c << 1) | (quadrant & 1);
        }
      } while (perm[r] >= nodes || perm[c] >= nodes);
      src[i] = perm[r];
      dst[i] = perm[c];
    }
  } else {
    throw std::invalid_argument("graph kind must be uniform or rmat, got " + kind);
  }
  GraphBuildOptions o;
  o.dedupe = false;
  return Graph::from_edges(nodes, at::tensor(src, at::kLong), at::tensor(dst, at::kLong), o);
}

}  // namespace ripple::bench
