// libFuzzer target: Ripple's native dataset reader (header.json + mapped arrays).
//
// Each input is a directory (see fuzz_files.h). The target reads the header, describes it
// and loads the dataset with and without checksum verification. The only acceptable
// failure is ripple::InputError; anything else (a crash, a sanitizer report, another
// exception) is a finding. A dataset that loads must keep the promises the kernels rely
// on (dataset_checks.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "dataset_checks.h"
#include "fuzz_files.h"
#include "ripple/error.h"
#include "ripple/graph_dataset.h"
#include "ripple/native_dataset.h"

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
      ripple::fuzz::require_dataset_invariants(ripple::load_native_node_dataset(dir, split, options),
                                                "native reader");
    } catch (const ripple::InputError&) {
    }
    try {
      ripple::fuzz::require_graph_dataset_invariants(ripple::load_native_graph_dataset(dir, {}, verify),
                                                     "native graph reader");
    } catch (const ripple::InputError&) {
    }
  }
  return 0;
}
