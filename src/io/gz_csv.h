// Line-by-line reader for (optionally gzip-compressed) CSV files, with parse helpers that
// report failures as InputError naming the file, the 1-based line and what was expected.
// Truncated or corrupt gzip streams are detected (zlib's error state) and reported too.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ripple::io {

class CsvReader {
 public:
  // Throws InputError when the file is missing or unreadable.
  explicit CsvReader(std::string path);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Next line without its newline; false at end of file. Throws on a corrupt stream.
  bool next_line(std::string_view& line);
  int64_t line_number() const { return line_; }
  const std::string& path() const { return path_; }

  // Comma-separated (spaces tolerated) values of the current line; throw with file:line.
  void parse_ints(std::string_view line, std::vector<int64_t>& out);
  void parse_floats(std::string_view line, std::vector<float>& out);
  [[noreturn]] void fail(const std::string& what) const;

 private:
  bool refill();
  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::string carry_;
  int64_t line_ = 0;
};

// Reads a file with one integer per line (all lines); `expected_rows` < 0 means any count.
std::vector<int64_t> read_int_column(const std::string& path, int64_t expected_rows = -1);

}  // namespace ripple::io
