#include "fuzz_files.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace ripple::fuzz {
namespace {

constexpr std::string_view kMarker = "@@@@ ";

bool acceptable_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

std::vector<FuzzFile> split_records(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<FuzzFile> files;
  size_t pos = all.rfind(kMarker, 0) == 0 ? 0 : all.find(std::string("\n").append(kMarker));
  if (pos != 0 && pos != std::string_view::npos) ++pos;  // skip the separating newline
  while (pos != std::string_view::npos && pos < all.size()) {
    const size_t name_start = pos + kMarker.size();
    const size_t name_end = all.find('\n', name_start);
    if (name_end == std::string_view::npos) break;
    const size_t next = all.find(std::string("\n").append(kMarker), name_end);
    std::string_view bytes = all.substr(name_end + 1, (next == std::string_view::npos ? all.size() : next) - name_end - 1);
    if (next == std::string_view::npos && !bytes.empty() && bytes.back() == '\n') bytes.remove_suffix(1);
    const std::string_view name = all.substr(name_start, name_end - name_start);
    if (acceptable_name(name)) files.push_back({std::string(name), bytes});
    pos = next == std::string_view::npos ? next : next + 1;
  }
  return files;
}

ScratchDirectory::ScratchDirectory() {
  const char* tmp = std::getenv("TMPDIR");
  path_ = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("ripple-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void ScratchDirectory::fill(const std::vector<FuzzFile>& files) {
  for (const auto& entry : std::filesystem::directory_iterator(path_)) std::filesystem::remove_all(entry.path());
  for (const FuzzFile& f : files) {
    const std::filesystem::path target = path_ / f.name;
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec || std::filesystem::is_directory(target)) continue;  // a name used as both file and folder
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(f.bytes.data(), static_cast<std::streamsize>(f.bytes.size()));
  }
}

}  // namespace ripple::fuzz
