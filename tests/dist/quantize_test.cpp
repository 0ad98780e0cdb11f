// The wire quantization of src/dist/quantize.h against a plain per-value loop: fp16 is a
// cast, int8 and int4 round each value to its block's grid (scale = the block's largest
// magnitude / q, halves to even) and decode to code * scale, within scale / 2 of the value.
// Odd lengths, a block of zeros and the message sizes are covered. Error feedback keeps
// what the messages round off: their running sum trails the values' by exactly the
// residual, which stays within one message's rounding, while without it the error grows.
// DiLoCo with quantized changes is checked against its reference loop in
// tests/dist/diloco_test.cpp.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dist/quantize.h"
#include "ripple/error.h"
#include "ripple/settings.h"

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

// 60 steps of int4 messages for 300 values in 3 buckets-worth of slices: the decoded
// messages add up to the values less the final residual (to float rounding), the residual
// never exceeds one message's rounding of its block, and the error of plain rounding,
// which never cancels here (a constant small gradient rounds to 0 each step), is far larger.
TEST(QuantErrorFeedback, RoundingIsDelayedNeverLost) {
  at::manual_seed(11);
  const int64_t n = 300;
  const at::Tensor small = at::full({n}, 0.01f, at::kFloat);
  small.narrow(0, 0, 3).fill_(1.0f);  // one large value per block keeps the grid coarse (step 1/7)
  small.narrow(0, 128, 1).fill_(1.0f);
  small.narrow(0, 256, 1).fill_(1.0f);
  QuantErrorFeedback feedback(WirePrecision::int4, n);
  at::Tensor sent = at::zeros({n}, at::kFloat), plain = at::zeros({n}, at::kFloat), truth = at::zeros({n}, at::kFloat);
  for (int step = 0; step < 60; ++step) {
    const at::Tensor g = small + 0.001f * at::randn({n}, at::kFloat);
    truth.add_(g);
    for (int64_t offset : {int64_t{0}, int64_t{100}, int64_t{200}}) {  // the values in three slices
      const at::Tensor part = g.narrow(0, offset, 100).contiguous();
      add_dequantized(WirePrecision::int4, feedback.compress(part, offset), sent.narrow(0, offset, 100));
      add_dequantized(WirePrecision::int4, quantize_message(WirePrecision::int4, part), plain.narrow(0, offset, 100));
    }
    EXPECT_LT(feedback.residual().abs().max().item<double>(), 0.5 * 1.1 / 7 + 1e-6) << "step " << step;
  }
  EXPECT_LT((truth - sent - feedback.residual()).abs().max().item<double>(), 1e-4);
  const double with = (truth - sent).abs().max().item<double>(), without = (truth - plain).abs().max().item<double>();
  EXPECT_LT(with, 0.1);
  EXPECT_GT(without, 0.5);  // 0.01 a step, rounded away 60 times
}

TEST(QuantErrorFeedback, IsRefusedWhereNoQuantizedMessageIsSent) {
  RunConfig c;
  c.dist.error_feedback = true;
  c.dist.strategy = "ddp";
  for (const char* compress : {"none", "ef21-topk"}) {
    c.dist.compress = compress;
    try {
      validate_run_config(c);
      ADD_FAILURE() << compress << " was accepted";
    } catch (const SettingError& e) {
      EXPECT_EQ(e.field(), "dist.error_feedback");
    }
  }
  c.dist.compress = "int8";
  c.dist.strategy = "gossip";  // whole models, never quantized
  EXPECT_THROW(validate_run_config(c), SettingError);
  for (const char* strategy : {"ddp", "local-sgd", "diloco"}) {
    c.dist.strategy = strategy;
    EXPECT_NO_THROW(validate_run_config(c)) << strategy;
  }
}

}  // namespace
}  // namespace ripple::dist
