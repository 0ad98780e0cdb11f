// Budget-bounded OGB -> native conversion by external sort. See include/ripple/convert.h.
#include "ripple/convert.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <queue>
#include <string_view>
#include <vector>

#include "io/gz_csv.h"
#include "io/gz_writer.h"
#include "io/ogb_files.h"
#include "io/splits.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

// An edge src -> dst as one sortable key: destination in the high half, source in the low.
constexpr int kShift = 32;
constexpr uint64_t kLowMask = (uint64_t{1} << kShift) - 1;
uint64_t edge_key(int64_t src, int64_t dst) { return (static_cast<uint64_t>(dst) << kShift) | static_cast<uint64_t>(src); }
uint64_t reversed(uint64_t key) { return (key << kShift) | (key >> kShift); }

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser: a bijection with good avalanche
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr size_t kReadBufferEdges = size_t{1} << 17;  // 1 MiB per run while merging
constexpr int64_t kFixedOverhead = int64_t{32} << 20;  // writer and reader buffers, rows

// Temporary folder for the sorted runs, beside the output (NAME.runs-PID); removed with
// its contents, and a killed run's folder by the next conversion to the same name.
class RunDirectory {
 public:
  explicit RunDirectory(const fs::path& out) {
    io::remove_abandoned_siblings(out, ".runs-");
    path_ = out;
    path_ += fmt::format(".runs-{}", ::getpid());
  }
  ~RunDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  fs::path file(int64_t run) {
    if (!created_) {
      std::error_code ec;
      fs::create_directories(path_, ec);
      if (ec) throw FileSystemError(fmt::format("{}: cannot create the temporary run folder: {}", path_.string(), ec.message()));
      created_ = true;
    }
    return path_ / fmt::format("run-{}.bin", run);
  }

 private:
  fs::path path_;
  bool created_ = false;
};

void write_run(const fs::path& path, const std::vector<uint64_t>& keys) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw FileSystemError(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
  if (std::fwrite(keys.data(), sizeof(uint64_t), keys.size(), f.get()) != keys.size() || std::fflush(f.get()) != 0) {
    throw FileSystemError(fmt::format("{}: write failed (disk full?): {}", path.string(), std::strerror(errno)));
  }
}

// One sorted run, read back in 1 MiB pieces (or walked in memory when it never spilled).
class RunReader {
 public:
  explicit RunReader(const fs::path& path) : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!file_) throw FileSystemError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
    buffer_.resize(kReadBufferEdges);
    refill();
  }
  explicit RunReader(std::vector<uint64_t> keys) : file_(nullptr, &std::fclose), buffer_(std::move(keys)) {
    end_ = buffer_.size();
  }
  bool empty() const { return pos_ == end_; }
  uint64_t front() const { return buffer_[pos_]; }
  void pop() {
    if (++pos_ == end_ && file_) refill();
  }

 private:
  void refill() {
    end_ = std::fread(buffer_.data(), sizeof(uint64_t), buffer_.size(), file_.get());
    pos_ = 0;
    if (end_ == 0 && std::ferror(file_.get())) {
      throw FileSystemError(fmt::format("{}: read failed: {}", path_.string(), std::strerror(errno)));
    }
  }
  fs::path path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
  std::vector<uint64_t> buffer_;
  size_t pos_ = 0, end_ = 0;
};

// Sorts and de-duplicates `keys` in place.
void sort_unique(std::vector<uint64_t>& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

// Reads the split files into one part per node (-1: none), refusing overlaps.
std::vector<int8_t> read_split_parts(const fs::path& split_dir, int64_t n) {
  std::vector<int8_t> parts(static_cast<size_t>(n), -1);
  const char* names[] = {"train", "valid", "test"};
  for (int8_t k = 0; k < 3; ++k) {
    const std::string path = io::locate_ogb_file(split_dir, names[k], true);
    const std::vector<int64_t> ids = io::read_int_column(path);
    for (size_t i = 0; i < ids.size(); ++i) {
      const int64_t v = ids[i];
      if (v < 0 || v >= n) throw InputError(fmt::format("{}:{}: node id {} out of range [0, {})", path, i + 1, v, n));
      if (parts[v] >= 0 && parts[v] != k) {
        throw InputError(fmt::format("{}:{}: node {} is already in the {} part; streaming conversion needs disjoint "
                                     "train/valid/test parts",
                                     path, i + 1, v, names[parts[v]]));
      }
      parts[v] = k;
    }
  }
  return parts;
}

}  // namespace

