// Helpers for tests that drive the `ripple` binary (path baked in at build time).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace ripple::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// `shell_prefix` runs first in the same shell (for example "ulimit -f 100; ").
inline CommandResult run_ripple(const std::string& args, const std::string& shell_prefix = "") {
  const std::string cmd = shell_prefix + std::string(RIPPLE_BINARY) + " " + args + " 2>&1";
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string source_path(const std::string& rel) { return std::string(RIPPLE_SOURCE_DIR) + "/" + rel; }

// Records `dir` for removal when the test program ends with every test passed (a failed
// run keeps its directories to look into). Defined in temp_dirs.cpp.
void remove_at_exit_if_passed(const std::filesystem::path& dir);

// A fresh, empty directory under the system temp dir, unique per test, removed when the
// test program ends with every test passed.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("ripple-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  remove_at_exit_if_passed(dir);
  return dir;
}

}  // namespace ripple::testing
