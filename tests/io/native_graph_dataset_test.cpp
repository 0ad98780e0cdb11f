// Native graph collections (graph classification in the native format): exact round trips
// of the shipped TU folders, reduced-precision features, degree features made again for
// another cap, every defect the loader must refuse (header fields, node ranges, an edge
// between graphs, labels out of range), and `ripple convert`, `info` and `train` on them.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "ripple/error.h"
#include "ripple/graph_dataset.h"
#include "support/cli.h"
#include "support/header_files.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::read_json;
using testing::write_json;

void overwrite_int64(const fs::path& file, int64_t position, int64_t value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(position * 8);
  f.write(reinterpret_cast<const char*>(&value), 8);
}

void expect_same_collection(const GraphDataset& a, const GraphDataset& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.num_graphs(), b.num_graphs());
  EXPECT_EQ(a.num_classes, b.num_classes);
  EXPECT_EQ(a.label_values, b.label_values);
  EXPECT_EQ(a.num_node_labels, b.num_node_labels);
  EXPECT_EQ(a.num_node_attributes, b.num_node_attributes);
  EXPECT_EQ(a.degree_feature_width, b.degree_feature_width);
  EXPECT_TRUE(at::equal(a.graph.csc_indptr(), b.graph.csc_indptr()));
  EXPECT_TRUE(at::equal(a.graph.csc_indices(), b.graph.csc_indices()));
  EXPECT_EQ(a.graph.flags().sorted, b.graph.flags().sorted);
  EXPECT_EQ(a.graph.flags().deduplicated, b.graph.flags().deduplicated);
  EXPECT_TRUE(at::equal(a.node_ptr, b.node_ptr));
  EXPECT_TRUE(at::equal(a.labels, b.labels));
  EXPECT_TRUE(at::equal(a.features, b.features));
  ASSERT_EQ(a.edge_labels.defined(), b.edge_labels.defined());
  if (a.edge_labels.defined()) {
    EXPECT_TRUE(at::equal(a.edge_labels, b.edge_labels));
  }
}

// A folder of three graphs with no node labels or attributes (degree features).
fs::path degree_folder(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "D_A.txt") << "1,2\n2,1\n1,3\n3,1\n2,3\n3,2\n4,5\n5,4\n6,7\n7,6\n6,8\n8,6\n";
  std::ofstream(dir / "D_graph_indicator.txt") << "1\n1\n1\n2\n2\n3\n3\n3\n";
  std::ofstream(dir / "D_graph_labels.txt") << "0\n1\n0\n";
  return dir;
}

TEST(NativeGraphDataset, RoundTripOfMutagAndProteinsIsExact) {
  const fs::path tmp = testing::fresh_temp_dir("native-graph-roundtrip");
  for (const char* name : {"MUTAG", "PROTEINS"}) {
    const GraphDataset tu = load_tu_dataset(testing::source_path(std::string("data/") + name));
    const fs::path out = tmp / name;
    write_native_graph_dataset(tu, out.string());
    EXPECT_TRUE(is_native_graph_dataset(out.string()));
    EXPECT_FALSE(is_tu_dataset(out.string()));
    const GraphDataset native = load_graph_dataset(out.string());
    EXPECT_EQ(native.format, "native");
    expect_same_collection(tu, native);
  }
  EXPECT_FALSE(is_native_graph_dataset(testing::source_path("data/MUTAG")));
}

TEST(NativeGraphDataset, ReducedPrecisionFeaturesComeBackAsFloat32) {
  const fs::path out = testing::fresh_temp_dir("native-graph-f16") / "proteins";
  const GraphDataset tu = load_tu_dataset(testing::source_path("data/PROTEINS"));
  write_native_graph_dataset(tu, out.string(), "float16");
  EXPECT_EQ(read_json(out / "header.json")["arrays"]["features"]["dtype"], "float16");
  const GraphDataset native = load_native_graph_dataset(out.string());
  EXPECT_EQ(native.features.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(native.features, tu.features.to(at::kHalf).to(at::kFloat)));
}

TEST(NativeGraphDataset, DegreeFeaturesOfAnotherCapAreMadeAgainFromTheGraph) {
  const fs::path tmp = testing::fresh_temp_dir("native-graph-degrees");
  const fs::path folder = degree_folder(tmp / "tu");
  const GraphDataset tu = load_tu_dataset(folder.string());
  ASSERT_EQ(tu.degree_feature_width, 3);  // degrees 1 and 2
  write_native_graph_dataset(tu, (tmp / "native").string());
  expect_same_collection(tu, load_native_graph_dataset((tmp / "native").string()));
  TuOptions cap1;
  cap1.max_degree_feature = 1;
  const GraphDataset tu1 = load_tu_dataset(folder.string(), cap1);
  const GraphDataset native1 = load_native_graph_dataset((tmp / "native").string(), cap1);
  EXPECT_EQ(native1.degree_feature_width, 2);
  expect_same_collection(tu1, native1);
}

