#include "io/gz_csv.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "ripple/error.h"

namespace ripple::io {

CsvReader::CsvReader(std::string path) : path_(std::move(path)), buffer_(1 << 20) {
  if (!std::filesystem::is_regular_file(path_)) throw InputError(fmt::format("{}: file not found", path_));
  file_ = gzopen(path_.c_str(), "rb");
  if (!file_) throw_file_error(path_, "cannot open", errno);
  gzbuffer(file_, 1 << 18);
}

CsvReader::~CsvReader() {
  if (file_) gzclose(file_);
}

void CsvReader::fail(const std::string& what) const {
  throw InputError(fmt::format("{}:{}: {}", path_, line_, what));
}

bool CsvReader::refill() {
  if (eof_) return false;
  const int n = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
  int err = Z_OK;
  const char* msg = gzerror(file_, &err);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) {
    throw InputError(fmt::format("{}: corrupt or truncated compressed data after line {} ({})", path_,
                                 line_, msg ? msg : "zlib error"));
  }
  begin_ = 0;
  end_ = static_cast<size_t>(n);
  if (n == 0) eof_ = true;
  return n > 0;
}

bool CsvReader::next_line(std::string_view& line) {
  carry_.clear();
  while (true) {
    if (begin_ == end_ && !refill()) {
      if (carry_.empty()) return false;
      ++line_;
      line = carry_;
      return true;
    }
    const char* start = buffer_.data() + begin_;
    const void* nl = memchr(start, '\n', end_ - begin_);
    if (nl) {
      const size_t len = static_cast<const char*>(nl) - start;
      begin_ += len + 1;
      ++line_;
      if (carry_.empty()) {
        line = std::string_view(start, len);
      } else {
        carry_.append(start, len);
        line = carry_;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      return true;
    }
    carry_.append(start, end_ - begin_);
    begin_ = end_;
  }
}

namespace {
template <typename T, typename Parse>
void parse_row(CsvReader& r, std::string_view line, std::vector<T>& out, Parse parse, const char* kind) {
  out.clear();
  size_t i = 0;
  const size_t n = line.size();
  if (n == 0) r.fail(fmt::format("empty line, expected {} values", kind));
  while (true) {
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    const char* b = line.data() + i;
    const char* e = line.data() + n;
    T value{};
    auto [ptr, ec] = parse(b, e, value);
    if (ec != std::errc() || ptr == b) {
      size_t j = i;
      while (j < n && line[j] != ',') ++j;
      r.fail(fmt::format("column {}: expected {} value, got '{}'", out.size() + 1, kind,
                         std::string(line.substr(i, std::min<size_t>(j - i, 40)))));
    }
    out.push_back(value);
    i = ptr - line.data();
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == n) break;
    if (line[i] != ',') {
      r.fail(fmt::format("column {}: unexpected character '{}' after a {} value", out.size(), line[i], kind));
    }
    ++i;
  }
}
}  // namespace

void CsvReader::parse_ints(std::string_view line, std::vector<int64_t>& out) {
  parse_row(*this, line, out,
            [](const char* b, const char* e, int64_t& v) { return std::from_chars(b, e, v); }, "an integer");
}

void CsvReader::parse_floats(std::string_view line, std::vector<float>& out) {
  parse_row(*this, line, out,
            [](const char* b, const char* e, float& v) { return std::from_chars(b, e, v); }, "a numeric");
}

std::vector<int64_t> read_int_column(const std::string& path, int64_t expected_rows) {
  CsvReader r(path);
  std::vector<int64_t> values, row;
  std::string_view line;
  while (r.next_line(line)) {
    r.parse_ints(line, row);
    if (row.size() != 1) r.fail(fmt::format("expected 1 column, got {}", row.size()));
    values.push_back(row[0]);
  }
  if (values.empty()) throw InputError(fmt::format("{}: file is empty", path));
  if (expected_rows >= 0 && static_cast<int64_t>(values.size()) != expected_rows) {
    throw InputError(fmt::format("{}: expected {} lines, got {}", path, expected_rows, values.size()));
  }
  return values;
}

}  // namespace ripple::io
