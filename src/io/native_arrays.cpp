// Pieces shared by the native dataset layouts. See src/io/native_arrays.h.
#include "io/native_arrays.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "io/mapped_file.h"
#include "ripple/error.h"

namespace fs = std::filesystem;

namespace ripple::io::native {

// The byte-order macro rather than C++20 std::endian: the fuzz build compiles this file as C++17.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the native format stores little-endian arrays");


at::ScalarType dtype_of(const std::string& name) {
  if (name == "int32") return at::kInt;
  if (name == "int64") return at::kLong;
  if (name == "float32") return at::kFloat;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  throw InputError(fmt::format("unknown dtype '{}' (expected int32, int64, float32, float16 or bfloat16)", name));
}

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: throw InputError(fmt::format("native format: no dtype for {}", c10::toString(t)));
  }
}

int64_t itemsize(const std::string& dtype) { return static_cast<int64_t>(c10::elementSize(dtype_of(dtype))); }

uint32_t crc32_update(uint32_t crc, const void* data, uint64_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // crc32_z takes z_size_t; chunking keeps it portable and interruptible
    const uint64_t chunk = std::min<uint64_t>(n, uint64_t{1} << 30);
    crc = static_cast<uint32_t>(crc32_z(crc, p, static_cast<z_size_t>(chunk)));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

ArrayFileWriter::ArrayFileWriter(fs::path path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) fail("cannot create");
}

ArrayFileWriter::~ArrayFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void ArrayFileWriter::write(const void* data, uint64_t n) {
  crc_ = crc32_update(crc_, data, n);
  if (n > 0 && std::fwrite(data, 1, n, file_) != n) fail("write failed");
  bytes_ += n;
}

uint32_t ArrayFileWriter::close() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("write failed");
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) fail("write failed");
  return crc_;
}

void ArrayFileWriter::fail(const char* what) {
  throw FileSystemError(fmt::format("{}: {} ({})", path_.string(), what, std::strerror(errno)));
}

std::string array_file_name(const std::string& name) {
  std::string file = name;
  std::replace(file.begin(), file.end(), '/', '.');
  return file + ".bin";
}

json write_array(const fs::path& dir, const std::string& name, const at::Tensor& t, at::ScalarType dtype) {
  const std::string file = array_file_name(name);
  ArrayFileWriter w(dir / file);
  const at::Tensor src = t.contiguous();
  const int64_t rows = src.dim() == 0 ? 1 : src.size(0);
  const int64_t row_elems = rows > 0 ? src.numel() / rows : 0;
  const int64_t chunk_rows = std::max<int64_t>(1, (int64_t{1} << 22) / std::max<int64_t>(row_elems, 1));
  for (int64_t r = 0; r < rows; r += chunk_rows) {
    const at::Tensor part = src.dim() == 0 ? src : src.slice(0, r, std::min(rows, r + chunk_rows));
    const at::Tensor conv = part.to(dtype).contiguous();
    w.write(conv.data_ptr(), static_cast<uint64_t>(conv.numel()) * conv.element_size());
  }
  const uint32_t crc = w.close();
  return json{{"file", file}, {"dtype", dtype_name(dtype)}, {"shape", src.sizes().vec()}, {"crc32", crc}};
}

void write_text_file(const fs::path& path, const std::string& text) {
  ArrayFileWriter w(path);
  w.write(text.data(), text.size());
  w.close();
}

const json& HeaderReader::at(const json& obj, const std::string& key, const std::string& where) const {
  if (!obj.is_object() || !obj.contains(key)) fail(where + key, "missing");
  return obj.at(key);
}

int64_t HeaderReader::count(const json& obj, const std::string& key, const std::string& where) const {
  const json& v = at(obj, key, where);
  if (!v.is_number_integer() || v.get<int64_t>() < 0) fail(where + key, "must be a non-negative integer");
  return v.get<int64_t>();
}

std::string HeaderReader::text(const json& obj, const std::string& key, const std::string& where) const {
  const json& v = at(obj, key, where);
  if (!v.is_string()) fail(where + key, "must be a string");
  return v.get<std::string>();
}

