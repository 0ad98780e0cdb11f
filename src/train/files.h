// Small filesystem helpers for run directories (internal).
#pragma once

#include <filesystem>
#include <string>

namespace ripple::train {

// Writes `content` to `path` via a temporary file in the same directory and a rename, so a
// reader sees either the old file or the complete new one. Throws FileSystemError (disk full,
// permission denied) with the cause, leaving no temporary file behind.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
// Throws InputError for a missing file, FileSystemError for other failures.
std::string read_file(const std::filesystem::path& path);

}  // namespace ripple::train
