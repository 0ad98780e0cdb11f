// Errors that Ripple expects and reports, as opposed to bugs.
//
// InputError is thrown at I/O and API boundaries for bad files, bad configuration and bad
// arguments. Its message names the file and line (or the configuration key) and says what
// was expected. The command line maps it to exit code 2; anything else that escapes is an
// internal error (exit code 1). Operator argument checks use TORCH_CHECK (c10::Error).
#pragma once

#include <stdexcept>
#include <string>

namespace ripple {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace ripple
