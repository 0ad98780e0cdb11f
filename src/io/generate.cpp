// Synthetic graphs and datasets. See include/ripple/generate.h.
#include "ripple/generate.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "io/csbm.h"
#include "io/gz_writer.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"

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
  if (o.kind != "uniform" && o.kind != "rmat" && o.kind != "csbm") {
    throw InputError(fmt::format("--kind must be csbm, rmat or uniform, got '{}'", o.kind));
  }
  if (o.format != "ogb" && o.format != "native") {
    throw InputError(fmt::format("--format must be native or ogb, got '{}'", o.format));
  }
  if (o.feature_dtype != "float32" && o.feature_dtype != "float16" && o.feature_dtype != "bfloat16") {
    throw InputError(fmt::format("--feature-dtype must be float32, float16 or bfloat16, got '{}'", o.feature_dtype));
  }
  if (o.format == "ogb" && o.feature_dtype != "float32") {
    throw InputError("--feature-dtype applies to --format native only (the OGB layout stores text)");
  }
  if (!(o.p_in >= 0.0 && o.p_in <= 1.0)) throw InputError("--p-in must be in [0, 1]");
  if (!(o.signal >= 0.0 && std::isfinite(o.signal))) throw InputError("--signal must be finite and non-negative");
  if (!(o.train_fraction > 0.0 && o.train_fraction <= 1.0)) throw InputError("--train-fraction must be in (0, 1]");
  if (o.kind != "csbm" && o.train_fraction != GenerateOptions{}.train_fraction) {
    throw InputError("--train-fraction applies to --kind csbm only (rmat and uniform split 60/20/20)");
  }
  if (o.nodes < 1) throw InputError("--nodes must be at least 1");
  if (o.edges < 0) throw InputError("--edges must be non-negative");
  if (o.features < 1) throw InputError("--features must be at least 1");
  if (o.classes < 1) throw InputError("--classes must be at least 1");
}

}  // namespace

Graph make_graph(const std::string& kind, int64_t nodes, int64_t edges, uint64_t seed) {
  GenerateOptions checked;
  checked.kind = kind;
  checked.nodes = nodes;
  checked.edges = edges;
  checked.seed = seed;
  check_options(checked);
  if (kind == "csbm") throw InputError("make_graph: csbm graphs come from write_generated_dataset");
  std::mt19937_64 rng(seed);
  std::vector<int64_t> src, dst;
  draw_edges(kind, nodes, edges, rng, src, dst);
  GraphBuildOptions o;
  o.dedupe = false;
  return Graph::from_edges(nodes, at::tensor(src, at::kLong), at::tensor(dst, at::kLong), o);
}

namespace {

// The split of node ids `order` (shuffled) into 60/20/20, each part sorted.
std::vector<int64_t> sorted_slice(const std::vector<int64_t>& order, int64_t b, int64_t e) {
  std::vector<int64_t> s(order.begin() + b, order.begin() + e);
  std::sort(s.begin(), s.end());
  return s;
}

at::Tensor long_tensor(const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); }

// rmat/uniform in the OGB raw layout: edges as drawn (duplicates kept), features with four
// decimals, uniform labels.
void write_random_ogb(const GenerateOptions& o, const std::string& out_dir) {
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
    write_column(tmp / "split" / "random" / "train.csv.gz", sorted_slice(order, 0, n_train));
    write_column(tmp / "split" / "random" / "valid.csv.gz", sorted_slice(order, n_train, n_train + n_valid));
    write_column(tmp / "split" / "random" / "test.csv.gz", sorted_slice(order, n_train + n_valid, o.nodes));
    staged.commit();
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: {}", out_dir, e.what()));
  }
}

