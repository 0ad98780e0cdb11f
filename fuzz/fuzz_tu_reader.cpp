// libFuzzer target: the TU graph-classification reader (load_tu_dataset) and the graph
// batch built over every graph it loads.
//
// Each input is a directory (see fuzz_files.h) holding NAME_A.txt, NAME_graph_indicator.txt
// and the other TU files. The only acceptable failure is ripple::InputError; a dataset that
// loads must keep its promises (dataset_checks.h); a broken promise aborts, so libFuzzer
// keeps the input.
#include <cstddef>
#include <cstdint>

#include "dataset_checks.h"
#include "fuzz_files.h"
#include "ripple/error.h"
#include "ripple/graph_dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ripple::fuzz::ScratchDirectory scratch;
  scratch.fill(ripple::fuzz::split_records(data, size));
  try {
    ripple::fuzz::require_graph_dataset_invariants(ripple::load_tu_dataset(scratch.path().string()), "TU reader");
  } catch (const ripple::InputError&) {
  }
  return 0;
}