TEST(NativeGraphDataset, HeaderDefectsNameTheField) {
  const fs::path dir = testing::fresh_temp_dir("native-graph-header") / "mutag";
  write_native_graph_dataset(load_tu_dataset(testing::source_path("data/MUTAG")), dir.string());
  const json good = read_json(dir / "header.json");
  const std::vector<testing::HeaderDefect> cases = {
      {[](json& j) { j["version"] = 2; }, "format version 2 was written by a newer Ripple"},
      {[](json& j) { j["format"] = "ripple-node-dataset"; }, "field 'format' is 'ripple-node-dataset'"},
      {[](json& j) { j["num_graphs"] = 0; }, "field 'num_graphs' must be at least 1"},
      {[](json& j) { j["num_graphs"] = 10; }, "field 'arrays.node_ptr.shape' is [189], expected [11]"},
      {[](json& j) { j["label_values"] = {1, -1}; }, "field 'label_values' must be strictly ascending"},
      {[](json& j) { j["label_values"] = {1}; }, "field 'label_values' must list one integer per class (2)"},
      {[](json& j) { j["features_from"]["node_labels"] = 6; }, "field 'features_from' does not add up"},
      {[](json& j) { j["features_from"].erase("degree_columns"); }, "field 'features_from.degree_columns' missing"},
      {[](json& j) { j["arrays"]["node_ptr"]["dtype"] = "int32"; }, "field 'arrays.node_ptr.dtype' is int32"},
      {[](json& j) { j["arrays"].erase("labels"); }, "field 'arrays.labels' missing"},
  };
  testing::expect_header_defects(dir, good, cases, [&] { load_native_graph_dataset(dir.string()); });
}

// Structure defects with sizes intact and checksums off (as if forged): node ranges, an
// edge between two graphs, a label beyond the classes.
TEST(NativeGraphDataset, StructureDefectsAreRefusedEvenWithoutChecksums) {
  const GraphDataset mutag = load_tu_dataset(testing::source_path("data/MUTAG"));
  const int64_t first_of_graph1 = mutag.node_ptr[1].item<int64_t>();
  const int64_t its_first_edge = mutag.graph.csc_indptr()[first_of_graph1].item<int64_t>();
  struct Case {
    std::string file;
    int64_t position, value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"node_ptr.bin", 5, mutag.node_ptr[4].item<int64_t>(), "every graph needs at least one node"},
      {"node_ptr.bin", 188, 3000, "must start at 0 and end at the node count 3371"},
      // graph 1's first node gets an edge from the last node of graph 0 (rows stay ascending)
      {"csc_indices.bin", its_first_edge, first_of_graph1 - 1, "edges must stay within a graph"},
      {"labels.bin", 7, 2, "labels.bin: element 7 is 2, outside the class range [0, 2)"},
  };
  int k = 0;
  for (const Case& c : cases) {
    const fs::path dir = testing::fresh_temp_dir("native-graph-structure-" + std::to_string(k++)) / "mutag";
    write_native_graph_dataset(mutag, dir.string());
    overwrite_int64(dir / c.file, c.position, c.value);
    const std::string err = testing::input_error_of([&] { load_native_graph_dataset(dir.string(), {}, /*verify_checksums=*/false); });
    EXPECT_NE(err.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << err;
    EXPECT_NE(err.find(c.file), std::string::npos) << err;
    const std::string checked = testing::input_error_of([&] { load_native_graph_dataset(dir.string()); });
    EXPECT_NE(checked.find("checksum mismatch"), std::string::npos) << checked;
  }
}

TEST(NativeGraphDataset, ConvertInfoAndTrainFromTheCommandLine) {
  const fs::path tmp = testing::fresh_temp_dir("native-graph-cli");
  const std::string mutag = testing::source_path("data/MUTAG"), out = (tmp / "mutag").string();
  auto r = testing::run_ripple("convert --in " + mutag + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("native graph collection, 188 graphs, 3371 nodes, 7442 edges"), std::string::npos)
      << r.output;
  r = testing::run_ripple("info " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("MUTAG (native graph classification"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("graphs         188"), std::string::npos) << r.output;

  // The same short cross-validation fold from either layout gives the same figures.
  const std::string run = "train --config " + testing::source_path("examples/mutag_gin.toml") +
                          " --set task.run_folds=1 --set train.epochs=3 --set train.threads=1 --run-dir ";
  r = testing::run_ripple(run + (tmp / "run-tu").string() + " --set dataset.path=" + mutag);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_ripple(run + (tmp / "run-native").string() + " --set dataset.path=" + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json tu = read_json(tmp / "run-tu" / "summary.json"), native = read_json(tmp / "run-native" / "summary.json");
  EXPECT_EQ(tu["metrics"]["test_acc"]["per_fold"], native["metrics"]["test_acc"]["per_fold"]);
  EXPECT_EQ(tu["metrics"]["train_acc"]["per_fold"], native["metrics"]["train_acc"]["per_fold"]);

  // Each refusal names the flag a graph collection cannot take (--format first: the OGB
  // layout is what is refused, not the feature type asked of it).
  for (const auto& [bad, named] : std::vector<std::pair<std::string, std::string>>{
           {" --reorder rcm", "--reorder"}, {" --format ogb", "--format ogb"},
           {" --format ogb --feature-dtype float16", "--format ogb"}, {" --split public", "--split"}}) {
    r = testing::run_ripple("convert --in " + mutag + " --out " + (tmp / "refused").string() + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("ripple: error: " + named), std::string::npos) << bad << ": " << r.output;
    EXPECT_FALSE(fs::exists(tmp / "refused")) << bad;
  }
  // --memory-budget bounds node datasets' streaming conversion: a collection says so.
  r = testing::run_ripple("convert --in " + mutag + " --out " + (tmp / "budget").string() + " --memory-budget 64M");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("note: --memory-budget bounds the streaming conversion of node datasets only"),
            std::string::npos) << r.output;
  r = testing::run_ripple("convert --in " + mutag + " --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ripple
