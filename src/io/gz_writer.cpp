#include "io/gz_writer.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple::io {

GzWriter::GzWriter(const fs::path& path) : path_(path.string()), file_(gzopen(path_.c_str(), "wb1")) {
  if (!file_) throw FileSystemError(fmt::format("{}: cannot create ({})", path_, std::strerror(errno)));
}

GzWriter::~GzWriter() {
  if (file_) gzclose(file_);
}

void GzWriter::close() {
  flush();
  const int rc = gzclose(file_);
  file_ = nullptr;
  if (rc != Z_OK) throw FileSystemError(fmt::format("{}: write failed (disk full?)", path_));
}

void GzWriter::flush() {
  if (!buffer_.empty() && gzwrite(file_, buffer_.data(), static_cast<unsigned>(buffer_.size())) == 0) {
    throw FileSystemError(fmt::format("{}: write failed (disk full?)", path_));
  }
  buffer_.clear();
}

void write_column(const fs::path& path, const std::vector<int64_t>& values) {
  GzWriter w(path);
  for (int64_t v : values) {
    fmt::format_to(std::back_inserter(w.buffer()), "{}\n", v);
    w.maybe_flush();
  }
  w.close();
}

void remove_abandoned_siblings(const fs::path& final_path, std::string_view tag) {
  const std::string prefix = final_path.filename().string() + std::string(tag);
  fs::path parent = final_path.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    pid_t pid = 0;
    const auto [ptr, err] = std::from_chars(first, last, pid);
    if (err != std::errc() || ptr != last || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to signal)
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
}

StagedDirectory::StagedDirectory(const fs::path& final_path)
    : final_(final_path), staging_(final_path.string() + fmt::format(".partial-{}", getpid())) {
  if (fs::exists(final_)) throw InputError(fmt::format("{}: already exists; choose a new --out", final_.string()));
  remove_abandoned_siblings(final_, ".partial-");
  std::error_code ec;
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec) throw FileSystemError(fmt::format("{}: cannot create ({})", staging_.string(), ec.message()));
}

StagedDirectory::~StagedDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void StagedDirectory::commit() {
  std::error_code ec;
  fs::rename(staging_, final_, ec);
  if (ec) throw FileSystemError(fmt::format("{}: cannot rename into place ({})", final_.string(), ec.message()));
  committed_ = true;
}

}  // namespace ripple::io
