// Block-wise quantization of float32 vectors for the wire (internal): what dist.compress =
// "fp16", "int8" and "int4" send in place of the float32 tensor that ddp's gradient and
// DiLoCo's (or local SGD's) parameter change would all-reduce.
//
// fp16: each value as IEEE half (2 bytes; values beyond +-65504 become infinite).
// int8, int4: the vector is cut into blocks of kQuantBlock values; each block sends one
// float32 scale, its largest magnitude / q (q = 127, 7), and each value as the integer
// round(x / scale) (halves to even) in [-q, q]; int4 packs two values per byte (value + 8
// in the low nibble for even positions, the high nibble for odd ones). A block of zeros has
// scale 0. Decoding is code * scale, so the error per value is at most scale / 2.
// Without error feedback what a message rounds off is lost (as in Streaming DiLoCo);
// QuantErrorFeedback keeps it for the next message (ddp's dist.error_feedback).
//
// A sum of quantized values does not fit the quantized format (int8 sums overflow), so
// quantized_all_reduce_sum all-gathers the messages and every rank decodes and adds them in
// rank order in float32: every rank holds the same sum, bit for bit.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "dist/communicator.h"

namespace ripple::dist {

inline constexpr int64_t kQuantBlock = 128;

enum class WirePrecision { fp16, int8, int4 };

// "fp16", "int8" or "int4"; anything else throws std::invalid_argument (the schema has
// already refused it).
WirePrecision wire_precision(const std::string& name);

// Bytes of the message for `n` values.
int64_t quantized_message_bytes(WirePrecision precision, int64_t n);

// The message (uint8, quantized_message_bytes long) for the flat float32 `values`.
at::Tensor quantize_message(WirePrecision precision, const at::Tensor& values);

// Adds the values a message of `out.numel()` values decodes to into `out` (flat float32).
void add_dequantized(WirePrecision precision, const at::Tensor& message, const at::Tensor& out);

// Sets `out` (flat float32) to the sum of the gathered messages ([world_size, bytes], one row
// per rank) as they decode, added in rank order.
void sum_dequantized(WirePrecision precision, const at::Tensor& messages, const at::Tensor& out);

// Error feedback for quantized messages (EF-SGD: Seide et al. 2014, Karimireddy et al.
// 2019). A residual e, zero at first, of one float32 per value: the message for values g
// quantizes g + e, and e becomes g + e minus what that message decodes to. The decoded
// messages of steps 1..T add up to the values of steps 1..T minus e_T: rounding delays a
// value, it is never lost.
class QuantErrorFeedback {
 public:
  QuantErrorFeedback(WirePrecision precision, int64_t n);
  // The message for `values` (flat float32), the slice [offset, offset + values.numel()) of
  // the n values the residual covers; updates that slice of the residual.
  at::Tensor compress(const at::Tensor& values, int64_t offset);
  const at::Tensor& residual() const { return residual_; }

 private:
  WirePrecision precision_;
  at::Tensor residual_;
};

// In place: the sum over the ranks of `tensor` (flat float32, contiguous) as each rank's
// quantized message decodes, added in rank order. Sends an all-gather of the messages.
void quantized_all_reduce_sum(Communicator& comm, const at::Tensor& tensor, WirePrecision precision, Traffic kind,
                              const std::string& what);

}  // namespace ripple::dist
