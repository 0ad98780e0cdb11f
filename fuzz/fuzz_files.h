// Shared by the fuzz targets: turns one fuzz input into a small directory of files, so the
// readers under test run on real paths exactly as `ripple` calls them.
//
// Input layout: records "@@@@ NAME\n" followed by the file's bytes, up to the next
// "\n@@@@ " (that newline is a separator, not content; a final trailing newline is dropped
// too). NAME may hold letters, digits, '.', '_', '-' and '/' between path components; a
// record with any other name (empty, absolute, "..", too long) is skipped. The packer
// fuzz/pack_corpus.py writes seed inputs in this layout from real dataset directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ripple::fuzz {

struct FuzzFile {
  std::string name;
  std::string_view bytes;
};

// The records of `data` whose names are acceptable, in input order.
std::vector<FuzzFile> split_records(const uint8_t* data, size_t size);

// A private scratch directory (under $TMPDIR or /tmp, named by pid), emptied before each
// input and removed at exit.
class ScratchDirectory {
 public:
  ScratchDirectory();
  ~ScratchDirectory();
  // Empties the directory and writes `files` into it (later records of one name win).
  void fill(const std::vector<FuzzFile>& files);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ripple::fuzz
