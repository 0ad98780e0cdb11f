#include "io/gz_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple::io {

GzWriter::GzWriter(const fs::path& path) : path_(path.string()), file_(gzopen(path_.c_str(), "wb1")) {
  if (!file_) throw InputError(fmt::format("{}: cannot create", path_));
}

GzWriter::~GzWriter() {
  if (file_) gzclose(file_);
}

void GzWriter::close() {
  flush();
  const int rc = gzclose(file_);
  file_ = nullptr;
  if (rc != Z_OK) throw InputError(fmt::format("{}: write failed (disk full?)", path_));
}

void GzWriter::flush() {
  if (!buffer_.empty() && gzwrite(file_, buffer_.data(), static_cast<unsigned>(buffer_.size())) == 0) {
    throw InputError(fmt::format("{}: write failed (disk full?)", path_));
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

StagedDirectory::StagedDirectory(const fs::path& final_path)
    : final_(final_path), staging_(final_path.string() + fmt::format(".partial-{}", getpid())) {
  if (fs::exists(final_)) throw InputError(fmt::format("{}: already exists; choose a new --out", final_.string()));
  std::error_code ec;
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create ({})", staging_.string(), ec.message()));
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
  if (ec) throw InputError(fmt::format("{}: cannot rename into place ({})", final_.string(), ec.message()));
  committed_ = true;
}

}  // namespace ripple::io