int64_t parse_byte_size(const std::string& text, const std::string& what) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);  // "", "B", "K", "KB", "KiB", ... (all binary)
  if (unit == "B") {
    unit.clear();
  } else if (unit.size() == 3 && unit.ends_with("iB")) {
    unit.resize(1);
  } else if (unit.size() == 2 && unit.back() == 'B') {
    unit.resize(1);
  }
  double scale = 0;
  if (unit.empty()) scale = 1;
  if (unit == "K" || unit == "k") scale = 1024.0;
  if (unit == "M") scale = 1024.0 * 1024;
  if (unit == "G") scale = 1024.0 * 1024 * 1024;
  if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  if (used == 0 || scale == 0 || !(value >= 0) || !std::isfinite(value * scale) || value * scale > 9e18) {
    throw InputError(fmt::format("{}: expected a byte count such as 512M, 2G or 1000000, got '{}'", what, text));
  }
  return static_cast<int64_t>(value * scale);
}

bool can_stream_convert(const std::string& dir) {
  const fs::path raw = fs::path(dir) / "raw";
  return !is_native_dataset(dir) && fs::is_directory(raw) && io::locate_ogb_file(raw, "edge-feat", false).empty();
}

StreamingConvertReport stream_convert_ogb_to_native(const std::string& in_dir, const std::string& out_dir,
                                                    const StreamingConvertOptions& options) {
  const fs::path dir(in_dir);
  const fs::path raw = dir / "raw";
  if (!fs::is_directory(raw)) throw InputError(fmt::format("{}: not an OGB raw-layout dataset (no raw/ directory)", in_dir));
  if (!io::locate_ogb_file(raw, "edge-feat", false).empty()) {
    throw InputError(fmt::format("{}: edge features are not carried by the streaming conversion", in_dir));
  }
  StreamingConvertReport report;
  const int64_t n = io::read_ogb_count(io::locate_ogb_file(raw, "num-node-list", true));
  const int64_t m = io::read_ogb_count(io::locate_ogb_file(raw, "num-edge-list", true));
  if (n < 1) throw InputError(fmt::format("{}: the dataset has no nodes", in_dir));
  if (n > static_cast<int64_t>(kLowMask)) {
    throw InputError(fmt::format("{}: {} nodes; streaming conversion handles up to 2^32 - 1", in_dir, n));
  }
  const int64_t per_node = 9;  // labels (int64) and split parts (int8)
  int64_t run_capacity = (options.memory_budget - kFixedOverhead - per_node * n) / int64_t{sizeof(uint64_t)};
  const int64_t min_capacity = int64_t{1} << 20;
  if (run_capacity < min_capacity) {
    const int64_t need = kFixedOverhead + per_node * n + min_capacity * int64_t{sizeof(uint64_t)};
    throw InputError(fmt::format("--memory-budget {} bytes is too small for {} nodes: at least {} MiB needed (9 bytes "
                                 "per node, 32 MiB of buffers and room for 1M edges per sorted run)",
                                 options.memory_budget, n, (need + (1 << 20) - 1) >> 20));
  }
  if (options.max_run_edges > 0) run_capacity = std::min(run_capacity, options.max_run_edges);
  report.nodes = n;
  report.run_capacity = run_capacity;

  // Labels and split parts: one small entry per node.
  const std::string label_path = io::locate_ogb_file(raw, "node-label", true);
  std::vector<int64_t> labels = io::read_int_column(label_path, n);
  int64_t max_label = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) {
      throw InputError(fmt::format("{}:{}: label must be a non-negative class id, got {}", label_path, i + 1, labels[i]));
    }
    max_label = std::max(max_label, labels[i]);
  }
  const std::string split = options.split.empty() ? io::first_split(io::ogb_splits(in_dir)) : options.split;
  const fs::path split_dir = dir / "split" / split;
  if (!fs::is_directory(split_dir)) {
    throw InputError(fmt::format("{}: split directory not found (dataset.split = \"{}\")", split_dir.string(), split));
  }
  const std::vector<int8_t> parts = read_split_parts(split_dir, n);

  // Sorted, de-duplicated runs of the edge file.
  RunDirectory run_dir{fs::path(out_dir)};
  std::vector<std::unique_ptr<RunReader>> runs;
  std::vector<fs::path> run_files;
  {
    const std::string edge_path = io::locate_ogb_file(raw, "edge", true);
    io::CsvReader r(edge_path);
    std::vector<uint64_t> keys;
    keys.reserve(static_cast<size_t>(std::min(run_capacity, std::max<int64_t>(m, 1))));
    std::vector<int64_t> row;
    std::string_view line;
    int64_t lines = 0;
    while (r.next_line(line)) {
      r.parse_ints(line, row);
      if (row.size() != 2) r.fail(fmt::format("expected 2 columns (src,dst), got {}", row.size()));
      for (int k = 0; k < 2; ++k) {
        if (row[k] < 0 || row[k] >= n) r.fail(fmt::format("node id {} out of range [0, {})", row[k], n));
      }
      keys.push_back(edge_key(row[0], row[1]));
      ++lines;
      if (static_cast<int64_t>(keys.size()) == run_capacity) {
        sort_unique(keys);
        run_files.push_back(run_dir.file(static_cast<int64_t>(run_files.size())));
        write_run(run_files.back(), keys);
        keys.clear();
      }
    }
    if (lines != m) throw InputError(fmt::format("{}: expected {} edges (num-edge-list), got {}", edge_path, m, lines));
    sort_unique(keys);
    if (run_files.empty()) {
      runs.push_back(std::make_unique<RunReader>(std::move(keys)));
    } else {
      if (!keys.empty()) {
        run_files.push_back(run_dir.file(static_cast<int64_t>(run_files.size())));
        write_run(run_files.back(), keys);
      }
      std::vector<uint64_t>().swap(keys);  // give the run buffer back before merging
      for (const fs::path& f : run_files) runs.push_back(std::make_unique<RunReader>(f));
    }
  }
  report.input_edges = m;
  report.runs = static_cast<int64_t>(std::max<size_t>(run_files.size(), 1));

  // Features are read in step with the rows; the first line fixes the width.
  const std::string feat_path = io::locate_ogb_file(raw, "node-feat", true);
  io::CsvReader features(feat_path);
  std::vector<float> feature_row;
  std::string_view line;
  if (!features.next_line(line)) throw InputError(fmt::format("{}: file is empty", feat_path));
  features.parse_floats(line, feature_row);
  const int64_t num_features = static_cast<int64_t>(feature_row.size());
  if (num_features < 1) features.fail("expected at least one feature column");

  NativeNodeStreamWriter::Options wo;
  wo.num_nodes = n;
  wo.num_features = num_features;
  wo.num_classes = max_label + 1;
  wo.max_edges = m;
  wo.feature_dtype = options.feature_dtype;
  wo.split_name = split;
  wo.num_input_edges = m;
  NativeNodeStreamWriter writer(out_dir, wo);  // flags: set after the merge, which finds them

  int64_t next_node = 0;
  bool first_row_read = true;  // line 1 is already in feature_row
  std::vector<int64_t> sources;
  auto emit = [&](int64_t v, const std::vector<int64_t>& row) {
    if (!first_row_read) {
      if (!features.next_line(line)) {
        throw InputError(fmt::format("{}: expected {} lines (one per node), got {}", feat_path, n, v));
      }
      features.parse_floats(line, feature_row);
      if (static_cast<int64_t>(feature_row.size()) != num_features) {
        features.fail(fmt::format("expected {} columns (as on line 1), got {}", num_features, feature_row.size()));
      }
    }
    first_row_read = false;
    writer.add_node(row.data(), static_cast<int64_t>(row.size()), feature_row.data(), labels[v], parts[v]);
  };
  const std::vector<int64_t> no_sources;
  auto emit_up_to = [&](int64_t v_end) {  // empty rows for the nodes before v_end
    for (; next_node < v_end; ++next_node) emit(next_node, no_sources);
  };

  // k-way merge: the smallest key of every run in a heap; equal keys from different runs
  // are one edge.
  using Head = std::pair<uint64_t, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heap;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i]->empty()) heap.emplace(runs[i]->front(), i);
  }
  uint64_t previous = 0, forward_hash = 0, backward_hash = 0;
  bool any = false, self_loops = false;
  int64_t current_dst = -1;
  while (!heap.empty()) {
    const auto [key, i] = heap.top();
    heap.pop();
    runs[i]->pop();
    if (!runs[i]->empty()) heap.emplace(runs[i]->front(), i);
    if (any && key == previous) continue;
    any = true;
    previous = key;
    const int64_t dst = static_cast<int64_t>(key >> kShift), src = static_cast<int64_t>(key & kLowMask);
    if (dst != current_dst) {
      if (current_dst >= 0) {
        emit_up_to(current_dst);
        emit(current_dst, sources);
        ++next_node;
      }
      sources.clear();
      current_dst = dst;
    }
    sources.push_back(src);
    self_loops = self_loops || src == dst;
    forward_hash += mix64(key);
    backward_hash += mix64(reversed(key));
  }
  if (current_dst >= 0) {
    emit_up_to(current_dst);
    emit(current_dst, sources);
    ++next_node;
  }
  emit_up_to(n);
  if (features.next_line(line)) {
    throw InputError(fmt::format("{}: more node rows than the {} expected", feat_path, n));
  }
  GraphFlags flags;
  flags.sorted = true;
  flags.deduplicated = true;
  flags.has_self_loops = self_loops;
  flags.symmetric = forward_hash == backward_hash;
  writer.set_flags(flags);
  writer.finish();
  report.edges = writer.num_edges();
  return report;
}

}  // namespace ripple
