// Synthetic graphs and datasets. See include/ripple/generate.h.
#include "ripple/generate.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "io/csbm.h"
#include "io/gz_writer.h"
#include "io/random_graph.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using io::GzWriter;
using io::write_column;

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
  checked.features = 1;  // the graph does not depend on it; fewer draws
  std::vector<int64_t> src, dst;
  src.reserve(edges);
  dst.reserve(edges);
  io::generate_random_graph(checked, [&](const io::NodeChunk& c) {
    for (int64_t k = 0; k < c.num_nodes; ++k) {
      for (int64_t p = c.row_offsets[k]; p < c.row_offsets[k + 1]; ++p) {
        src.push_back(c.sources[p]);
        dst.push_back(c.first_node + k);
      }
    }
  });
  GraphBuildOptions o;
  o.dedupe = false;
  return Graph::from_edges(nodes, at::tensor(src, at::kLong), at::tensor(dst, at::kLong), o);
}

namespace {

at::Tensor long_tensor(const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); }

// rmat/uniform in the OGB raw layout, streamed: edges as drawn (duplicates and self loops
// kept), destination by destination; features with four decimals.
void write_random_ogb(const GenerateOptions& o, const std::string& out_dir) {
  io::StagedDirectory staged{fs::path(out_dir)};
  const fs::path tmp = staged.path();
  try {
    fs::create_directories(tmp / "raw");
    fs::create_directories(tmp / "split" / "random");
    write_column(tmp / "raw" / "num-node-list.csv.gz", {o.nodes});
    write_column(tmp / "raw" / "num-edge-list.csv.gz", {o.edges});
    GzWriter edges(tmp / "raw" / "edge.csv.gz"), features(tmp / "raw" / "node-feat.csv.gz"),
        labels(tmp / "raw" / "node-label.csv.gz"), train(tmp / "split" / "random" / "train.csv.gz"),
        valid(tmp / "split" / "random" / "valid.csv.gz"), test(tmp / "split" / "random" / "test.csv.gz");
    GzWriter* parts[] = {&train, &valid, &test};
    io::generate_random_graph(o, [&](const io::NodeChunk& c) {
      for (int64_t k = 0; k < c.num_nodes; ++k) {
        const int64_t v = c.first_node + k;
        for (int64_t p = c.row_offsets[k]; p < c.row_offsets[k + 1]; ++p) {
          fmt::format_to(std::back_inserter(edges.buffer()), "{},{}\n", c.sources[p], v);
        }
        edges.maybe_flush();
        const float* x = c.features.data() + k * o.features;
        for (int64_t j = 0; j < o.features; ++j) {
          if (j) features.buffer() += ',';
          fmt::format_to(std::back_inserter(features.buffer()), "{:.4f}", x[j]);
        }
        features.buffer() += '\n';
        features.maybe_flush();
        fmt::format_to(std::back_inserter(labels.buffer()), "{}\n", c.labels[k]);
        labels.maybe_flush();
        GzWriter& part = *parts[c.split_parts[k]];
        fmt::format_to(std::back_inserter(part.buffer()), "{}\n", v);
        part.maybe_flush();
      }
    });
    for (GzWriter* w : {&edges, &features, &labels, &train, &valid, &test}) w->close();
    staged.commit();
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: {}", out_dir, e.what()));
  }
}

// Streams a generator's chunks into the native format, each row sorted and de-duplicated
// as the loaders build it (csbm's rows already are), self loops kept and flagged.
// `num_input_edges`: the edges drawn before de-duplication (-1: as written).
void write_native_streamed(const GenerateOptions& o, const std::string& out_dir,
                           void (*generate)(const GenerateOptions&, const io::NodeChunkSink&), int64_t num_input_edges) {
  NativeNodeStreamWriter::Options w;
  w.num_nodes = o.nodes;
  w.num_features = o.features;
  w.num_classes = o.classes;
  w.max_edges = o.edges;
  w.num_input_edges = num_input_edges;
  w.feature_dtype = o.feature_dtype;
  w.split_name = "random";
  w.flags.sorted = true;
  w.flags.deduplicated = true;
  NativeNodeStreamWriter writer(out_dir, w);
  std::vector<int64_t> row;
  bool self_loops = false;
  generate(o, [&](const io::NodeChunk& c) {
    for (int64_t k = 0; k < c.num_nodes; ++k) {
      const int64_t v = c.first_node + k;
      row.assign(c.sources.begin() + c.row_offsets[k], c.sources.begin() + c.row_offsets[k + 1]);
      std::sort(row.begin(), row.end());
      row.erase(std::unique(row.begin(), row.end()), row.end());
      self_loops = self_loops || std::binary_search(row.begin(), row.end(), v);
      writer.add_node(row.data(), static_cast<int64_t>(row.size()), c.features.data() + k * o.features, c.labels[k],
                      c.split_parts[k]);
    }
  });
  w.flags.has_self_loops = self_loops;
  writer.set_flags(w.flags);
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
  io::generate_csbm(o, [&](const io::NodeChunk& c) {
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
    o.format == "native" ? write_native_streamed(o, out_dir, io::generate_csbm, -1) : write_csbm_ogb(o, out_dir);
  } else {
    o.format == "native" ? write_native_streamed(o, out_dir, io::generate_random_graph, o.edges)
                         : write_random_ogb(o, out_dir);
  }
}

}  // namespace ripple