bool HeaderReader::flag(const json& obj, const std::string& key, const std::string& where) const {
  const json& v = at(obj, key, where);
  if (!v.is_boolean()) fail(where + key, "must be true or false");
  return v.get<bool>();
}

void HeaderReader::fail(const std::string& field, const std::string& what) const {
  throw InputError(fmt::format("{}: field '{}' {}", path_, field, what));
}

namespace {

NativeArrayInfo parse_array(const HeaderReader& r, const std::string& name, const json& a) {
  const std::string where = "arrays." + name + ".";
  NativeArrayInfo info;
  info.name = name;
  info.file = r.text(a, "file", where);
  if (info.file.empty() || info.file.find('/') != std::string::npos || info.file == "." || info.file == ".." ||
      info.file == kHeaderFile) {
    r.fail(where + "file", fmt::format("must be a plain file name inside the dataset, got '{}'", info.file));
  }
  info.dtype = r.text(a, "dtype", where);
  try {
    dtype_of(info.dtype);
  } catch (const InputError& e) {
    r.fail(where + "dtype", e.what());
  }
  const json& shape = r.at(a, "shape", where);
  if (!shape.is_array() || shape.empty() || shape.size() > 2) r.fail(where + "shape", "must be a list of 1 or 2 sizes");
  for (const json& s : shape) {
    if (!s.is_number_integer() || s.get<int64_t>() < 0 || s.get<int64_t>() > (int64_t{1} << 40)) {
      r.fail(where + "shape", "sizes must be integers in [0, 2^40]");
    }
    info.shape.push_back(s.get<int64_t>());
  }
  const json& crc = r.at(a, "crc32", where);
  if (!crc.is_number_unsigned() || crc.get<uint64_t>() > 0xFFFFFFFFull) r.fail(where + "crc32", "must be a 32-bit unsigned integer");
  info.crc32 = crc.get<uint32_t>();
  return info;
}

}  // namespace

const NativeArrayInfo* find_array(const std::vector<NativeArrayInfo>& arrays, const std::string& name) {
  for (const NativeArrayInfo& a : arrays) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const NativeArrayInfo& expect_array(const std::vector<NativeArrayInfo>& arrays, const std::string& header_path,
                                    const std::string& name, std::initializer_list<const char*> dtypes,
                                    std::vector<int64_t> shape) {
  const NativeArrayInfo* a = find_array(arrays, name);
  if (a == nullptr) throw InputError(fmt::format("{}: field 'arrays.{}' missing", header_path, name));
  if (std::find(dtypes.begin(), dtypes.end(), a->dtype) == dtypes.end()) {
    throw InputError(fmt::format("{}: field 'arrays.{}.dtype' is {}, expected one of {}", header_path, name, a->dtype,
                                 fmt::join(dtypes, ", ")));
  }
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] < 0) shape[k] = k < a->shape.size() ? a->shape[k] : -1;  // free dimension
  }
  if (a->shape != shape) {
    throw InputError(fmt::format("{}: field 'arrays.{}.shape' is [{}], expected [{}] from the counts", header_path,
                                 name, fmt::join(a->shape, ", "), fmt::join(shape, ", ")));
  }
  return *a;
}

void check_file_size(const fs::path& path, const NativeArrayInfo& a, uint64_t size) {
  if (size != a.bytes()) {
    throw InputError(fmt::format("{}: {} bytes, expected {} (shape [{}] of {}){}", path.string(), size, a.bytes(),
                                 fmt::join(a.shape, ", "), a.dtype, size < a.bytes() ? "; the file is truncated" : ""));
  }
}

at::Tensor map_array(const fs::path& dir, const NativeArrayInfo& a, bool verify) {
  const fs::path path = dir / a.file;
  const auto file = MappedFile::open(path.string());
  check_file_size(path, a, file->size());  // again: the file may have changed since the first check
  if (verify) {
    const uint32_t crc = crc32_update(0, file->data(), file->size());
    if (crc != a.crc32) {
      throw InputError(fmt::format("{}: checksum mismatch (CRC-32 {:08x}, header says {:08x}); the file is corrupted",
                                   path.string(), crc, a.crc32));
    }
  }
  return mapped_tensor(file, a.shape, dtype_of(a.dtype));
}

