// Interaction datasets (the LightGCN/NGCF text layout) written by tests: small hand-made
// ones and subsets of the embedded Gowalla split.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli.h"

namespace ripple::testing {

namespace fs = std::filesystem;

inline void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline fs::path write_interactions(const fs::path& dir, const std::string& train, const std::string& test) {
  fs::remove_all(dir);
  write_text(dir / "train.txt", train);
  write_text(dir / "test.txt", test);
  return dir;
}

// The first `users` users and `items` items of data/gowalla (users left with no training
// item dropped), as a small dataset in the same layout.
inline fs::path gowalla_subset(const fs::path& dir, int64_t users, int64_t items) {
  auto read = [](const std::string& path) {
    std::map<int64_t, std::vector<int64_t>> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream s(line);
      int64_t u = 0, i = 0;
      if (!(s >> u)) continue;
      while (s >> i) out[u].push_back(i);
    }
    return out;
  };
  const auto train = read(testing::source_path("data/gowalla/train.txt"));
  const auto test = read(testing::source_path("data/gowalla/test.txt"));
  std::ostringstream train_out, test_out;
  // " id" for each of the user's items below `items`.
  const auto kept = [items](const std::map<int64_t, std::vector<int64_t>>& rows, int64_t user) {
    std::ostringstream out;
    if (rows.count(user)) {
      for (const int64_t i : rows.at(user)) {
        if (i < items) out << ' ' << i;
      }
    }
    return out.str();
  };
  for (int64_t u = 0; u < users; ++u) {
    const std::string a = kept(train, u);
    if (a.empty()) continue;
    const std::string b = kept(test, u);
    train_out << u << a << '\n';
    test_out << u << b << '\n';
  }
  return write_interactions(dir, train_out.str(), test_out.str());
}

}  // namespace ripple::testing
