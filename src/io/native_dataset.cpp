// Native dataset format: writer, header reader and memory-mapped loader. See
// include/ripple/native_dataset.h and docs/formats.md.
#include "ripple/native_dataset.h"

#include <ATen/ATen.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <limits>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/gz_writer.h"
#include "io/native_arrays.h"
#include "ripple/error.h"

namespace fs = std::filesystem;
using namespace ripple::io::native;  // NOLINT(google-build-using-namespace): the shared native-array helpers

namespace ripple {
namespace {

constexpr const char* kFormatName = "ripple-node-dataset";

json header_json(int64_t num_nodes, int64_t num_edges, int64_t num_features, int64_t num_classes,
                 int64_t num_input_edges, const GraphFlags& f, const std::string& split, const json& arrays) {
  return {
      {"format", kFormatName},
      {"version", kNativeFormatVersion},
      {"byte_order", "little"},
      {"num_nodes", num_nodes},
      {"num_edges", num_edges},
      {"num_features", num_features},
      {"num_classes", num_classes},
      {"num_input_edges", num_input_edges},
      {"graph_flags", graph_flags_json(f)},
      {"splits", json::array({split})},
      {"arrays", arrays},
  };
}

// An array written a few elements at a time: bytes collect in a buffer that goes to the
// file (and its CRC) a megabyte at a time.
class StreamedArray {
 public:
  StreamedArray(const fs::path& dir, std::string name, at::ScalarType dtype)
      : name_(std::move(name)), file_(array_file_name(name_)), dtype_(dtype), writer_(dir / file_) {
    buffer_.reserve(kFlushBytes + 4096);
  }
  template <typename T>
  void append(const T* values, int64_t n) {
    const auto* p = reinterpret_cast<const char*>(values);
    buffer_.insert(buffer_.end(), p, p + n * static_cast<int64_t>(sizeof(T)));
    count_ += n;
    if (buffer_.size() >= kFlushBytes) flush();
  }
  int64_t count() const { return count_; }
  json close(std::vector<int64_t> shape) {
    flush();
    const uint32_t crc = writer_.close();
    return json{{"file", file_}, {"dtype", dtype_name(dtype_)}, {"shape", std::move(shape)}, {"crc32", crc}};
  }

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 20;
  void flush() {
    writer_.write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  std::string name_, file_;
  at::ScalarType dtype_;
  ArrayFileWriter writer_;
  std::vector<char> buffer_;
  int64_t count_ = 0;
};

}  // namespace

uint64_t NativeArrayInfo::bytes() const {
  uint64_t n = static_cast<uint64_t>(itemsize(dtype));
  for (int64_t s : shape) n *= static_cast<uint64_t>(s);
  return n;
}

const NativeArrayInfo* NativeHeader::find(const std::string& name) const { return find_array(arrays, name); }

bool is_native_dataset(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / kHeaderFile); }

void write_native_node_dataset(const NodeDataset& d, const std::string& out_dir, const NativeWriteOptions& options) {
  const at::ScalarType feature_type = dtype_of(options.feature_dtype);
  if (!at::isFloatingType(feature_type)) {
    throw InputError(fmt::format("--feature-dtype {}: expected float32, float16 or bfloat16", options.feature_dtype));
  }
  io::StagedDirectory staged{fs::path(out_dir)};
  const fs::path root = staged.path();
  const at::ScalarType index_type = d.graph.index_type();
  const std::string split = d.split_name.empty() ? "public" : d.split_name;
  json arrays = json::object();
  arrays["csc_indptr"] = write_array(root, "csc_indptr", d.graph.csc_indptr(), index_type);
  arrays["csc_indices"] = write_array(root, "csc_indices", d.graph.csc_indices(), index_type);
  arrays["features"] = write_array(root, "features", d.features, feature_type);
  arrays["labels"] = write_array(root, "labels", d.labels, at::kLong);
  if (d.edge_features.defined()) arrays["edge_features"] = write_array(root, "edge_features", d.edge_features, at::kFloat);
  arrays["split/" + split + "/train"] = write_array(root, "split/" + split + "/train", d.train_idx, at::kLong);
  arrays["split/" + split + "/valid"] = write_array(root, "split/" + split + "/valid", d.valid_idx, at::kLong);
  arrays["split/" + split + "/test"] = write_array(root, "split/" + split + "/test", d.test_idx, at::kLong);
  for (const auto& [name, t] : options.extra_arrays) {
    if (arrays.contains(name)) throw InputError(fmt::format("native format: array '{}' given twice", name));
    arrays[name] = write_array(root, name, t, t.scalar_type());
  }
  const json header = header_json(d.num_nodes(), d.graph.num_edges(), d.num_features(), d.num_classes,
                                  d.num_input_edges, d.graph.flags(), split, arrays);
  write_text_file(root / kHeaderFile, header.dump(2) + "\n");  // last: its presence marks a complete dataset
  staged.commit();
}

struct NativeNodeStreamWriter::State {
  Options options;
  io::StagedDirectory staged;
  at::ScalarType index_type, feature_type;
  StreamedArray indptr, indices, features, labels;
  std::array<StreamedArray, 3> parts;
  int64_t next_node = 0, edges = 0;
  std::vector<c10::Half> half_row;
  std::vector<c10::BFloat16> bfloat_row;
  std::vector<int32_t> int_row;
  json extra_arrays = json::object();

