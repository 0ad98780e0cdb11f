// File lookup shared by the OGB raw-layout readers (ogb_node.cpp, stream_convert.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ripple::io {

// DIR/STEM.csv.gz, else DIR/STEM.csv; empty when neither exists and !required, else throws
// InputError naming the expected file.
std::string locate_ogb_file(const std::filesystem::path& dir, const std::string& stem, bool required);

// A count file (num-node-list, num-edge-list): exactly one non-negative integer.
int64_t read_ogb_count(const std::string& path);

}  // namespace ripple::io
