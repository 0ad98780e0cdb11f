// Removes the test programs' temporary directories (fresh_temp_dir) when the run passed.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "support/cli.h"

namespace ripple::testing {
namespace {

std::mutex dirs_mutex;
std::vector<std::filesystem::path>& created_dirs() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}

class TempDirCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (::testing::UnitTest::GetInstance()->Failed()) return;
    const std::lock_guard<std::mutex> lock(dirs_mutex);
    for (const auto& dir : created_dirs()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
    created_dirs().clear();
  }
};

// gtest_main runs RUN_ALL_TESTS after static initialisation, so registering here is in time.
[[maybe_unused]] ::testing::Environment* const cleanup =
    ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

}  // namespace

void remove_at_exit_if_passed(const std::filesystem::path& dir) {
  const std::lock_guard<std::mutex> lock(dirs_mutex);
  created_dirs().push_back(dir);
}

}  // namespace ripple::testing
