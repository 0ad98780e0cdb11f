// Block-wise quantization for the wire. See src/dist/quantize.h.
#include "dist/quantize.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace ripple::dist {
namespace {

int64_t blocks_of(int64_t n) { return (n + kQuantBlock - 1) / kQuantBlock; }

double levels(WirePrecision precision) { return precision == WirePrecision::int8 ? 127.0 : 7.0; }

int64_t code_bytes(WirePrecision precision, int64_t n) {
  switch (precision) {
    case WirePrecision::fp16: return 2 * n;
    case WirePrecision::int8: return n;
    case WirePrecision::int4: return (n + 1) / 2;
  }
  return 0;
}

}  // namespace

WirePrecision wire_precision(const std::string& name) {
  if (name == "fp16") return WirePrecision::fp16;
  if (name == "int8") return WirePrecision::int8;
  if (name == "int4") return WirePrecision::int4;
  throw std::invalid_argument("unknown wire precision: " + name);
}

int64_t quantized_message_bytes(WirePrecision precision, int64_t n) {
  const int64_t scales = precision == WirePrecision::fp16 ? 0 : 4 * blocks_of(n);
  return scales + code_bytes(precision, n);
}

at::Tensor quantize_message(WirePrecision precision, const at::Tensor& values) {
  const at::Tensor x = values.reshape({-1}).to(at::kFloat);
  const int64_t n = x.numel();
  if (precision == WirePrecision::fp16) return x.to(at::kHalf).contiguous().view(at::kByte);
  // [blocks, kQuantBlock], the tail padded with zeros.
  const int64_t blocks = blocks_of(n);
  const at::Tensor padded = at::zeros({blocks * kQuantBlock}, at::kFloat);
  padded.narrow(0, 0, n).copy_(x);
  const at::Tensor rows = padded.view({blocks, kQuantBlock});
  const double q = levels(precision);
  const at::Tensor scales = std::get<0>(rows.abs().max(1)).div_(q);
  const at::Tensor divisor = at::where(scales > 0, scales, at::ones_like(scales)).unsqueeze(1);
  const at::Tensor codes = at::round(rows / divisor).clamp_(-q, q).to(at::kChar).reshape({-1}).narrow(0, 0, n);
  at::Tensor packed;
  if (precision == WirePrecision::int8) {
    packed = codes.contiguous().view(at::kByte);
  } else {
    // Two values per byte: (code + 8) in the low nibble for even positions, high for odd.
    at::Tensor nibbles = at::full({2 * ((n + 1) / 2)}, 8, at::kByte);
    nibbles.narrow(0, 0, n).copy_(codes.to(at::kShort).add(8).to(at::kByte));
    const at::Tensor pairs = nibbles.view({-1, 2});
    packed = pairs.select(1, 0).bitwise_or(pairs.select(1, 1).mul(16)).contiguous();
  }
  return at::cat({scales.contiguous().view(at::kByte), packed});
}

void add_dequantized(WirePrecision precision, const at::Tensor& message, const at::Tensor& out) {
  const int64_t n = out.numel();
  if (precision == WirePrecision::fp16) {
    out.add_(message.clone().view(at::kHalf).to(at::kFloat));  // clone: a row of the gathered messages may sit at an odd byte offset
    return;
  }
  const int64_t blocks = blocks_of(n);
  const at::Tensor scales = message.narrow(0, 0, 4 * blocks).clone().view(at::kFloat);
  const at::Tensor packed = message.narrow(0, 4 * blocks, code_bytes(precision, n));
  at::Tensor codes;
  if (precision == WirePrecision::int8) {
    codes = packed.view(at::kChar).to(at::kFloat);
  } else {
    const at::Tensor low = packed.bitwise_and(15), high = packed.div(16, "floor");
    codes = at::stack({low, high}, 1).reshape({-1}).narrow(0, 0, n).to(at::kFloat).sub_(8);
  }
  const at::Tensor padded = at::zeros({blocks * kQuantBlock}, at::kFloat);
  padded.narrow(0, 0, n).copy_(codes);
  out.add_(padded.view({blocks, kQuantBlock}).mul_(scales.unsqueeze(1)).reshape({-1}).narrow(0, 0, n));
}

void sum_dequantized(WirePrecision precision, const at::Tensor& messages, const at::Tensor& out) {
  out.zero_();
  for (int64_t r = 0; r < messages.size(0); ++r) add_dequantized(precision, messages[r], out);
}

QuantErrorFeedback::QuantErrorFeedback(WirePrecision precision, int64_t n)
    : precision_(precision), residual_(at::zeros({n}, at::kFloat)) {}

at::Tensor QuantErrorFeedback::compress(const at::Tensor& values, int64_t offset) {
  at::Tensor e = residual_.narrow(0, offset, values.numel());
  e.add_(values);  // e = g + e: what this message is to carry
  const at::Tensor message = quantize_message(precision_, e);
  at::Tensor decoded = at::zeros_like(e);
  add_dequantized(precision_, message, decoded);
  e.sub_(decoded);  // what it rounded off, kept for the next message
  return message;
}

void quantized_all_reduce_sum(Communicator& comm, const at::Tensor& tensor, WirePrecision precision, Traffic kind,
                              const std::string& what) {
  sum_dequantized(precision, comm.all_gather(quantize_message(precision, tensor), kind, what), tensor);
}

}  // namespace ripple::dist
