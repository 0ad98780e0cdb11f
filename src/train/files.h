// Small filesystem helpers for run directories (internal).
#pragma once

#include <filesystem>
#include <string>

namespace ripple::train {

// Writes `content` to `path` via a temporary file in the same directory and a rename, so a
// reader sees either the old file or the complete new one. Throws InputError on failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

}  // namespace ripple::train
