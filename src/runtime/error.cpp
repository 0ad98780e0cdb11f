// See ripple/error.h.
#include "ripple/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ripple {

void throw_file_error(const std::string& path, const std::string& what, int error_number) {
  const std::string message = fmt::format("{}: {} ({})", path, what, std::strerror(error_number));
  if (error_number == ENOENT || error_number == ENOTDIR) throw InputError(message);
  throw FileSystemError(message);
}

}  // namespace ripple
