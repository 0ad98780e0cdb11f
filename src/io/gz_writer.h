// Writers for the OGB raw layout (internal): a buffered gzip text writer and a directory
// that appears complete or not at all. Every failure is an InputError naming the path.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ripple::io {

// A gzip file written through a 64 KiB buffer.
class GzWriter {
 public:
  explicit GzWriter(const std::filesystem::path& path);
  ~GzWriter();
  GzWriter(const GzWriter&) = delete;
  GzWriter& operator=(const GzWriter&) = delete;
  std::string& buffer() { return buffer_; }
  // Call after appending to buffer(): writes it out once it is large.
  void maybe_flush() {
    if (buffer_.size() > (1 << 16)) flush();
  }
  // Flushes and closes; throws when the data did not reach the disk.
  void close();

 private:
  void flush();
  std::string path_;
  gzFile file_;
  std::string buffer_;
};

// One integer per line.
void write_column(const std::filesystem::path& path, const std::vector<int64_t>& values);

// Removes what a killed writer left beside `final_path`: entries named NAME + tag + PID
// (tag ".partial-" or ".runs-") whose process no longer exists. A live process's entries
// (a concurrent writer's) are kept; errors are ignored (the leftovers are only litter).
void remove_abandoned_siblings(const std::filesystem::path& final_path, std::string_view tag);

// Output directory built beside its final name (NAME.partial-PID) and renamed into place by
// commit(); destroyed without commit() (an exception), the partial directory is removed.
// A killed process's partial directory is not at the name asked for (and a native one has
// no header until its last step), so it never loads in its place; the next
// StagedDirectory for the same name removes it. Refuses an existing final path.
class StagedDirectory {
 public:
  explicit StagedDirectory(const std::filesystem::path& final_path);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;
  const std::filesystem::path& path() const { return staging_; }
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace ripple::io
