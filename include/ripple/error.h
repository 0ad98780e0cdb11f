// Errors that Ripple expects and reports, as opposed to bugs. Three categories, each with
// its own exit code on the command line (docs/errors.md):
//
//   InputError       bad input or usage: a malformed or missing file, a bad setting, a bad
//                    argument. The message names the file and line (or the field) and says
//                    what was expected. Exit code 2.
//     SettingError   an InputError about one field of the typed settings (ripple/settings.h);
//                    field() is its path ("model.layers"), which the command line maps to
//                    where the user wrote it.
//   FileSystemError  the file system failed underneath a correct request: disk full,
//                    permission denied, a file that vanished or cannot be renamed into place.
//                    The message names the path and keeps the system's cause. Exit code 3.
//   DistributedError a distributed run lost its group: a peer died, stopped or was
//                    unreachable within dist.timeout_s. The message names this rank and what
//                    it was doing (the collective, epoch and step). Exit code 4.
//
// Anything else that escapes (std::exception, c10::Error from an operator's own argument
// checks) is an internal error: exit code 1. Wrapping errors keep the cause in the message.
#pragma once

#include <stdexcept>
#include <string>

namespace ripple {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

class SettingError : public InputError {
 public:
  SettingError(std::string field, const std::string& message)
      : InputError(field + ": " + message), field_(std::move(field)), detail_(message) {}
  const std::string& field() const { return field_; }
  const std::string& detail() const { return detail_; }  // the message without the field

 private:
  std::string field_, detail_;
};

class FileSystemError : public std::runtime_error {
 public:
  explicit FileSystemError(const std::string& message) : std::runtime_error(message) {}
};

class DistributedError : public std::runtime_error {
 public:
  explicit DistributedError(const std::string& message) : std::runtime_error(message) {}
};

// Exit codes of the command line.
inline constexpr int kExitInternal = 1, kExitInput = 2, kExitFileSystem = 3, kExitDistributed = 4;

// The error for a failed file operation on `path`: `what` failed with `error_number` (errno).
// A path that does not exist (ENOENT, ENOTDIR) is bad input; anything else (ENOSPC, EACCES,
// EIO, ...) is the file system's failure. The message ends with the system's reason.
[[noreturn]] void throw_file_error(const std::string& path, const std::string& what, int error_number);

}  // namespace ripple
