// Ripple's native on-disk dataset format: a directory holding header.json (version,
// counts, dtypes, graph flags, and per array its file, shape and CRC-32) beside raw
// little-endian arrays, opened by memory mapping, read-only. The layout is documented in
// docs/formats.md.
//
// Loading checks the header (format name, version, field types, dtypes, shapes against the
// counts, file names) and every file's size before mapping anything, then validates the
// structure (CSC pointers monotone, ids in range, labels within the classes) so that no
// kernel can read out of bounds; with `verify_checksums` it also recomputes each array's
// CRC-32. Every failure throws InputError naming the file and the field or offset. Writing
// goes through a staging directory renamed into place, so a killed or failed write
// leaves no directory that loads as complete.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ripple/dataset.h"

namespace ripple {

inline constexpr int kNativeFormatVersion = 1;

// What header.json says, without mapping the arrays (cheap: `ripple info` prints it).
struct NativeArrayInfo {
  std::string name;   // e.g. "csc_indices", "split/public/train"
  std::string file;   // file name inside the dataset directory
  std::string dtype;  // int32, int64, float32, float16, bfloat16
  std::vector<int64_t> shape;
  uint32_t crc32 = 0;
  uint64_t bytes() const;
};

struct NativeHeader {
  int version = 0;
  int64_t num_nodes = 0, num_edges = 0, num_features = 0, num_classes = 0, num_input_edges = 0;
  GraphFlags graph_flags;
  std::string feature_dtype;
  std::vector<std::string> splits;
  std::vector<NativeArrayInfo> arrays;
  const NativeArrayInfo* find(const std::string& name) const;
};

struct NativeWriteOptions {
  std::string feature_dtype = "float32";  // float32, float16 or bfloat16
  // Further arrays stored as they are (for example "mapping/new_id" after reordering).
  std::vector<std::pair<std::string, at::Tensor>> extra_arrays;
};

struct NativeLoadOptions {
  bool verify_checksums = true;
};

// True when `dir` holds a header.json (the native format) rather than the OGB layout.
bool is_native_dataset(const std::string& dir);

NativeHeader read_native_header(const std::string& dir);

// Writes `data` (its one split) in the native format. An existing `out_dir` and write
// failures (for example a full disk) throw InputError; the partial output is removed.
void write_native_node_dataset(const NodeDataset& data, const std::string& out_dir,
                               const NativeWriteOptions& options = {});

// Writes a node dataset in the native format one destination node at a time, for
// generators and converters that must not hold the graph in memory: memory stays at a few
// buffers whatever the size. Nodes come in id order; each gives its incoming neighbours
// (its CSC row, ascending when `flags.sorted`), its feature row, its label, and its part
// of the one split (0 train, 1 valid, 2 test, -1 none). finish() writes header.json and renames the
// directory into place; a writer destroyed before finish() (an exception, a full disk)
// removes its partial output, and a killed process leaves only a staging directory
// without a header, which never loads. Errors throw InputError naming the file.
class NativeNodeStreamWriter {
 public:
  struct Options {
    int64_t num_nodes = 0;
    int64_t num_features = 0;
    int64_t num_classes = 0;
    int64_t max_edges = 0;                  // an upper bound: picks int32 indices when it fits
    std::string feature_dtype = "float32";  // float32, float16 or bfloat16
    std::string split_name = "random";
    GraphFlags flags;                       // what the caller guarantees about the rows
    int64_t num_input_edges = -1;           // edges read before de-duplication (-1: as written)
  };
  NativeNodeStreamWriter(const std::string& out_dir, Options options);
  ~NativeNodeStreamWriter();
  NativeNodeStreamWriter(const NativeNodeStreamWriter&) = delete;
  NativeNodeStreamWriter& operator=(const NativeNodeStreamWriter&) = delete;

  void add_node(const int64_t* sources, int64_t degree, const float* features, int64_t label, int split_part);
  int64_t num_edges() const;
  // Replaces Options::flags (for callers that learn them while streaming, before finish()).
  void set_flags(const GraphFlags& flags);
  // Stores a further array as it is (as NativeWriteOptions::extra_arrays does), written now;
  // a name given twice or one of the standard arrays' is an InputError.
  void add_array(const std::string& name, const at::Tensor& values);
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Maps a native dataset. Features keep their stored dtype (float16 stays float16); the
// graph's CSC arrays, labels and splits are views of the mapped files.
NodeDataset load_native_node_dataset(const std::string& dir, const std::string& split = "public",
                                     const NativeLoadOptions& options = {});

// A further array of the native dataset at `dir` (one of NativeWriteOptions::extra_arrays,
// e.g. "partition/global_id"), mapped read-only: it must exist with `dtype` and `rows` rows
// (1-D). Throws InputError naming the directory and the array otherwise.
at::Tensor load_native_array(const std::string& dir, const std::string& name, const std::string& dtype, int64_t rows,
                             const NativeLoadOptions& options = {});

// Header summary without touching the arrays.
std::string describe_native_header(const std::string& dir, const NativeHeader& header);

}  // namespace ripple
