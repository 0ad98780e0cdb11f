// Writes a NodeDataset in the OGB raw layout (the loader's input). See include/ripple/dataset.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "io/gz_writer.h"
#include "ripple/dataset.h"
#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

// Rows of a 2-D float tensor, shortest round-trip formatting (reloads bit-identically).
void write_float_rows(const fs::path& path, const at::Tensor& t) {
  const at::Tensor c = t.to(at::kFloat).contiguous();
  const int64_t rows = c.size(0), cols = c.size(1);
  const float* p = c.data_ptr<float>();
  io::GzWriter w(path);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < cols; ++k) {
      if (k) w.buffer() += ',';
      fmt::format_to(std::back_inserter(w.buffer()), "{}", p[r * cols + k]);
    }
    w.buffer() += '\n';
    w.maybe_flush();
  }
  w.close();
}

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

void write_ogb_node_dataset(const NodeDataset& d, const std::string& out_dir,
                            const std::function<void(const std::filesystem::path&)>& extra) {
  io::StagedDirectory staged{fs::path(out_dir)};
  const fs::path root = staged.path();
  try {
    fs::create_directories(root / "raw");
    const fs::path split = root / "split" / (d.split_name.empty() ? "public" : d.split_name);
    fs::create_directories(split);
    io::write_column(root / "raw" / "num-node-list.csv.gz", {d.num_nodes()});
    io::write_column(root / "raw" / "num-edge-list.csv.gz", {d.graph.num_edges()});
    {
      const std::vector<int64_t> src = to_vector(d.graph.coo().src), dst = to_vector(d.graph.coo().dst);
      io::GzWriter w(root / "raw" / "edge.csv.gz");
      for (size_t i = 0; i < src.size(); ++i) {
        fmt::format_to(std::back_inserter(w.buffer()), "{},{}\n", src[i], dst[i]);
        w.maybe_flush();
      }
      w.close();
    }
    write_float_rows(root / "raw" / "node-feat.csv.gz", d.features);
    io::write_column(root / "raw" / "node-label.csv.gz", to_vector(d.labels));
    if (d.edge_features.defined()) write_float_rows(root / "raw" / "edge-feat.csv.gz", d.edge_features);
    io::write_column(split / "train.csv.gz", to_vector(d.train_idx));
    io::write_column(split / "valid.csv.gz", to_vector(d.valid_idx));
    io::write_column(split / "test.csv.gz", to_vector(d.test_idx));
    if (extra) extra(root);
  } catch (const fs::filesystem_error& e) {
    throw InputError(fmt::format("{}: {}", out_dir, e.what()));
  }
  staged.commit();
}

}  // namespace ripple
