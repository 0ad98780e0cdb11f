// Stateless building blocks used by the layers: counter-based dropout and activations.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "ripple/nn/context.h"

namespace ripple::nn {

// Keeps each element with probability 1-p and scales it by 1/(1-p), in training mode only.
// The mask is drawn from ctx's counter-based stream, in parallel and thread-count independent.
at::Tensor dropout(const at::Tensor& x, double p, ForwardContext& ctx);

// dropout(relu(x), p, ctx) in one pass forward and one backward (which needs no mask drawn
// again), with the same results and the same draws from ctx.
at::Tensor relu_dropout(const at::Tensor& x, double p, ForwardContext& ctx);

// A float mask of `n` elements, each 0 or 1/(1-p), for `key`.
at::Tensor dropout_mask(int64_t n, double p, uint64_t key, at::ScalarType type);

// "relu", "elu", "gelu", "leaky_relu", "tanh", "identity"; throws InputError otherwise.
at::Tensor activate(const at::Tensor& x, const std::string& name);
bool is_known_activation(const std::string& name);

}  // namespace ripple::nn
