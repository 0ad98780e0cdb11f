#include <torch/nn/init.h>

#include <cmath>

#include "ripple/nn/layers.h"

namespace ripple::nn {

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias, bool glorot) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (glorot) {
    torch::nn::init::xavier_uniform_(weight);
  } else {
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  }
  if (with_bias) {
    bias = register_parameter("bias", torch::empty({out}));
    if (glorot) {
      torch::nn::init::zeros_(bias);
    } else {
      const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
      torch::nn::init::uniform_(bias, -bound, bound);
    }
  }
}

}  // namespace ripple::nn
