// Layout detection for node datasets. See load_node_dataset in include/ripple/dataset.h.
#include <algorithm>
#include <filesystem>
#include <vector>

#include "io/splits.h"
#include "ripple/dataset.h"
#include "ripple/native_dataset.h"

namespace fs = std::filesystem;

namespace ripple {
namespace io {

std::string first_split(std::vector<std::string> names) {
  if (names.empty() || std::find(names.begin(), names.end(), "public") != names.end()) return "public";
  std::sort(names.begin(), names.end());
  return names.front();
}

std::vector<std::string> ogb_splits(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "split", ec)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  return names;
}

}  // namespace io

NodeDataset load_node_dataset(const std::string& dir, const std::string& split) {
  if (is_native_dataset(dir)) {
    return load_native_node_dataset(dir, split.empty() ? io::first_split(read_native_header(dir).splits) : split);
  }
  return load_ogb_node_dataset(dir, split.empty() ? io::first_split(io::ogb_splits(dir)) : split);
}

}  // namespace ripple
