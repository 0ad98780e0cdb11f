// The native dataset format: exact round trips from the OGB layout, reduced-precision
// features, header-only info, and every defect the loader must refuse (truncation,
// corruption, newer versions, inconsistent headers, ids out of range, failed writes).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"
#include "support/cli.h"
#include "support/cora.h"
#include "support/header_files.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::read_json;
using testing::write_json;

using testing::cora;

// A native copy of Cora in a fresh directory.
fs::path native_cora(const std::string& name, const std::string& dtype = "float32") {
  const fs::path dir = testing::fresh_temp_dir(name) / "cora";
  NativeWriteOptions o;
  o.feature_dtype = dtype;
  write_native_node_dataset(cora(), dir.string(), o);
  return dir;
}

TEST(NativeFormat, RoundTripOfCoraIsExact) {
  const fs::path dir = native_cora("native-roundtrip");
  const NodeDataset& a = cora();
  const NodeDataset b = load_node_dataset(dir.string());
  EXPECT_TRUE(is_native_dataset(dir.string()));
  EXPECT_TRUE(at::equal(b.graph.csc_indptr(), a.graph.csc_indptr()));
  EXPECT_TRUE(at::equal(b.graph.csc_indices(), a.graph.csc_indices()));
  EXPECT_TRUE(at::equal(b.features, a.features));
  EXPECT_TRUE(at::equal(b.labels, a.labels));
  EXPECT_TRUE(at::equal(b.train_idx, a.train_idx));
  EXPECT_TRUE(at::equal(b.valid_idx, a.valid_idx));
  EXPECT_TRUE(at::equal(b.test_idx, a.test_idx));
  EXPECT_EQ(b.num_classes, a.num_classes);
  EXPECT_EQ(b.num_input_edges, a.num_input_edges);
  EXPECT_EQ(b.split_name, "public");
  EXPECT_EQ(b.graph.flags().symmetric, a.graph.flags().symmetric);
  EXPECT_EQ(b.graph.flags().deduplicated, a.graph.flags().deduplicated);
  // Statistics agree, and the arrays are views of the files, not copies.
  EXPECT_EQ(describe_dataset(b).substr(describe_dataset(b).find('\n')),
            describe_dataset(a).substr(describe_dataset(a).find('\n')));
  EXPECT_EQ(fs::file_size(dir / "features.bin"), 2708u * 1433u * 4u);
}

TEST(NativeFormat, ReducedPrecisionFeaturesAreStoredAndLoadedAsSuch) {
  for (const auto& [dtype, type] : {std::pair{"float16", at::kHalf}, std::pair{"bfloat16", at::kBFloat16}}) {
    const fs::path dir = native_cora(std::string("native-") + dtype, dtype);
    const NodeDataset b = load_node_dataset(dir.string());
    EXPECT_EQ(b.features.scalar_type(), type);
    EXPECT_TRUE(at::equal(b.features, cora().features.to(type)));
    EXPECT_EQ(fs::file_size(dir / "features.bin"), 2708u * 1433u * 2u);
    EXPECT_EQ(read_native_header(dir.string()).feature_dtype, dtype);
  }
}

TEST(NativeFormat, HeaderAloneDescribesTheDataset) {
  const fs::path dir = native_cora("native-header");
  fs::remove(dir / "features.bin");  // info must not need the arrays
  const NativeHeader h = read_native_header(dir.string());
  EXPECT_EQ(h.version, kNativeFormatVersion);
  EXPECT_EQ(h.num_nodes, 2708);
  EXPECT_EQ(h.num_edges, 10556);
  EXPECT_EQ(h.num_features, 1433);
  EXPECT_EQ(h.num_classes, 7);
  const std::string text = describe_native_header(dir.string(), h);
  EXPECT_NE(text.find("nodes          2708"), std::string::npos) << text;
  EXPECT_NE(text.find("train 140, valid 500, test 1000"), std::string::npos) << text;
  const std::string err = testing::input_error_of([&] { load_node_dataset(dir.string()); });
  EXPECT_NE(err.find("features.bin: missing"), std::string::npos) << err;
}

