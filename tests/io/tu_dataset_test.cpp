// The TU graph-classification reader: the shipped MUTAG and PROTEINS folders against the
// statistics in their READMEs, features as documented, and every malformed file an
// InputError (exit 2 from the CLI) naming the file, the line and what was expected.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>
#include <map>

#include "ripple/error.h"
#include "ripple/graph_dataset.h"
#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

std::vector<int64_t> ints(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(TuDataset, MutagMatchesItsReadme) {
  const GraphDataset d = load_tu_dataset(testing::source_path("data/MUTAG"));
  EXPECT_EQ(d.name, "MUTAG");
  EXPECT_EQ(d.num_graphs(), 188);
  EXPECT_EQ(d.num_nodes(), 3371);
  EXPECT_EQ(d.graph.num_edges(), 7442);
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.label_values, (std::vector<int64_t>{-1, 1}));
  EXPECT_EQ(ints(at::bincount(d.labels)), std::vector<int64_t>({63, 125}));  // -1: 63, 1: 125
  EXPECT_EQ(d.num_node_labels, 7);
  EXPECT_EQ(d.num_features(), 7);
  EXPECT_TRUE(at::equal(d.features.sum(1), at::ones({3371})));  // one-hot rows
  const at::Tensor sizes = d.node_ptr.slice(0, 1) - d.node_ptr.slice(0, 0, -1);
  EXPECT_EQ(sizes.min().item<int64_t>(), 10);
  EXPECT_EQ(sizes.max().item<int64_t>(), 28);
  ASSERT_TRUE(d.edge_labels.defined());
  EXPECT_EQ(d.edge_labels.numel(), 7442);
  EXPECT_EQ(d.edge_labels.max().item<int64_t>(), 3);
}

TEST(TuDataset, ProteinsMatchesItsReadme) {
  const GraphDataset d = load_tu_dataset(testing::source_path("data/PROTEINS"));
  EXPECT_EQ(d.num_graphs(), 1113);
  EXPECT_EQ(d.num_nodes(), 43471);
  EXPECT_EQ(d.graph.num_edges(), 162088);
  EXPECT_EQ(d.label_values, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ints(at::bincount(d.labels)), std::vector<int64_t>({663, 450}));
  EXPECT_EQ(d.num_node_labels, 3);
  EXPECT_EQ(d.num_node_attributes, 1);
  EXPECT_EQ(d.num_features(), 4);  // 3 one-hot labels, then the attribute
  EXPECT_FLOAT_EQ(d.features[0][3].item<float>(), 23.0f);  // first line of node_attributes.txt
  const at::Tensor sizes = d.node_ptr.slice(0, 1) - d.node_ptr.slice(0, 0, -1);
  EXPECT_EQ(sizes.min().item<int64_t>(), 4);
  EXPECT_EQ(sizes.max().item<int64_t>(), 620);
  EXPECT_EQ(((d.graph.in_degrees() + d.graph.out_degrees()) == 0).sum().item<int64_t>(), 5);  // isolated nodes
}

