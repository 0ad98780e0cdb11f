// Synthetic graphs and datasets. See include/ripple/generate.h.
#include "ripple/generate.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <vector>

#include "io/gz_writer.h"
#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using io::GzWriter;
using io::write_column;

void draw_edges(const std::string& kind, int64_t nodes, int64_t edges, std::mt19937_64& rng,
                std::vector<int64_t>& src, std::vector<int64_t>& dst) {
  src.resize(edges);
  dst.resize(edges);
  if (kind == "uniform") {
    std::uniform_int_distribution<int64_t> pick(0, nodes - 1);
    for (int64_t i = 0; i < edges; ++i) {
      src[i] = pick(rng);
      dst[i] = pick(rng);
    }
    return;
  }
  int scale = 0;
  while ((int64_t{1} << scale) < nodes) ++scale;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<int64_t> perm(int64_t{1} << scale);
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  for (int64_t i = 0; i < edges; ++i) {
    int64_t r = 0, c = 0;
    do {  // redraw the rare edges that land on ids past `nodes` (scale rounds up)
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
}

void check_options(const GenerateOptions& o) {
  if (o.kind != "uniform" && o.kind != "rmat") {
    throw InputError(fmt::format("--kind must be uniform or rmat, got '{}'", o.kind));
  }
  if (o.nodes < 1) throw InputError("--nodes must be at least 1");
  if (o.edges < 0) throw InputError("--edges must be non-negative");
  if (o.features < 1) throw InputError("--features must be at least 1");
  if (o.classes < 1) throw InputError("--classes must be at least 1");
}

}  // namespace

Graph make_graph(const std::string& kind, int64_t nodes, int64_t edges, uint64_t seed) {
  check_options({kind, nodes, edges, 1, 1, seed});
  std::mt19937_64 rng(seed);
  std::vector<int64_t> src, dst;
  draw_edges(kind, nodes, edges, rng, src, dst);
  GraphBuildOptions o;
  o.dedupe = false;
  return Graph::from_edges(nodes, at::tensor(src, at::kLong), at::tensor(dst, at::kLong), o);
}

void write_generated_dataset(const GenerateOptions& o, const std::string& out_dir) {
  check_options(o);
  io::StagedDirectory staged{fs::path(out_dir)};
  const fs::path tmp = staged.path();
  try {
    fs::create_directories(tmp / "raw");
    fs::create_directories(tmp / "split" / "random");
    std::mt19937_64 rng(o.seed);
    std::vector<int64_t> src, dst;
    draw_edges(o.kind, o.nodes, o.edges, rng, src, dst);
    write_column(tmp / "raw" / "num-node-list.csv.gz", {o.nodes});
    write_column(tmp / "raw" / "num-edge-list.csv.gz", {o.edges});
    {
      GzWriter w(tmp / "raw" / "edge.csv.gz");
      for (int64_t i = 0; i < o.edges; ++i) {
        fmt::format_to(std::back_inserter(w.buffer()), "{},{}\n", src[i], dst[i]);
        w.maybe_flush();
      }
      w.close();
    }
    {
      GzWriter w(tmp / "raw" / "node-feat.csv.gz");
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (int64_t v = 0; v < o.nodes; ++v) {
        for (int64_t f = 0; f < o.features; ++f) {
          if (f) w.buffer() += ',';
          fmt::format_to(std::back_inserter(w.buffer()), "{:.4f}", normal(rng));
        }
        w.buffer() += '\n';
        w.maybe_flush();
      }
      w.close();
    }
    std::uniform_int_distribution<int64_t> label(0, o.classes - 1);
    std::vector<int64_t> labels(o.nodes), order(o.nodes);
    for (int64_t v = 0; v < o.nodes; ++v) {
      labels[v] = label(rng);
      order[v] = v;
    }
    write_column(tmp / "raw" / "node-label.csv.gz", labels);
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t n_train = o.nodes * 6 / 10, n_valid = o.nodes * 2 / 10;
    auto sorted_slice = [&](int64_t b, int64_t e) {
      std::vector<int64_t> s(order.begin() + b, order.begin() + e);
      std::sort(s.begin(), s.end());
      return s;
    };
    write_column(tmp / "split" / "random" / "train.csv.gz", sorted_slice(0, n_train));
    write_column(tmp / "split" / "random" / "valid.csv.gz", sorted_slice(n_train, n_train + n_valid));
    write_column(tmp / "split" / "random" / "test.csv.gz", sorted_slice(n_train + n_valid, o.nodes));
    staged.commit();
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: {}", out_dir, e.what()));
  }
}

}  // namespace ripple
