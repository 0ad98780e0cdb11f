// Read-only memory mapping of a whole file, for the native dataset format.
//
// MappedFile::open maps the file PROT_READ / MAP_SHARED: pages come from the page cache on
// first touch and can be dropped again by the kernel, so a dataset larger than RAM can be
// opened. Writing through the mapping is a bug and faults. tensor() wraps a byte range as
// an at::Tensor that keeps the mapping alive. Failures (missing file, mmap refused) throw
// InputError naming the file; a zero-length file maps to an empty range.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ripple::io {

class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const std::byte* data() const { return static_cast<const std::byte*>(data_); }
  uint64_t size() const { return size_; }

 private:
  MappedFile(std::string path, void* data, uint64_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  void* data_ = nullptr;
  uint64_t size_ = 0;
};

// A read-only tensor view of `file` (shape `sizes`, dtype `type`, starting at byte 0) that
// holds the mapping. The caller has checked that the sizes fit the file.
at::Tensor mapped_tensor(const std::shared_ptr<const MappedFile>& file, at::IntArrayRef sizes, at::ScalarType type);

}  // namespace ripple::io
