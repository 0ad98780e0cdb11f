// libFuzzer target: the CSV readers (io::CsvReader, io::read_int_column) and the OGB raw
// layout loader built on them.
//
// Each input is a directory (see fuzz_files.h). The first file is read line by line as
// integers and, separately, as floats, and as a one-integer-per-line column; then the
// whole directory is loaded as an OGB node dataset (raw/edge.csv, raw/node-feat.csv, ...,
// plain text: the reader falls back from .csv.gz to .csv). The only acceptable failure is
// ripple::InputError; a dataset that loads must keep the promises of dataset_checks.h.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dataset_checks.h"
#include "fuzz_files.h"
#include "io/gz_csv.h"
#include "ripple/dataset.h"
#include "ripple/error.h"

namespace {

template <class Parse>
void read_all_lines(const std::string& path, Parse parse) {
  try {
    ripple::io::CsvReader reader(path);
    std::string_view line;
    while (reader.next_line(line)) parse(reader, line);
  } catch (const ripple::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ripple::fuzz::ScratchDirectory scratch;
  const std::vector<ripple::fuzz::FuzzFile> files = ripple::fuzz::split_records(data, size);
  scratch.fill(files);
  if (!files.empty()) {
    const std::string first = (scratch.path() / files.front().name).string();
    std::vector<int64_t> ints;
    std::vector<float> floats;
    read_all_lines(first, [&](ripple::io::CsvReader& r, std::string_view line) { r.parse_ints(line, ints); });
    read_all_lines(first, [&](ripple::io::CsvReader& r, std::string_view line) { r.parse_floats(line, floats); });
    try {
      (void)ripple::io::read_int_column(first);
    } catch (const ripple::InputError&) {
    }
  }
  std::string split = "public";  // else the first split folder there is
  std::error_code ec;
  if (!std::filesystem::is_directory(scratch.path() / "split" / split, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(scratch.path() / "split", ec)) {
      split = entry.path().filename().string();
      break;
    }
  }
  try {
    const ripple::NodeDataset d = ripple::load_ogb_node_dataset(scratch.path().string(), split);
    ripple::fuzz::require_dataset_invariants(d, "OGB CSV reader");
  } catch (const ripple::InputError&) {
  }
  return 0;
}
