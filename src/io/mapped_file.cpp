// Read-only file mapping. See mapped_file.h.
#include "io/mapped_file.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ripple/error.h"

namespace ripple::io {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_file_error(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("{}: not a regular file", path));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  void* data = nullptr;
  if (size > 0) {
    data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw InputError(fmt::format("{}: cannot map {} bytes ({})", path, size, std::strerror(err)));
    }
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

at::Tensor mapped_tensor(const std::shared_ptr<const MappedFile>& file, at::IntArrayRef sizes, at::ScalarType type) {
  if (file->size() == 0) return at::empty(sizes, at::TensorOptions().dtype(type));
  auto keep = file;  // the deleter owns a reference, so the mapping outlives every view
  return at::from_blob(const_cast<std::byte*>(file->data()), sizes, [keep](void*) {},
                       at::TensorOptions().dtype(type));
}

}  // namespace ripple::io
