// Graph partitions: the three assignments (METIS cuts far fewer edges than LDG, LDG fewer
// than random), the parts written with their halo (owned nodes disjoint and covering, every
// kept row complete, the split carried over), a GCN on a part with a deep enough halo giving
// the owned nodes exactly their whole-graph outputs, and `ripple partition`'s bad input.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "ripple/config.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/model.h"
#include "ripple/native_dataset.h"
#include "ripple/partition.h"
#include "support/cli.h"
#include "support/cora.h"
#include "train/node_data.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

using testing::cora;

std::vector<int64_t> row(const Graph& g, int64_t v) {
  const at::Tensor ip = g.csc_indptr().to(at::kLong), ix = g.csc_indices().to(at::kLong);
  const int64_t b = ip[v].item<int64_t>(), e = ip[v + 1].item<int64_t>();
  const at::Tensor r = ix.slice(0, b, e).contiguous();
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

// An extra array of a native dataset (partition/global_id, partition/owner), read raw.
at::Tensor read_extra_array(const fs::path& dir, const std::string& name, at::ScalarType type, int64_t n) {
  const NativeHeader h = read_native_header(dir.string());
  EXPECT_NE(h.find(name), nullptr) << name;
  std::ifstream in(dir / h.find(name)->file, std::ios::binary);
  at::Tensor x = at::empty({n}, type);
  in.read(static_cast<char*>(x.data_ptr()), static_cast<std::streamsize>(x.nbytes()));
  return x;
}

TEST(Partition, MetisCutsFewerEdgesThanLdgAndLdgFewerThanRandom) {
  std::map<std::string, int64_t> cut;
  for (const std::string method : {"metis", "ldg", "random"}) {
    PartitionOptions o;
    o.parts = 4;
    o.method = method;
    const at::Tensor a = assign_parts(cora().graph, o);
    ASSERT_EQ(a.numel(), cora().num_nodes());
    EXPECT_GE(a.min().item<int>(), 0);
    EXPECT_LT(a.max().item<int>(), 4);
    const at::Tensor sizes = at::bincount(a.to(at::kLong), {}, 4);
    EXPECT_LT(sizes.max().item<double>(), 1.1 * cora().num_nodes() / 4.0) << method;  // balanced
    cut[method] = edge_cut(cora().graph, a);
    EXPECT_TRUE(at::equal(a, assign_parts(cora().graph, o))) << method << " is deterministic";
  }
  // Measured: 6.4 %, 30.6 % and 75.6 % of Cora's 10,556 edges.
  EXPECT_LT(cut["metis"], cut["random"] / 4);
  EXPECT_LT(cut["ldg"], cut["random"] / 2);
  EXPECT_LT(cut["metis"], cut["ldg"]);

  PartitionOptions bad;
  bad.parts = cora().num_nodes() + 1;
  EXPECT_THROW(assign_parts(cora().graph, bad), InputError);
  bad.parts = 2;
  bad.method = "spectral";
  EXPECT_THROW(assign_parts(cora().graph, bad), InputError);
}

TEST(Partition, PartsHoldTheirNodesHaloCompleteRowsAndTheSplit) {
  const fs::path out = testing::fresh_temp_dir("partition") / "parts";
  PartitionOptions o;
  o.parts = 3;
  o.halo = 2;
  const at::Tensor a = assign_parts(cora().graph, o);
  const PartitionReport r = write_partitions(cora(), a, o, out.string());
  EXPECT_EQ(r.edge_cut, edge_cut(cora().graph, a));
  std::set<int64_t> owned_all, train_all, test_all;
  for (int p = 0; p < 3; ++p) {
    const fs::path dir = out / fmt::format("part-{}", p);
    const NodeDataset part = load_node_dataset(dir.string());
    const int64_t local = part.num_nodes(), owned = r.parts[static_cast<size_t>(p)].owned;
    const at::Tensor global = read_extra_array(dir, "partition/global_id", at::kLong, local);
    const at::Tensor owner = read_extra_array(dir, "partition/owner", at::kInt, local);
    EXPECT_TRUE(at::equal(owner, a.index_select(0, global)));
    EXPECT_TRUE(at::equal(part.features, cora().features.index_select(0, global)));
    EXPECT_TRUE(at::equal(part.labels, cora().labels.index_select(0, global)));
    // Owned first, all of part p's nodes; then halo nodes owned elsewhere.
    for (int64_t i = 0; i < local; ++i) {
      EXPECT_EQ(owner[i].item<int>() == p, i < owned) << "local " << i;
      if (i < owned) {
        EXPECT_TRUE(owned_all.insert(global[i].item<int64_t>()).second);
      }
    }
    // Every owned node and every first-ring node keeps all its in-edges; the outer ring none.
    const int64_t* g = global.data_ptr<int64_t>();
    std::set<int64_t> ring1;
    for (int64_t i = 0; i < owned; ++i) {
      for (const int64_t u : row(cora().graph, g[i])) ring1.insert(u);
    }
    for (int64_t i = 0; i < local; ++i) {
      std::vector<int64_t> mapped;
      for (const int64_t u : row(part.graph, i)) mapped.push_back(g[u]);
      std::sort(mapped.begin(), mapped.end());
      const bool kept = i < owned || ring1.count(g[i]);
      EXPECT_EQ(mapped, kept ? row(cora().graph, g[i]) : std::vector<int64_t>{}) << "part " << p << " local " << i;
    }
    for (const int64_t i : std::vector<int64_t>(part.train_idx.data_ptr<int64_t>(),
                                                  part.train_idx.data_ptr<int64_t>() + part.train_idx.numel())) {
      EXPECT_LT(i, owned);
      train_all.insert(g[i]);
    }
    for (int64_t k = 0; k < part.test_idx.numel(); ++k) test_all.insert(g[part.test_idx[k].item<int64_t>()]);
  }
  EXPECT_EQ(static_cast<int64_t>(owned_all.size()), cora().num_nodes());
  EXPECT_EQ(static_cast<int64_t>(train_all.size()), cora().train_idx.numel());
  EXPECT_EQ(static_cast<int64_t>(test_all.size()), cora().test_idx.numel());
  std::ifstream in(out / "partition.json");
  const nlohmann::json book = nlohmann::json::parse(in);
  EXPECT_EQ(book["parts"], 3);
  EXPECT_EQ(book["edge_cut"], r.edge_cut);
  EXPECT_THROW(write_partitions(cora(), a, o, out.string()), InputError);  // exists
}

// With halo = layers + 1 a part holds every owned node's receptive field and the degrees
// GCN normalizes by, so a 2-layer GCN gives the owned nodes their whole-graph outputs.
TEST(Partition, GcnOnAPartWithDeepHaloEqualsTheWholeGraphOnOwnedNodes) {
  const fs::path out = testing::fresh_temp_dir("partition-gcn") / "parts";
  PartitionOptions o;
  o.parts = 3;
  o.halo = 3;
  write_partitions(cora(), assign_parts(cora().graph, o), o, out.string());
  const RunConfig c = Config::from_file(testing::source_path("examples/cora_gcn.toml")).settings();
  train::NodeData whole = train::make_node_data(cora(), c);
  torch::manual_seed(0);
  NodeModel model(c.model, cora().num_features(), cora().num_classes);
  model->eval();
  nn::ForwardContext ctx;
  const at::Tensor expected = model->forward(*whole.graph, whole.features, ctx);
  for (int p = 0; p < 3; ++p) {
    const fs::path dir = out / fmt::format("part-{}", p);
    train::NodeData part = train::make_node_data(load_node_dataset(dir.string()), c);
    const at::Tensor got = model->forward(*part.graph, part.features, ctx);
    const at::Tensor global = read_extra_array(dir, "partition/global_id", at::kLong, part.dataset.num_nodes());
    std::ifstream bin(out / "partition.json");
    const int64_t n_owned = nlohmann::json::parse(bin)["part"][p]["owned"].get<int64_t>();
    EXPECT_TRUE(at::allclose(got.slice(0, 0, n_owned), expected.index_select(0, global.slice(0, 0, n_owned)), 1e-5, 1e-6))
        << "part " << p;
  }
}

TEST(Partition, CommandRefusesBadInput) {
  const fs::path tmp = testing::fresh_temp_dir("partition-cli");
  const std::string in = testing::source_path("data/cora");
  auto r = testing::run_ripple("partition --in " + in + " --parts 2 --method metis --out " + (tmp / "ok").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("edge cut"), std::string::npos) << r.output;
  r = testing::run_ripple("partition --in " + in + " --parts 2 --out " + (tmp / "ok").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;  // exists
  r = testing::run_ripple("partition --in " + in + " --parts 0 --out " + (tmp / "zero").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = testing::run_ripple("partition --in " + in + " --parts 5000 --out " + (tmp / "many").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--parts 5000: expected 1..2708"), std::string::npos) << r.output;
  r = testing::run_ripple("partition --in " + in + " --parts 2 --method spectral --out " + (tmp / "m").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = testing::run_ripple("partition --in /nonexistent --parts 2 --out " + (tmp / "n").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "zero"));
  EXPECT_FALSE(fs::exists(tmp / "many"));
}

// A mapped float16 dataset: each part stores exactly its nodes' float16 rows, and
// --memory-budget refuses a method whose estimated need exceeds it, naming what fits.
TEST(Partition, HalfPrecisionPartsAndTheMemoryBudget) {
  const fs::path tmp = testing::fresh_temp_dir("partition-budget");
  const std::string native = (tmp / "cora16").string();
  auto r = testing::run_ripple("convert --in " + testing::source_path("data/cora") + " --out " + native +
                               " --feature-dtype float16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Cora: 2708 nodes, 10556 edges. ldg needs 96 MiB + 45 bytes a node (97 MiB rounded up);
  // METIS 100 bytes per symmetrized edge more (Cora is symmetric: 1.1 MB, 98 MiB).
  r = testing::run_ripple("partition --in " + native + " --parts 2 --method metis --memory-budget 97M --out " +
                          (tmp / "metis").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--method metis needs about 98 MiB"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--method ldg or random need about 97 MiB"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "metis"));
  r = testing::run_ripple("partition --in " + native + " --parts 2 --method ldg --halo 1 --memory-budget 97M --out " +
                          (tmp / "ldg").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const NodeDataset whole = load_node_dataset(native);
  ASSERT_EQ(whole.features.scalar_type(), at::kHalf);
  for (int p = 0; p < 2; ++p) {
    const fs::path dir = tmp / "ldg" / fmt::format("part-{}", p);
    const NodeDataset part = load_node_dataset(dir.string());
    const at::Tensor global = read_extra_array(dir, "partition/global_id", at::kLong, part.num_nodes());
    EXPECT_EQ(part.features.scalar_type(), at::kHalf);
    EXPECT_TRUE(at::equal(part.features, whole.features.index_select(0, global))) << "part " << p;
  }
  // The OGB layout is read into memory, and that counts too.
  r = testing::run_ripple("partition --in " + testing::source_path("data/cora") +
                          " --parts 2 --method ldg --memory-budget 97M --out " + (tmp / "ogb").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("of it the dataset loaded into memory"), std::string::npos) << r.output;
  r = testing::run_ripple("partition --in " + native + " --parts 2 --memory-budget lots --out " + (tmp / "x").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace ripple
