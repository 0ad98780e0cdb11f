// The few places Ripple uses x86 instructions directly, each with a portable fallback
// (internal, header-only, no LibTorch). RIPPLE_X86_SIMD is defined when the intrinsics may
// be used: on x86 compilers, unless RIPPLE_PORTABLE_SIMD is defined (the CMake option of the
// same name, and the fallback test binary, force the portable code on x86 too). Other
// architectures always take the fallback, which gives the same results: the streaming store
// and the half-precision conversion are exact in both paths.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if (defined(__x86_64__) || defined(__i386__)) && !defined(RIPPLE_PORTABLE_SIMD)
#define RIPPLE_X86_SIMD 1
#include <immintrin.h>
#endif

namespace ripple::simd {

// Copies `len` floats from `acc` to `out`. With `streaming`, on AVX machines, uses
// non-temporal stores when the row allows (8-float multiple, 32-byte aligned output): a
// normal store first reads each line it overwrites, which a large output does not need.
inline void store_floats(float* __restrict__ out, const float* __restrict__ acc, int64_t len, bool streaming) {
#if defined(RIPPLE_X86_SIMD) && defined(__AVX__)
  if (streaming && len % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 32 == 0) {
    for (int64_t k = 0; k < len; k += 8) _mm256_stream_ps(out + k, _mm256_loadu_ps(acc + k));
    return;
  }
#endif
  (void)streaming;
  std::copy(acc, acc + len, out);
}

// Orders the non-temporal stores of this thread before what follows (a no-op without them).
inline void fence_streaming_stores() {
#if defined(RIPPLE_X86_SIMD) && defined(__AVX__)
  _mm_sfence();
#endif
}

// IEEE 754 binary16 (bits) to float, exactly: subnormals, infinities and NaN included.
inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf, NaN (payload kept)
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {        // subnormal half: a normal float
    const float magnitude = static_cast<float>(mantissa) * 0x1.0p-24f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  }
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Converts `n` binary16 values to float; 8 at a time with F16C where available.
inline void half_bits_to_floats(const uint16_t* in, float* out, int64_t n) {
  int64_t k = 0;
#if defined(RIPPLE_X86_SIMD) && defined(__F16C__)
  for (; k + 8 <= n; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k));
    _mm256_storeu_ps(out + k, _mm256_cvtph_ps(h));
  }
#endif
  for (; k < n; ++k) out[k] = half_bits_to_float(in[k]);
}

// True when this translation unit was built with the x86 paths (for tests and reports).
constexpr bool uses_x86_intrinsics() {
#if defined(RIPPLE_X86_SIMD)
  return true;
#else
  return false;
#endif
}

}  // namespace ripple::simd
