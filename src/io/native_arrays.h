// Pieces shared by the native dataset layouts (internal): node datasets
// (src/io/native_dataset.cpp) and graph-classification collections
// (src/io/native_graph_dataset.cpp). Both are a directory of raw little-endian arrays
// beside a header.json that lists each array's file, dtype, shape and CRC-32
// (docs/formats.md).
//
// Writers go through ArrayFileWriter, which computes the CRC on the way and fsyncs on
// close; failures throw FileSystemError naming the file. Readers check the header field by
// field (HeaderReader), every array's dtype and shape against the header's counts
// (expect_array) and every file's byte size before mapping it; failures throw InputError
// naming the file and the field.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ripple/native_dataset.h"

namespace ripple::io::native {

using json = nlohmann::json;

inline constexpr const char* kHeaderFile = "header.json";

at::ScalarType dtype_of(const std::string& name);  // int32, int64, float32, float16, bfloat16
std::string dtype_name(at::ScalarType t);
int64_t itemsize(const std::string& dtype);
uint32_t crc32_update(uint32_t crc, const void* data, uint64_t n);

// A raw array file being written: bytes go through a buffer, the CRC is computed on the
// way, and close() flushes and fsyncs so a renamed directory is complete on disk.
class ArrayFileWriter {
 public:
  explicit ArrayFileWriter(std::filesystem::path path);
  ~ArrayFileWriter();
  ArrayFileWriter(const ArrayFileWriter&) = delete;
  ArrayFileWriter& operator=(const ArrayFileWriter&) = delete;

  void write(const void* data, uint64_t n);
  uint32_t close();
  uint64_t bytes() const { return bytes_; }

 private:
  [[noreturn]] void fail(const char* what);
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  uint32_t crc_ = 0;
  uint64_t bytes_ = 0;
};

// "split/public/train" -> "split.public.train.bin".
std::string array_file_name(const std::string& name);

// Writes `t` (converted to `dtype`, rows at a time so a conversion never doubles memory)
// as NAME.bin in `dir` and returns its header entry.
json write_array(const std::filesystem::path& dir, const std::string& name, const at::Tensor& t,
                 at::ScalarType dtype);
void write_text_file(const std::filesystem::path& path, const std::string& text);

// Field access that names the field on failure.
class HeaderReader {
 public:
  explicit HeaderReader(std::string path) : path_(std::move(path)) {}
  const json& at(const json& obj, const std::string& key, const std::string& where) const;
  int64_t count(const json& obj, const std::string& key, const std::string& where = "") const;
  std::string text(const json& obj, const std::string& key, const std::string& where = "") const;
  bool flag(const json& obj, const std::string& key, const std::string& where) const;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// DIR/header.json parsed, with its format name, version (1 .. max_version) and byte order
// checked. Throws InputError naming the file and field.
json read_header(const std::string& dir, const char* format_name, int max_version);
// The "format" field of DIR/header.json ("" when it has none); throws InputError when the
// file cannot be read or is not a JSON object.
std::string header_format(const std::string& dir);

GraphFlags parse_graph_flags(const HeaderReader& r, const json& root);
json graph_flags_json(const GraphFlags& f);
std::vector<NativeArrayInfo> parse_arrays(const HeaderReader& r, const json& root);
const NativeArrayInfo* find_array(const std::vector<NativeArrayInfo>& arrays, const std::string& name);

// The array `name` with one of `dtypes` and the shape the counts demand (-1: any size in
// that dimension); throws naming the field.
const NativeArrayInfo& expect_array(const std::vector<NativeArrayInfo>& arrays, const std::string& header_path,
                                    const std::string& name, std::initializer_list<const char*> dtypes,
                                    std::vector<int64_t> shape);

// Every listed array's file exists with exactly the size its shape asks for.
void check_file_sizes(const std::filesystem::path& dir, const std::vector<NativeArrayInfo>& arrays,
                      const std::vector<std::string>& names);
void check_file_size(const std::filesystem::path& path, const NativeArrayInfo& a, uint64_t size);
// A read-only tensor over the mapped file, its CRC-32 checked when `verify`.
at::Tensor map_array(const std::filesystem::path& dir, const NativeArrayInfo& a, bool verify);
// Every element of `ids` in [lo, hi), or InputError naming `file` and the first offender.
void check_range(const at::Tensor& ids, int64_t lo, int64_t hi, const std::string& what,
                 const std::filesystem::path& file);

}  // namespace ripple::io::native
