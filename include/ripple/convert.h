// Streaming conversion of an OGB raw-layout node dataset into the native format, in memory
// bounded by a budget, for inputs larger than RAM (`ripple convert` uses it whenever it can:
// OGB input, native output, no reordering, no edge features).
//
// How: the edge file is read in runs of as many edges as the budget holds; each run is
// sorted by (destination, source) and de-duplicated, and spilled to a temporary file beside
// the output when there is more than one. A k-way merge of the runs then yields the CSC
// rows in node order, which go to NativeNodeStreamWriter together with each node's feature
// row, read from node-feat in step. Memory: 9 bytes per node (labels and split parts), the
// run buffer and a 1 MiB read buffer per run; features never sit in memory whole.
//
// The output holds the same graph, features, labels and split as loading the input and
// writing it (`load_ogb_node_dataset` + `write_native_node_dataset`), except that split ids
// come out in ascending order without repeats and indices are int32 when the edge count
// fits. The split parts must be disjoint. The symmetric flag is decided by comparing
// order-independent 64-bit hash sums of (u, v) and (v, u) over the de-duplicated edges
// (a wrong "yes" has probability about 2^-64; the flag is informational).
//
// Failures throw InputError naming the file and line (malformed CSV, ids out of range,
// counts that disagree, a budget too small for the node count, a full disk). The temporary
// run files are removed on success and on failure; the output appears complete or not at
// all (NativeNodeStreamWriter's staging directory).
#pragma once

#include <cstdint>
#include <string>

namespace ripple {

struct StreamingConvertOptions {
  std::string split;                      // empty: "public" when present, else the first by name
  std::string feature_dtype = "float32";  // float32, float16 or bfloat16
  int64_t memory_budget = int64_t{1} << 30;  // bytes for the converter's own buffers
  int64_t max_run_edges = 0;                 // a lower cap on edges per run (tests), 0: none
};

struct StreamingConvertReport {
  int64_t nodes = 0, edges = 0, input_edges = 0;
  int64_t runs = 0;           // sorted runs (1: everything fit in the budget, nothing spilled)
  int64_t run_capacity = 0;   // edges per run that the budget allowed
};

// True when `dir` is an OGB raw-layout dataset that can be converted by streaming (no
// edge features).
bool can_stream_convert(const std::string& dir);

StreamingConvertReport stream_convert_ogb_to_native(const std::string& in_dir, const std::string& out_dir,
                                                    const StreamingConvertOptions& options);

// Parses a byte count such as "512M", "1G", "1.5GiB" or "1000000" (binary multiples);
// throws InputError naming `what` otherwise.
int64_t parse_byte_size(const std::string& text, const std::string& what);

}  // namespace ripple
