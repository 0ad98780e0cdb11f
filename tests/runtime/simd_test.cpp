// The x86 paths of src/runtime/simd.h and their portable fallbacks give the same results.
// This file is compiled twice: into ripple_tests (x86 paths where the build machine has
// them) and into ripple_portable_simd_tests with RIPPLE_PORTABLE_SIMD defined (the
// fallback every non-x86 build runs). It needs no LibTorch, so the second build is cheap.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/simd.h"

namespace ripple {
namespace {

// binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024).
double half_by_definition(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  const double magnitude = exponent == 0 ? std::ldexp(mantissa / 1024.0, -14)
                                         : std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
  return sign ? -magnitude : magnitude;
}

TEST(Simd, BuildUsesTheExpectedPath) {
#if defined(RIPPLE_PORTABLE_SIMD)
  EXPECT_FALSE(simd::uses_x86_intrinsics());
#elif defined(__x86_64__)
  EXPECT_TRUE(simd::uses_x86_intrinsics());
#endif
}

TEST(Simd, EveryHalfConvertsExactly) {
  std::vector<uint16_t> all(65536 + 5);  // +5: the tail after the last group of 8
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> out(all.size());
  simd::half_bits_to_floats(all.data(), out.data(), static_cast<int64_t>(all.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    const uint16_t h = all[i];
    const int exponent = (h >> 10) & 0x1F;
    if (exponent == 0x1F) {
      if ((h & 0x3FF) == 0) {
        EXPECT_TRUE(std::isinf(out[i]) && std::signbit(out[i]) == bool(h >> 15)) << h;
      } else {
        EXPECT_TRUE(std::isnan(out[i])) << h;
      }
      continue;
    }
    ASSERT_EQ(static_cast<double>(out[i]), half_by_definition(h)) << "half bits " << h;
    ASSERT_EQ(std::signbit(out[i]), bool(h >> 15)) << "half bits " << h;
    ASSERT_EQ(out[i], simd::half_bits_to_float(h)) << "scalar and vector paths differ at " << h;
  }
}

TEST(Simd, StreamingAndPlainStoresWriteTheSameRow) {
  for (int64_t len : {1, 7, 8, 9, 31, 32, 33, 64, 65, 256, 257}) {
    std::vector<float> acc(len);
    for (int64_t k = 0; k < len; ++k) acc[k] = 0.25f * static_cast<float>(k) - 3.0f;
    alignas(64) float streamed[264] = {}, plain[264] = {};
    simd::store_floats(streamed, acc.data(), len, /*streaming=*/true);
    simd::store_floats(plain, acc.data(), len, /*streaming=*/false);
    simd::fence_streaming_stores();
    EXPECT_EQ(std::memcmp(streamed, acc.data(), len * sizeof(float)), 0) << "len " << len;
    EXPECT_EQ(std::memcmp(plain, acc.data(), len * sizeof(float)), 0) << "len " << len;
    EXPECT_EQ(streamed[len], 0.0f) << "wrote past the row, len " << len;
  }
}

}  // namespace
}  // namespace ripple
