// BackwardBuckets (src/dist/backward_buckets.h) on a real autograd graph: a three-layer
// model whose parameters live in FlatAdam's flat buffer. The first pass only counts; from
// the second on, each bucket is launched during backward, in order, holding its complete
// gradient; a parameter that later receives more gradients than in the first pass (two
// backward passes in one step) is named.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <stdexcept>
#include <vector>

#include "dist/backward_buckets.h"
#include "train/flat_adam.h"

namespace ripple::dist {
namespace {

struct Launched {
  int64_t offset, length;
  size_t bucket;
  bool during_backward;
  at::Tensor values;
};

TEST(BackwardBuckets, LaunchEachBucketInOrderOnceBackwardHasFilledIt) {
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(4, 8), torch::nn::ReLU(), torch::nn::Linear(8, 8), torch::nn::ReLU(),
                              torch::nn::Linear(8, 2));
  train::FlatAdam optimizer(model->parameters(), 0.01);
  bool in_backward = false;
  std::vector<Launched> launched;
  // Buckets close once they hold 40 elements or more, taken from the last parameter back.
  BackwardBuckets buckets(model->parameters(), optimizer.flat_grads(), 40,
                          [&](int64_t offset, int64_t length, size_t bucket) {
                            launched.push_back({offset, length, bucket, in_backward,
                                                optimizer.flat_grads().narrow(0, offset, length).clone()});
                          });
  // Parameters (sizes): w1 32, b1 8, w2 64, b2 8, w3 16, b3 2. From the back: {b3, w3, b2,
  // w2} = 90 >= 40; then {b1, w1} = 40.
  ASSERT_EQ(buckets.size(), 2u);
  const at::Tensor x = torch::randn({5, 4});
  for (int pass = 0; pass < 3; ++pass) {
    SCOPED_TRACE(pass);
    optimizer.zero_grad();
    launched.clear();
    buckets.begin_pass();
    const at::Tensor loss = model->forward(x).pow(2).sum();
    in_backward = true;
    loss.backward();
    in_backward = false;
    buckets.finish_pass();
    ASSERT_EQ(launched.size(), 2u);
    EXPECT_EQ(launched[0].bucket, 0u);
    EXPECT_EQ(launched[1].bucket, 1u);
    EXPECT_EQ(launched[0].offset, 40);
    EXPECT_EQ(launched[0].length, 90);
    EXPECT_EQ(launched[1].offset, 0);
    EXPECT_EQ(launched[1].length, 40);
    for (const Launched& l : launched) {
      // The first pass counts (everything at the end); later ones launch while backward runs.
      EXPECT_EQ(l.during_backward, pass > 0);
      EXPECT_TRUE(at::equal(l.values, optimizer.flat_grads().narrow(0, l.offset, l.length)));  // complete
    }
  }
  // Autograd sums the gradients of a parameter used twice in one graph before accumulating
  // them once; two backward passes in one step accumulate twice.
  optimizer.zero_grad();
  launched.clear();
  buckets.begin_pass();
  const at::Tensor y = model->forward(x);
  (y.sum() + (y * 2).sum()).backward({}, /*retain_graph=*/true);
  y.sum().backward();
  try {
    buckets.finish_pass();
    ADD_FAILURE() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("received 2 gradients in this backward pass against 1"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(launched.size(), 2u);  // every bucket still launched, so the ranks' collectives match
}

}  // namespace
}  // namespace ripple::dist