  State(const std::string& out_dir, Options o, const std::string& split)
      : options(std::move(o)),
        staged(fs::path(out_dir)),
        index_type(options.max_edges < std::numeric_limits<int32_t>::max() ? at::kInt : at::kLong),
        feature_type(dtype_of(options.feature_dtype)),
        indptr(staged.path(), "csc_indptr", index_type),
        indices(staged.path(), "csc_indices", index_type),
        features(staged.path(), "features", feature_type),
        labels(staged.path(), "labels", at::kLong),
        parts{StreamedArray(staged.path(), "split/" + split + "/train", at::kLong),
              StreamedArray(staged.path(), "split/" + split + "/valid", at::kLong),
              StreamedArray(staged.path(), "split/" + split + "/test", at::kLong)} {}

  void append_index(const int64_t* v, int64_t n, StreamedArray& to) {
    if (index_type == at::kLong) return to.append(v, n);
    int_row.assign(v, v + n);
    to.append(int_row.data(), n);
  }
};

namespace {
NativeNodeStreamWriter::Options checked(NativeNodeStreamWriter::Options o) {
  const at::ScalarType t = dtype_of(o.feature_dtype);
  if (!at::isFloatingType(t)) {
    throw InputError(fmt::format("--feature-dtype {}: expected float32, float16 or bfloat16", o.feature_dtype));
  }
  if (o.num_nodes < 1 || o.num_features < 1 || o.num_classes < 1 || o.max_edges < 0) {
    throw InputError("native stream writer: nodes, features and classes must be positive");
  }
  return o;
}
}  // namespace

NativeNodeStreamWriter::NativeNodeStreamWriter(const std::string& out_dir, Options options) {
  options = checked(std::move(options));
  const std::string split = options.split_name;
  state_ = std::make_unique<State>(out_dir, std::move(options), split);
  const int64_t zero = 0;
  state_->append_index(&zero, 1, state_->indptr);
}

NativeNodeStreamWriter::~NativeNodeStreamWriter() = default;

int64_t NativeNodeStreamWriter::num_edges() const { return state_->edges; }

void NativeNodeStreamWriter::set_flags(const GraphFlags& flags) { state_->options.flags = flags; }

void NativeNodeStreamWriter::add_array(const std::string& name, const at::Tensor& values) {
  State& s = *state_;
  const bool standard = name == "csc_indptr" || name == "csc_indices" || name == "features" || name == "labels" ||
                        name == "edge_features" || name.rfind("split/", 0) == 0;
  if (standard || s.extra_arrays.contains(name)) {
    throw InputError(fmt::format("native stream writer: array '{}' given twice", name));
  }
  s.extra_arrays[name] = write_array(s.staged.path(), name, values, values.scalar_type());
}

void NativeNodeStreamWriter::add_node(const int64_t* sources, int64_t degree, const float* features, int64_t label,
                                      int split_part) {
  State& s = *state_;
  const Options& o = s.options;
  if (s.next_node >= o.num_nodes) throw InputError("native stream writer: more nodes than announced");
  if (label < 0 || label >= o.num_classes || split_part < -1 || split_part > 2) {
    throw InputError(fmt::format("native stream writer: node {}: label or split part out of range", s.next_node));
  }
  for (int64_t i = 0; i < degree; ++i) {
    if (sources[i] < 0 || sources[i] >= o.num_nodes) {
      throw InputError(fmt::format("native stream writer: node {}: source {} out of range", s.next_node, sources[i]));
    }
  }
  s.edges += degree;
  if (s.edges > o.max_edges) throw InputError("native stream writer: more edges than max_edges");
  s.append_index(sources, degree, s.indices);
  s.append_index(&s.edges, 1, s.indptr);
  const int64_t f = o.num_features;
  if (s.feature_type == at::kHalf) {
    s.half_row.assign(features, features + f);
    s.features.append(s.half_row.data(), f);
  } else if (s.feature_type == at::kBFloat16) {
    s.bfloat_row.assign(features, features + f);
    s.features.append(s.bfloat_row.data(), f);
  } else {
    s.features.append(features, f);
  }
  s.labels.append(&label, 1);
  if (split_part >= 0) s.parts[split_part].append(&s.next_node, 1);
  ++s.next_node;
}

void NativeNodeStreamWriter::finish() {
  State& s = *state_;
  const Options& o = s.options;
  if (s.next_node != o.num_nodes) {
    throw InputError(fmt::format("native stream writer: {} of {} nodes written", s.next_node, o.num_nodes));
  }
  const std::string split = o.split_name;
  json arrays = json::object();
  arrays["csc_indptr"] = s.indptr.close({o.num_nodes + 1});
  arrays["csc_indices"] = s.indices.close({s.edges});
  arrays["features"] = s.features.close({o.num_nodes, o.num_features});
  arrays["labels"] = s.labels.close({o.num_nodes});
  const char* part_names[] = {"train", "valid", "test"};
  for (int k = 0; k < 3; ++k) {
    arrays["split/" + split + "/" + part_names[k]] = s.parts[k].close({s.parts[k].count()});
  }
  for (const auto& [name, entry] : s.extra_arrays.items()) arrays[name] = entry;
  const int64_t input_edges = o.num_input_edges < 0 ? s.edges : o.num_input_edges;
  const json header =
      header_json(o.num_nodes, s.edges, o.num_features, o.num_classes, input_edges, o.flags, split, arrays);
  write_text_file(s.staged.path() / kHeaderFile, header.dump(2) + "\n");
  s.staged.commit();
}

NativeHeader read_native_header(const std::string& dir) {
  const std::string path = (fs::path(dir) / kHeaderFile).string();
  const json root = read_header(dir, kFormatName, kNativeFormatVersion);
  const HeaderReader r(path);
  NativeHeader h;
  h.version = root.at("version").get<int>();
  h.num_nodes = r.count(root, "num_nodes");
  h.num_edges = r.count(root, "num_edges");
  h.num_features = r.count(root, "num_features");
  h.num_classes = r.count(root, "num_classes");
  h.num_input_edges = r.count(root, "num_input_edges");
  h.graph_flags = parse_graph_flags(r, root);
  const json& splits = r.at(root, "splits", "");
  if (!splits.is_array()) r.fail("splits", "must be a list of split names");
  for (const json& s : splits) {
    if (!s.is_string()) r.fail("splits", "must be a list of split names");
    h.splits.push_back(s.get<std::string>());
  }
  h.arrays = parse_arrays(r, root);

  // Shapes against the counts, so that a consistent header is all the loader needs.
  const int64_t n = h.num_nodes, e = h.num_edges;
  const NativeArrayInfo& ptr = expect_array(h.arrays, path, "csc_indptr", {"int32", "int64"}, {n + 1});
  const NativeArrayInfo& idx = expect_array(h.arrays, path, "csc_indices", {"int32", "int64"}, {e});
  if (ptr.dtype != idx.dtype) r.fail("arrays.csc_indices.dtype", "must match arrays.csc_indptr.dtype");
  h.feature_dtype = expect_array(h.arrays, path, "features", {"float32", "float16", "bfloat16"}, {n, h.num_features}).dtype;
  expect_array(h.arrays, path, "labels", {"int64"}, {n});
  if (h.find("edge_features") != nullptr) expect_array(h.arrays, path, "edge_features", {"float32"}, {e, -1});
  for (const std::string& s : h.splits) {
    for (const char* part : {"train", "valid", "test"}) expect_array(h.arrays, path, "split/" + s + "/" + part, {"int64"}, {-1});
  }
  return h;
}

NodeDataset load_native_node_dataset(const std::string& dir_in, const std::string& split,
                                     const NativeLoadOptions& options) {
  const fs::path dir(dir_in);
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: dataset directory not found", dir_in));
  const NativeHeader h = read_native_header(dir_in);
  if (std::find(h.splits.begin(), h.splits.end(), split) == h.splits.end()) {
    throw InputError(fmt::format("{}: no split '{}' (dataset.split); this dataset has: {}", dir_in, split,
                                 fmt::join(h.splits, ", ")));
  }
  // Sizes of every file first, so a truncated dataset fails before anything is read.
  std::vector<std::string> names = {"csc_indptr", "csc_indices", "features", "labels",
                                    "split/" + split + "/train", "split/" + split + "/valid",
                                    "split/" + split + "/test"};
  if (h.find("edge_features") != nullptr) names.push_back("edge_features");
  check_file_sizes(dir, h.arrays, names);
  auto load = [&](const std::string& name) { return map_array(dir, *h.find(name), options.verify_checksums); };

  NodeDataset d;
  d.path = dir_in;
  d.split_name = split;
  d.num_classes = h.num_classes;
  d.num_input_edges = h.num_input_edges;
  try {
    d.graph = Graph::from_csc(h.num_nodes, load("csc_indptr"), load("csc_indices"), h.graph_flags);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} and {}: {}", (dir / h.find("csc_indptr")->file).string(),
                                 h.find("csc_indices")->file, e.what()));
  }
  d.features = load("features");
  d.labels = load("labels");
  check_range(d.labels, 0, std::max<int64_t>(h.num_classes, 0), "class", dir / h.find("labels")->file);
  if (h.find("edge_features") != nullptr) d.edge_features = load("edge_features");
  at::Tensor* parts[] = {&d.train_idx, &d.valid_idx, &d.test_idx};
  const char* part_names[] = {"train", "valid", "test"};
  for (int k = 0; k < 3; ++k) {
    const std::string name = "split/" + split + "/" + part_names[k];
    *parts[k] = load(name);
    check_range(*parts[k], 0, h.num_nodes, "node id", dir / h.find(name)->file);
  }
  return d;
}

