// libFuzzer target: Ripple's native dataset reader (header.json + mapped arrays).
//
// Each input is a directory (see fuzz_files.h). The target reads the header, describes it
// and loads the dataset with and without checksum verification. The only acceptable
// failure is ripple::InputError; anything else (a crash, a sanitizer report, another
// exception) is a finding. A dataset that loads must keep the promises the kernels rely
// on, which are checked here element by element: CSC pointers start at 0, never decrease
// and end at the edge count, every index and label is in range, and every split id names
// a node.
#include <ATen/ATen.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>

#include "fuzz_files.h"
#include "ripple/error.h"
#include "ripple/native_dataset.h"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "native reader accepted a dataset that breaks: %s\n", what);
    std::abort();
  }
}

void check_ids(const at::Tensor& ids, int64_t bound, const char* what) {
  if (!ids.defined()) return;
  const at::Tensor v = ids.to(at::kLong).contiguous();
  const int64_t* p = v.data_ptr<int64_t>();
  for (int64_t i = 0; i < v.numel(); ++i) require(p[i] >= 0 && p[i] < bound, what);
}

void check_loaded(const ripple::NodeDataset& d) {
  const int64_t n = d.graph.num_nodes();
  const at::Tensor indptr = d.graph.csc_indptr().to(at::kLong).contiguous();
  const at::Tensor indices = d.graph.csc_indices();
  require(indptr.dim() == 1 && indptr.numel() == n + 1, "indptr length");
  const int64_t* p = indptr.data_ptr<int64_t>();
  require(p[0] == 0, "indptr starts at 0");
  for (int64_t v = 0; v < n; ++v) require(p[v] <= p[v + 1], "indptr never decreases");
  require(p[n] == indices.numel(), "indptr ends at the edge count");
  check_ids(indices, d.graph.num_src(), "csc index in range");
  require(d.labels.numel() == n, "one label per node");
  check_ids(d.labels, d.num_classes, "label below num_classes");
  require(d.features.dim() == 2 && d.features.size(0) == n, "one feature row per node");
  (void)d.features.to(at::kFloat).sum().item<float>();  // touches every feature byte
  check_ids(d.train_idx, n, "train id in range");
  check_ids(d.valid_idx, n, "valid id in range");
  check_ids(d.test_idx, n, "test id in range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ripple::fuzz::ScratchDirectory scratch;
  scratch.fill(ripple::fuzz::split_records(data, size));
  const std::string dir = scratch.path().string();
  std::string split = "public";
  try {
    const ripple::NativeHeader header = ripple::read_native_header(dir);
    (void)ripple::describe_native_header(dir, header);
    if (!header.splits.empty()) split = header.splits.front();
  } catch (const ripple::InputError&) {
  }
  for (bool verify : {false, true}) {
    try {
      ripple::NativeLoadOptions options;
      options.verify_checksums = verify;
      check_loaded(ripple::load_native_node_dataset(dir, split, options));
    } catch (const ripple::InputError&) {
    }
  }
  return 0;
}