TEST(NativeFormat, TruncatedFileIsRefusedBeforeAnythingIsRead) {
  const fs::path dir = native_cora("native-truncated");
  fs::resize_file(dir / "csc_indices.bin", fs::file_size(dir / "csc_indices.bin") - 8);
  const std::string err = testing::input_error_of([&] { load_node_dataset(dir.string()); });
  EXPECT_NE(err.find("csc_indices.bin: 84440 bytes, expected 84448"), std::string::npos) << err;
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

TEST(NativeFormat, CorruptedByteFailsTheChecksumUnlessVerificationIsOff) {
  const fs::path dir = native_cora("native-corrupt");
  {
    std::fstream f(dir / "features.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x7f');
  }
  const std::string err = testing::input_error_of([&] { load_node_dataset(dir.string()); });
  EXPECT_NE(err.find("features.bin: checksum mismatch"), std::string::npos) << err;
  NativeLoadOptions o;
  o.verify_checksums = false;
  EXPECT_EQ(load_native_node_dataset(dir.string(), "public", o).num_nodes(), 2708);
}

TEST(NativeFormat, HeaderDefectsNameTheField) {
  const fs::path dir = native_cora("native-header-defects");
  const json good = read_json(dir / "header.json");
  const std::vector<testing::HeaderDefect> cases = {
      {[](json& j) { j["version"] = 2; }, "format version 2 was written by a newer Ripple; this build reads version 1"},
      {[](json& j) { j["format"] = "something-else"; }, "field 'format' is 'something-else'"},
      {[](json& j) { j.erase("num_nodes"); }, "field 'num_nodes' missing"},
      {[](json& j) { j["num_edges"] = "many"; }, "field 'num_edges' must be a non-negative integer"},
      {[](json& j) { j["num_edges"] = 10000; }, "field 'arrays.csc_indices.shape' is [10556], expected [10000]"},
      {[](json& j) { j["arrays"]["labels"]["dtype"] = "float32"; }, "field 'arrays.labels.dtype' is float32"},
      {[](json& j) { j["arrays"]["features"]["dtype"] = "complex"; }, "unknown dtype 'complex'"},
      {[](json& j) { j["arrays"]["labels"]["file"] = "../labels.bin"; }, "must be a plain file name"},
      {[](json& j) { j["arrays"].erase("csc_indptr"); }, "field 'arrays.csc_indptr' missing"},
      {[](json& j) { j["graph_flags"]["sorted"] = 1; }, "field 'graph_flags.sorted' must be true or false"},
      {[](json& j) { j["byte_order"] = "big"; }, "field 'byte_order' must be \"little\""},
  };
  testing::expect_header_defects(dir, good, cases, [&] { load_node_dataset(dir.string()); });
  std::ofstream(dir / "header.json") << "{\"format\": \"ripple-node-dataset\", ";  // cut short
  const std::string err = testing::input_error_of([&] { load_node_dataset(dir.string()); });
  EXPECT_NE(err.find("header.json: not valid JSON"), std::string::npos) << err;
  // A number too large for any type (found by fuzz/fuzz_native_reader): nlohmann's
  // out_of_range, not a parse_error, and still an InputError naming the file.
  std::ofstream(dir / "header.json") << "{\"version\": 6E000014336}";
  const std::string huge = testing::input_error_of([&] { load_node_dataset(dir.string()); });
  EXPECT_NE(huge.find("header.json: not valid JSON"), std::string::npos) << huge;
  write_json(dir / "header.json", good);
  const std::string split_err = testing::input_error_of([&] { load_node_dataset(dir.string(), "random"); });
  EXPECT_NE(split_err.find("no split 'random'"), std::string::npos) << split_err;
}

// Ids out of range with matching sizes: the structure check catches what the checksum
// would (verification off, as if the header's checksums had been forged too).
TEST(NativeFormat, OutOfRangeIdsAreRefusedEvenWithoutChecksums) {
  NativeLoadOptions no_crc;
  no_crc.verify_checksums = false;
  struct Case {
    std::string file;
    int64_t position, value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"csc_indices.bin", 5, 2708, "out of range"},
      {"csc_indptr.bin", 3, -1, "indptr"},
      {"labels.bin", 10, 7, "labels.bin: element 10 is 7, outside the class range [0, 7)"},
      {"split.public.test.bin", 0, 99999, "split.public.test.bin: element 0 is 99999"},
  };
  for (const Case& c : cases) {
    const fs::path dir = native_cora("native-range");
    {
      std::fstream f(dir / c.file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(c.position * 8);
      f.write(reinterpret_cast<const char*>(&c.value), 8);
    }
    const std::string err = testing::input_error_of([&] { load_native_node_dataset(dir.string(), "public", no_crc); });
    EXPECT_NE(err.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << err;
    EXPECT_NE(err.find(c.file), std::string::npos) << err;
  }
}

TEST(NativeFormat, ConvertInfoAndTrainFromTheCommandLine) {
  const fs::path tmp = testing::fresh_temp_dir("native-cli");
  const std::string cora_dir = testing::source_path("data/cora"), out = (tmp / "cora16").string();
  auto r = testing::run_ripple("convert --in " + cora_dir + " --out " + out + " --feature-dtype float16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("native format"), std::string::npos) << r.output;
  r = testing::run_ripple("info " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("native format, version 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1433 per node, float16"), std::string::npos) << r.output;
  r = testing::run_ripple("info --verify " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("density 0.0127"), std::string::npos) << r.output;
  r = testing::run_ripple("train --set dataset.path=" + out + " --set train.epochs=3 --run-dir " + (tmp / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Native to OGB and back keeps every array.
  r = testing::run_ripple("convert --in " + out + " --out " + (tmp / "ogb").string() + " --format ogb");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const NodeDataset back = load_ogb_node_dataset((tmp / "ogb").string());
  EXPECT_TRUE(at::equal(back.features, cora().features.to(at::kHalf).to(at::kFloat)));
  EXPECT_TRUE(at::equal(back.graph.csc_indices(), cora().graph.csc_indices()));

  {
    std::fstream f(fs::path(out) / "labels.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16);
    f.put('\x03');
  }
  r = testing::run_ripple("info --verify " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("labels.bin: checksum mismatch"), std::string::npos) << r.output;
  r = testing::run_ripple("convert --in " + cora_dir + " --out " + (tmp / "x").string() + " --format ogb --feature-dtype float16");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--format native"), std::string::npos) << r.output;
}

// A write that fails part-way (here the file-size limit, which fails writes the way a full
// disk does) is the file system's failure (exit code 3, docs/errors.md) and leaves neither
// the output nor a partial directory; an existing output is never touched.
TEST(NativeFormat, FailedWriteLeavesNothingBehind) {
  const fs::path tmp = testing::fresh_temp_dir("native-full");
  const std::string cora_dir = testing::source_path("data/cora");
  auto r = testing::run_ripple("convert --in " + cora_dir + " --out " + (tmp / "out").string(), "ulimit -f 200; ");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("file system error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("features.bin: write failed"), std::string::npos) << r.output;
  for (const auto& e : fs::directory_iterator(tmp)) ADD_FAILURE() << "left behind: " << e.path();

  const fs::path existing = native_cora("native-existing");
  const auto before = fs::last_write_time(existing / "header.json");
  r = testing::run_ripple("convert --in " + cora_dir + " --out " + existing.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(fs::last_write_time(existing / "header.json"), before);
  // Without its header (as a killed write would leave the staging directory), a directory
  // of arrays does not load as a dataset.
  fs::remove(existing / "header.json");
  EXPECT_NE(testing::input_error_of([&] { load_node_dataset(existing.string()); }).find("not an OGB raw-layout dataset"),
            std::string::npos);
}

}  // namespace
}  // namespace ripple