void check_range(const at::Tensor& ids, int64_t lo, int64_t hi, const std::string& what, const fs::path& file) {
  if (ids.numel() == 0) return;
  const at::Tensor bad = ((ids < lo) | (ids >= hi)).nonzero();
  if (bad.numel() > 0) {
    const int64_t i = bad[0][0].item<int64_t>();
    throw InputError(fmt::format("{}: element {} is {}, outside the {} range [{}, {})", file.string(), i,
                                 ids[i].item<int64_t>(), what, lo, hi));
  }
}

namespace {

// DIR/header.json parsed as a JSON object; InputError naming the file otherwise.
json parse_header_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open (not a native dataset?)", path));
  std::stringstream text;
  text << in.rdbuf();
  json root;
  try {
    root = json::parse(text.str());
  } catch (const json::exception& e) {  // syntax errors, and numbers too large to hold (out_of_range)
    throw InputError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  if (!root.is_object()) throw InputError(fmt::format("{}: expected a JSON object", path));
  return root;
}

}  // namespace

json read_header(const std::string& dir, const char* format_name, int max_version) {
  const std::string path = (fs::path(dir) / kHeaderFile).string();
  const json root = parse_header_file(path);
  const HeaderReader r(path);
  if (r.text(root, "format") != format_name) {
    r.fail("format", fmt::format("is '{}', expected '{}'", r.text(root, "format"), format_name));
  }
  const json& version = r.at(root, "version", "");
  if (!version.is_number_integer() || version.get<int64_t>() < 1) r.fail("version", "must be a positive integer");
  if (version.get<int64_t>() > max_version) {
    throw InputError(fmt::format("{}: format version {} was written by a newer Ripple; this build reads version {}",
                                 path, version.get<int64_t>(), max_version));
  }
  if (r.text(root, "byte_order") != "little") r.fail("byte_order", "must be \"little\"");
  return root;
}

std::string header_format(const std::string& dir) {
  const json root = parse_header_file((fs::path(dir) / kHeaderFile).string());
  return root.contains("format") && root["format"].is_string() ? root["format"].get<std::string>() : "";
}

GraphFlags parse_graph_flags(const HeaderReader& r, const json& root) {
  const json& flags = r.at(root, "graph_flags", "");
  GraphFlags f;
  f.sorted = r.flag(flags, "sorted", "graph_flags.");
  f.deduplicated = r.flag(flags, "deduplicated", "graph_flags.");
  f.has_self_loops = r.flag(flags, "has_self_loops", "graph_flags.");
  f.symmetric = r.flag(flags, "symmetric", "graph_flags.");
  return f;
}

json graph_flags_json(const GraphFlags& f) {
  return {{"sorted", f.sorted}, {"deduplicated", f.deduplicated}, {"has_self_loops", f.has_self_loops},
          {"symmetric", f.symmetric}};
}

std::vector<NativeArrayInfo> parse_arrays(const HeaderReader& r, const json& root) {
  const json& arrays = r.at(root, "arrays", "");
  if (!arrays.is_object()) r.fail("arrays", "must be an object");
  std::vector<NativeArrayInfo> out;
  for (const auto& [name, a] : arrays.items()) out.push_back(parse_array(r, name, a));
  return out;
}

void check_file_sizes(const fs::path& dir, const std::vector<NativeArrayInfo>& arrays,
                      const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const NativeArrayInfo& a = *find_array(arrays, name);
    std::error_code ec;
    const uint64_t size = fs::file_size(dir / a.file, ec);
    if (ec) throw InputError(fmt::format("{}: missing ({}); arrays.{} needs it", (dir / a.file).string(), ec.message(), name));
    check_file_size(dir / a.file, a, size);
  }
}

}  // namespace ripple::io::native
