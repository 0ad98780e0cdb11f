// The wire quantization of src/dist/quantize.h against a plain per-value loop: fp16 is a
// cast, int8 and int4 round each value to its block's grid (scale = the block's largest
// magnitude / q, halves to even) and decode to code * scale, within scale / 2 of the value.
// Odd lengths, a block of zeros and the message sizes are covered. DiLoCo with quantized
// changes is checked against its reference loop in tests/dist/diloco_test.cpp.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dist/quantize.h"

namespace ripple::dist {
namespace {

// 301 values in 3 blocks (128, 128, 45): the first of mixed magnitudes and signs, the
// second all zero, the third a short tail.
at::Tensor sample_values() {
  at::Tensor x = at::randn({301}, at::TensorOptions().dtype(at::kFloat)) * 3.0;
  x.narrow(0, 128, 128).zero_();
  x[5] = 40.0f;  // one large value: its block's grid is coarse
  return x;
}

// What decoding the message gives, value by value, written out plainly.
std::vector<float> reference_round_trip(const at::Tensor& x, float q) {
  const float* v = x.data_ptr<float>();
  const int64_t n = x.numel();
  std::vector<float> out(n);
  for (int64_t start = 0; start < n; start += kQuantBlock) {
    const int64_t end = std::min(n, start + kQuantBlock);
    float largest = 0;
    for (int64_t i = start; i < end; ++i) largest = std::max(largest, std::fabs(v[i]));
    const float scale = largest / q;
    for (int64_t i = start; i < end; ++i) {
      const float code = scale > 0 ? std::clamp(std::nearbyint(v[i] / scale), -q, q) : 0.0f;
      out[i] = code * scale;
    }
  }
  return out;
}

at::Tensor round_trip(WirePrecision precision, const at::Tensor& x) {
  const at::Tensor message = quantize_message(precision, x);
  EXPECT_EQ(message.numel(), quantized_message_bytes(precision, x.numel()));
  const at::Tensor out = at::zeros_like(x);
  add_dequantized(precision, message, out);
  return out;
}

TEST(Quantize, IntegerCodesMatchThePlainLoopWithinHalfAStep) {
  at::manual_seed(7);
  const at::Tensor x = sample_values();
  for (const auto& [precision, q] : {std::pair{WirePrecision::int8, 127.0f}, std::pair{WirePrecision::int4, 7.0f}}) {
    SCOPED_TRACE(q);
    const at::Tensor got = round_trip(precision, x);
    const std::vector<float> want = reference_round_trip(x, q);
    const float* g = got.data_ptr<float>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_NEAR(g[i], want[i], 1e-6 * std::fabs(want[i]) + 1e-12) << "value " << i;
    }
    // Within half a grid step of the value; the block of zeros comes back as zeros.
    const at::Tensor blocks_max = std::get<0>(x.abs().split(kQuantBlock)[0].max(0));
    EXPECT_LE((got - x).narrow(0, 0, 128).abs().max().item<float>(), blocks_max.item<float>() / q / 2 * 1.0001);
    EXPECT_EQ(got.narrow(0, 128, 128).abs().max().item<float>(), 0.0f);
    EXPECT_GT((got - x).abs().max().item<float>(), 0.0f);  // it does round
  }
}

TEST(Quantize, HalfPrecisionIsACastAndMessagesHaveTheirSizes) {
  at::manual_seed(3);
  const at::Tensor x = sample_values();
  EXPECT_TRUE(at::equal(round_trip(WirePrecision::fp16, x), x.to(at::kHalf).to(at::kFloat)));
  EXPECT_EQ(quantized_message_bytes(WirePrecision::fp16, 301), 602);
  EXPECT_EQ(quantized_message_bytes(WirePrecision::int8, 301), 3 * 4 + 301);
  EXPECT_EQ(quantized_message_bytes(WirePrecision::int4, 301), 3 * 4 + 151);
  EXPECT_EQ(quantized_message_bytes(WirePrecision::int4, 256), 2 * 4 + 128);
}

// Decoding adds: a second message accumulates onto the first, in float32.
TEST(Quantize, DecodingAddsIntoTheOutput) {
  const at::Tensor a = at::linspace(-1.0, 1.0, 129, at::kFloat);
  const at::Tensor out = at::ones({129}, at::kFloat);
  add_dequantized(WirePrecision::int4, quantize_message(WirePrecision::int4, a), out);
  add_dequantized(WirePrecision::int4, quantize_message(WirePrecision::int4, a), out);
  const at::Tensor once = round_trip(WirePrecision::int4, a);
  EXPECT_TRUE(at::allclose(out, 1 + 2 * once));
  // -1 and 1 lie on the grid of their block (scale 1/7); so does the last value alone.
  EXPECT_FLOAT_EQ(once[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(once[128].item<float>(), 1.0f);
}

}  // namespace
}  // namespace ripple::dist