at::Tensor load_native_array(const std::string& dir, const std::string& name, const std::string& dtype, int64_t rows,
                             const NativeLoadOptions& options) {
  const NativeHeader h = read_native_header(dir);
  const std::string header_path = (fs::path(dir) / kHeaderFile).string();
  const NativeArrayInfo& a = expect_array(h.arrays, header_path, name, {dtype.c_str()}, {rows});
  check_file_sizes(fs::path(dir), h.arrays, {name});
  return map_array(fs::path(dir), a, options.verify_checksums);
}

std::string describe_native_header(const std::string& dir, const NativeHeader& h) {
  std::ostringstream s;
  uint64_t bytes = 0;
  for (const NativeArrayInfo& a : h.arrays) bytes += a.bytes();
  s << fmt::format("dataset        {} (native format, version {})\n", dir, h.version);
  s << fmt::format("nodes          {}\n", h.num_nodes);
  s << fmt::format("edges          {} stored ({} input edges)\n", h.num_edges, h.num_input_edges);
  s << fmt::format("symmetric      {}\nself loops     {}\n", h.graph_flags.symmetric ? "yes" : "no",
                   h.graph_flags.has_self_loops ? "yes" : "no");
  s << fmt::format("features       {} per node, {}\n", h.num_features, h.feature_dtype);
  const NativeArrayInfo* ef = h.find("edge_features");
  s << fmt::format("edge features  {}\n", ef ? std::to_string(ef->shape[1]) : "none");
  s << fmt::format("classes        {}\n", h.num_classes);
  for (const std::string& split : h.splits) {
    s << fmt::format("split '{}'     train {}, valid {}, test {}\n", split, h.find("split/" + split + "/train")->shape[0],
                     h.find("split/" + split + "/valid")->shape[0], h.find("split/" + split + "/test")->shape[0]);
  }
  s << fmt::format("arrays         {} files, {:.1f} MB\n", h.arrays.size(), static_cast<double>(bytes) / 1e6);
  return s.str();
}

}  // namespace ripple
