// EF21 top-k (src/dist/ef21.h) against a reference written with plain vectors and a sort:
// several simulated ranks, several parameter tensors, the messages exchanged as the
// all-gather would stack them. Also: with ratio 1 the estimate is the exact sum of the
// gradients (ddp), and error feedback sends a constant gradient exactly in ceil(size / k)
// steps, where plain top-k would never send the rest.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "dist/ef21.h"

namespace ripple::dist {
namespace {

using Vec = std::vector<float>;

Vec to_vec(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return Vec(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// The reference: per rank, per tensor, the k entries of largest |grad - local| by a sort.
struct ReferenceEf21 {
  std::vector<int64_t> sizes;
  double ratio;
  std::vector<Vec> local;
  Vec global;

  ReferenceEf21(std::vector<int64_t> s, double r, size_t ranks) : sizes(std::move(s)), ratio(r) {
    const int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
    local.assign(ranks, Vec(total, 0.0f));
    global.assign(total, 0.0f);
  }
  void step(const std::vector<Vec>& grads) {
    Vec sum_of_messages(global.size(), 0.0f);
    for (size_t r = 0; r < grads.size(); ++r) {
      int64_t offset = 0;
      for (const int64_t size : sizes) {
        const auto k = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(ratio * size)), 1, size);
        std::vector<int64_t> order(size);
        std::iota(order.begin(), order.end(), offset);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          return std::abs(grads[r][a] - local[r][a]) > std::abs(grads[r][b] - local[r][b]);
        });
        for (int64_t i = 0; i < k; ++i) {
          const int64_t at = order[i];
          const float c = grads[r][at] - local[r][at];
          local[r][at] += c;
          global[at] += c;
        }
        offset += size;
      }
    }
  }
};

const std::vector<int64_t> kSizes = {7, 20, 3, 12};

std::vector<at::Tensor> random_gradients(size_t ranks, int64_t step) {
  std::vector<at::Tensor> out;
  const int64_t total = std::accumulate(kSizes.begin(), kSizes.end(), int64_t{0});
  for (size_t r = 0; r < ranks; ++r) {
    at::manual_seed(1000 * step + static_cast<int64_t>(r));
    out.push_back(at::randn({total}, at::kFloat));
  }
  return out;
}

std::vector<Ef21TopK> simulated_ranks(size_t n, double ratio) {
  std::vector<Ef21TopK> ranks;
  for (size_t r = 0; r < n; ++r) ranks.emplace_back(kSizes, ratio);
  return ranks;
}

// One step for every simulated rank: compress, stack the messages as the all-gather does,
// decompress on each rank.
void exchange(std::vector<Ef21TopK>& ranks, const std::vector<at::Tensor>& grads, std::vector<at::Tensor>& used) {
  std::vector<at::Tensor> messages;
  for (size_t r = 0; r < ranks.size(); ++r) messages.push_back(ranks[r].compress(grads[r]));
  const at::Tensor stacked = at::stack(messages);
  used.clear();
  for (size_t r = 0; r < ranks.size(); ++r) {
    at::Tensor g = grads[r].clone();
    ranks[r].decompress(stacked, g);
    used.push_back(g);
  }
}

TEST(Ef21TopK, MatchesTheReferenceOnThreeRanksAndFourTensors) {
  const size_t n = 3;
  const double ratio = 0.2;  // k = 2, 4, 1, 3
  std::vector<Ef21TopK> ranks = simulated_ranks(n, ratio);
  EXPECT_EQ(ranks[0].entries_per_message(), 2 + 4 + 1 + 3);
  ReferenceEf21 ref(kSizes, ratio, n);
  std::vector<at::Tensor> used;
  for (int64_t step = 0; step < 6; ++step) {
    const std::vector<at::Tensor> grads = random_gradients(n, step);
    exchange(ranks, grads, used);
    std::vector<Vec> plain;
    for (const at::Tensor& g : grads) plain.push_back(to_vec(g));
    ref.step(plain);
    for (size_t r = 0; r < n; ++r) {
      EXPECT_TRUE(at::equal(used[r], used[0])) << "ranks disagree at step " << step;
      const Vec got = to_vec(used[r]), local = to_vec(ranks[r].local_estimate());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], ref.global[i], 1e-5) << "step " << step << " entry " << i;
        ASSERT_NEAR(local[i], ref.local[r][i], 1e-6) << "rank " << r << " step " << step << " entry " << i;
      }
    }
  }
}

TEST(Ef21TopK, RatioOneSendsEverythingAndEqualsTheSum) {
  std::vector<Ef21TopK> ranks = simulated_ranks(2, 1.0);
  std::vector<at::Tensor> used;
  for (int64_t step = 0; step < 4; ++step) {
    const std::vector<at::Tensor> grads = random_gradients(2, step);
    exchange(ranks, grads, used);
    EXPECT_LT((used[0] - (grads[0] + grads[1])).abs().max().item<double>(), 1e-5);
  }
}

TEST(Ef21TopK, ErrorFeedbackSendsAConstantGradientExactlyInSizeOverKSteps) {
  std::vector<Ef21TopK> ranks = simulated_ranks(2, 0.25);  // k = 2, 5, 1, 3: at most 4 steps each
  const std::vector<at::Tensor> grads = random_gradients(2, 0);
  std::vector<at::Tensor> used;
  for (int step = 0; step < 3; ++step) exchange(ranks, grads, used);
  EXPECT_GT((used[0] - (grads[0] + grads[1])).abs().max().item<double>(), 1e-3);  // not yet
  exchange(ranks, grads, used);
  EXPECT_LT((used[0] - (grads[0] + grads[1])).abs().max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace ripple::dist
