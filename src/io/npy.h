// NumPy's .npy format, version 1.0, for arrays a user loads with numpy.load (internal).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace ripple::io {

// The bytes of a .npy file holding `array` (float32, int64 or int32, any shape, written in C order,
// little-endian). Throws InputError for another dtype.
std::string npy_bytes(const at::Tensor& array);

}  // namespace ripple::io