// A small TU folder written file by file; each test breaks one file.
class TuFolder {
 public:
  explicit TuFolder(const std::string& test) : dir_(testing::fresh_temp_dir("tu-" + test)) {
    // Graph 1: nodes 1-3 (a path), graph 2: nodes 4-5 (one edge), graph 3: node 6 alone.
    write("A", "1, 2\n2, 1\n2, 3\n3, 2\n4,5\n5,4\n");
    write("graph_indicator", "1\n1\n1\n2\n2\n3\n");
    write("graph_labels", "-1\n1\n1\n");
  }
  void write(const std::string& part, const std::string& text) const {
    std::ofstream(dir_ / ("TINY_" + part + ".txt")) << text;
  }
  std::string path() const { return dir_.string(); }
  std::string error() const {
    try {
      load_tu_dataset(path());
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  }

 private:
  fs::path dir_;
};

TEST(TuDataset, SmallFolderWithDegreeFeatures) {
  TuFolder f("good");
  const GraphDataset d = load_tu_dataset(f.path());
  EXPECT_EQ(d.num_graphs(), 3);
  EXPECT_EQ(ints(d.node_ptr), std::vector<int64_t>({0, 3, 5, 6}));
  EXPECT_EQ(ints(d.labels), std::vector<int64_t>({0, 1, 1}));
  // No node labels or attributes: one-hot in-degree (0, 1, 2 -> 3 columns).
  EXPECT_EQ(d.degree_feature_width, 3);
  EXPECT_EQ(ints(d.features.argmax(1)), std::vector<int64_t>({1, 2, 1, 1, 1, 0}));
  TuOptions capped;
  capped.max_degree_feature = 1;
  EXPECT_EQ(ints(load_tu_dataset(f.path(), capped).features.argmax(1)), std::vector<int64_t>({1, 1, 1, 1, 1, 0}));
}

TEST(TuDataset, NodeLabelsAndAttributesAreConcatenated) {
  TuFolder f("features");
  f.write("node_labels", "3\n5\n3\n3\n5\n4\n");
  f.write("node_attributes", " 1.5, 2\n0,0\n1,1\n2,2\n3,3\n 4.25 ,  -1\n");
  const GraphDataset d = load_tu_dataset(f.path());
  EXPECT_EQ(d.num_features(), 3 + 2);
  EXPECT_EQ(ints(d.features.slice(1, 0, 3).argmax(1)), std::vector<int64_t>({0, 2, 0, 0, 2, 1}));
  EXPECT_FLOAT_EQ(d.features[5][3].item<float>(), 4.25f);
  EXPECT_FLOAT_EQ(d.features[0][4].item<float>(), 2.0f);
}

struct BadCase {
  const char* name;
  const char* part;      // file to overwrite ("" removes nothing)
  const char* text;
  const char* expected;  // substring of the message
};

class TuBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(TuBadInput, IsAnInputErrorNamingFileAndLine) {
  const BadCase& c = GetParam();
  TuFolder f(c.name);
  f.write(c.part, c.text);
  const std::string m = f.error();
  EXPECT_NE(m.find(c.expected), std::string::npos) << m;
  EXPECT_NE(m.find(std::string("TINY_") + c.part + ".txt"), std::string::npos) << "names the file: " << m;
}

INSTANTIATE_TEST_SUITE_P(
    Files, TuBadInput,
    ::testing::Values(
        BadCase{"three_columns", "A", "1, 2\n2, 1, 7\n", "TINY_A.txt:2: expected 2 comma-separated integers, got 3"},
        BadCase{"not_a_number", "A", "1, 2\n2, x\n", "TINY_A.txt:2: column 2: expected an integer"},
        BadCase{"id_out_of_range", "A", "1, 2\n2, 7\n", "TINY_A.txt:2: node id 7 is out of range [1, 6]"},
        BadCase{"id_zero", "A", "0, 2\n", "TINY_A.txt:1: node id 0 is out of range"},
        BadCase{"edge_between_graphs", "A", "1, 2\n3, 4\n", "TINY_A.txt:2: edge 3 -> 4 joins graph 1 to graph 2"},
        BadCase{"empty_edges", "A", "", "TINY_A.txt: file is empty"},
        BadCase{"graph_id_backwards", "graph_indicator", "1\n1\n2\n1\n2\n3\n",
                "TINY_graph_indicator.txt:4: graph id 1 after 2: graph ids must not go backwards"},
        BadCase{"graph_id_skips", "graph_indicator", "1\n1\n1\n3\n3\n3\n", "TINY_graph_indicator.txt:4: graph id 3 after 1: expected 2"},
        BadCase{"graph_id_not_from_one", "graph_indicator", "2\n2\n2\n3\n3\n4\n", "TINY_graph_indicator.txt:1: graph id 2 after 0"},
        BadCase{"labels_short", "graph_labels", "1\n1\n", "TINY_graph_labels.txt: expected 3 lines (one per graph), got 2"},
        BadCase{"labels_two_columns", "graph_labels", "1\n1, 2\n1\n", "TINY_graph_labels.txt:2: expected 1 comma-separated integers, got 2"},
        BadCase{"empty_labels", "graph_labels", "", "TINY_graph_labels.txt: file is empty"},
        BadCase{"node_labels_short", "node_labels", "1\n2\n", "TINY_node_labels.txt: expected 6 lines (one per node), got 2"},
        BadCase{"attributes_ragged", "node_attributes", "1,2\n1,2\n1\n1,2\n1,2\n1,2\n", "TINY_node_attributes.txt:3: expected 2 attributes"},
        BadCase{"attributes_not_numeric", "node_attributes", "1\n1\nabc\n1\n1\n1\n", "TINY_node_attributes.txt:3: column 1: expected a numeric"},
        BadCase{"edge_labels_long", "edge_labels", "0\n0\n0\n0\n0\n0\n0\n", "TINY_edge_labels.txt: expected 6 lines (one per line of _A.txt), got 7"},
        BadCase{"blank_line", "graph_labels", "1\n\n1\n", "TINY_graph_labels.txt:2: empty line"}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return std::string(i.param.name); });

TEST(TuDataset, MissingFilesAndFoldersAreInputErrors) {
  TuFolder f("missing");
  fs::remove(fs::path(f.path()) / "TINY_graph_labels.txt");
  EXPECT_NE(f.error().find("TINY_graph_labels.txt: file not found"), std::string::npos) << f.error();
  EXPECT_FALSE(is_tu_dataset(testing::source_path("data/cora")));
  EXPECT_THROW(load_tu_dataset(testing::source_path("data/cora")), InputError);
}

TEST(TuDataset, CommandLineExitsWithTwoOnBadFilesAndDescribesGoodOnes) {
  TuFolder f("cli");
  f.write("A", "1, 2\n3, 4\n");
  const testing::CommandResult bad = testing::run_ripple("info " + f.path());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("joins graph 1 to graph 2"), std::string::npos) << bad.output;
  const testing::CommandResult good = testing::run_ripple("info " + testing::source_path("data/MUTAG"));
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("graphs         188"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("0 (label -1): 63"), std::string::npos) << good.output;
}

}  // namespace
}  // namespace ripple
