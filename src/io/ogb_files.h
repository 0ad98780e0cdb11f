// File lookup and readers shared by the OGB raw-layout loaders (ogb_node.cpp, ogb_link.cpp,
// stream_convert.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ripple::io {

// DIR/STEM.csv.gz, else DIR/STEM.csv; empty when neither exists and !required, else throws
// InputError naming the expected file.
std::string locate_ogb_file(const std::filesystem::path& dir, const std::string& stem, bool required);

// DIR/raw of an OGB raw-layout dataset; throws InputError when DIR or DIR/raw is missing.
std::filesystem::path ogb_raw_dir(const std::string& dir);

// A count file (num-node-list, num-edge-list): exactly one non-negative integer.
int64_t read_ogb_count(const std::string& path);

// A float matrix of exactly `rows` lines with the same column count on each (node-feat,
// edge-feat); `what` names a row in errors ("node"). Throws InputError naming file and line.
at::Tensor read_ogb_matrix(const std::string& path, int64_t rows, const char* what);

}  // namespace ripple::io