// rmat/uniform in the native format, built in memory (edges de-duplicated as the loaders
// do). Same draws as the OGB layout, features at full precision.
void write_random_native(const GenerateOptions& o, const std::string& out_dir) {
  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> src, dst;
  draw_edges(o.kind, o.nodes, o.edges, rng, src, dst);
  NodeDataset d;
  d.split_name = "random";
  d.num_input_edges = o.edges;
  d.graph = Graph::from_edges(o.nodes, long_tensor(src), long_tensor(dst));
  src = {};
  dst = {};
  d.features = at::empty({o.nodes, o.features}, at::kFloat);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  float* x = d.features.data_ptr<float>();
  for (int64_t i = 0; i < o.nodes * o.features; ++i) x[i] = normal(rng);
  std::uniform_int_distribution<int64_t> label(0, o.classes - 1);
  std::vector<int64_t> labels(o.nodes), order(o.nodes);
  for (int64_t v = 0; v < o.nodes; ++v) {
    labels[v] = label(rng);
    order[v] = v;
  }
  d.labels = long_tensor(labels);
  d.num_classes = o.classes;
  std::shuffle(order.begin(), order.end(), rng);
  const int64_t n_train = o.nodes * 6 / 10, n_valid = o.nodes * 2 / 10;
  d.train_idx = long_tensor(sorted_slice(order, 0, n_train));
  d.valid_idx = long_tensor(sorted_slice(order, n_train, n_train + n_valid));
  d.test_idx = long_tensor(sorted_slice(order, n_train + n_valid, o.nodes));
  NativeWriteOptions w;
  w.feature_dtype = o.feature_dtype;
  write_native_node_dataset(d, out_dir, w);
}

// csbm straight into the native format, a chunk of nodes at a time.
void write_csbm_native(const GenerateOptions& o, const std::string& out_dir) {
  NativeNodeStreamWriter::Options w;
  w.num_nodes = o.nodes;
  w.num_features = o.features;
  w.num_classes = o.classes;
  w.max_edges = o.edges;
  w.feature_dtype = o.feature_dtype;
  w.split_name = "random";
  w.flags.sorted = true;
  w.flags.deduplicated = true;
  NativeNodeStreamWriter writer(out_dir, w);
  io::generate_csbm(o, [&](const io::CsbmChunk& c) {
    for (int64_t k = 0; k < c.num_nodes; ++k) {
      writer.add_node(c.sources.data() + c.row_offsets[k], c.row_offsets[k + 1] - c.row_offsets[k],
                      c.features.data() + k * o.features, c.labels[k], c.split_parts[k]);
    }
  });
  writer.finish();
}

// csbm in the OGB raw layout (held in memory: the OGB layout is for small graphs).
void write_csbm_ogb(const GenerateOptions& o, const std::string& out_dir) {
  std::vector<int64_t> indptr{0}, indices, labels;
  std::vector<std::vector<int64_t>> parts(3);
  NodeDataset d;
  d.split_name = "random";
  d.num_classes = o.classes;
  d.features = at::empty({o.nodes, o.features}, at::kFloat);
  io::generate_csbm(o, [&](const io::CsbmChunk& c) {
    std::copy(c.features.begin(), c.features.end(), d.features.data_ptr<float>() + c.first_node * o.features);
    for (int64_t k = 0; k < c.num_nodes; ++k) {
      indices.insert(indices.end(), c.sources.begin() + c.row_offsets[k], c.sources.begin() + c.row_offsets[k + 1]);
      indptr.push_back(static_cast<int64_t>(indices.size()));
      labels.push_back(c.labels[k]);
      parts[c.split_parts[k]].push_back(c.first_node + k);
    }
  });
  GraphFlags flags;
  flags.sorted = true;
  flags.deduplicated = true;
  d.graph = Graph::from_csc(o.nodes, long_tensor(indptr), long_tensor(indices), flags);
  d.num_input_edges = d.graph.num_edges();
  d.labels = long_tensor(labels);
  d.train_idx = long_tensor(parts[0]);
  d.valid_idx = long_tensor(parts[1]);
  d.test_idx = long_tensor(parts[2]);
  write_ogb_node_dataset(d, out_dir);
}

}  // namespace

void write_generated_dataset(const GenerateOptions& o, const std::string& out_dir) {
  check_options(o);
  if (o.kind == "csbm") {
    o.format == "native" ? write_csbm_native(o, out_dir) : write_csbm_ogb(o, out_dir);
  } else {
    o.format == "native" ? write_random_native(o, out_dir) : write_random_ogb(o, out_dir);
  }
}

}  // namespace ripple
