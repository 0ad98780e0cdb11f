// .npy version 1.0 writer. See src/io/npy.h.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <bit>

#include "io/npy.h"
#include "ripple/error.h"

namespace ripple::io {

std::string npy_bytes(const at::Tensor& array) {
  static_assert(std::endian::native == std::endian::little, "the .npy writer assumes a little-endian host");
  const char* descr = nullptr;
  if (array.scalar_type() == at::kFloat) descr = "<f4";
  else if (array.scalar_type() == at::kLong) descr = "<i8";
  else if (array.scalar_type() == at::kInt) descr = "<i4";
  else throw InputError(fmt::format("npy: cannot write dtype {}; expected float32, int64 or int32", toString(array.scalar_type())));
  std::string shape;
  for (const int64_t s : array.sizes()) shape += fmt::format("{}, ", s);
  if (array.dim() > 1) shape.resize(shape.size() - 2);  // (3,) for one dimension, (3, 4) for two
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr,
                                   array.dim() == 1 ? shape.substr(0, shape.size() - 1) : shape);
  // Magic (6), version (2), header length (2), header padded with spaces to a multiple of
  // 64 bytes, ending in a newline.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const at::Tensor data = array.contiguous();
  const size_t bytes = static_cast<size_t>(data.numel()) * data.element_size();
  std::string out;
  out.reserve(10 + header.size() + bytes);
  out += "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(data.data_ptr()), bytes);
  return out;
}

}  // namespace ripple::io
