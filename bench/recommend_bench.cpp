// Full-ranking evaluation at Gowalla's size (src/tasks/ranking.cpp): 29,858 users x 40,981
// items of width 64, 27 excluded (training) and 7 relevant (test) items a user as in
// Gowalla, Recall/NDCG@20; the argument is the chunk of users an evaluation thread ranks
// together (recommend.eval_chunk). Items per second count scores.
//
// UltraGCN's negative term at its Gowalla size: 70,839 embeddings of width 64 (29,858 users,
// 40,981 items), a batch of 512 positives with 1500 negatives each (768,000 scores), loss and
// gradient. The fused kernel (src/tasks/ultragcn_negatives.h) against the ATen composition
// it replaced (gather, batched product, softplus, autograd's index_add). Items per second
// count negatives.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/autograd.h>

#include <algorithm>

#include "ripple/ranking.h"
#include "tasks/ultragcn_negatives.h"

namespace ripple::bench {
namespace {

constexpr int64_t kUsers = 29858, kItems = 40981, kDim = 64, kBatch = 512, kNegatives = 1500;

struct NegativeBatch {
  at::Tensor embedding, users, items, user_beta, item_beta;
};

const NegativeBatch& negative_batch() {
  static const NegativeBatch b = [] {
    at::manual_seed(0);
    return NegativeBatch{(at::randn({kUsers + kItems, kDim}) * 0.1).requires_grad_(true),
                         at::randint(kUsers, {kBatch}, at::kLong), at::randint(kItems, {kBatch * kNegatives}, at::kLong),
                         at::rand({kUsers}), at::rand({kItems})};
  }();
  return b;
}

void BM_UltraGcnNegativesFused(benchmark::State& state) {
  const NegativeBatch& b = negative_batch();
  for (auto _ : state) {
    const at::Tensor loss =
        tasks::ultragcn_negative_loss(b.embedding, kUsers, b.users, b.items, b.user_beta, b.item_beta, 1e-6, 1.0);
    const auto grad = torch::autograd::grad({loss}, {b.embedding});
    benchmark::DoNotOptimize(grad[0].data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kNegatives);
}

void BM_UltraGcnNegativesAten(benchmark::State& state) {
  const NegativeBatch& b = negative_batch();
  for (auto _ : state) {
    const at::Tensor eu = b.embedding.index_select(0, b.users);
    const at::Tensor en = b.embedding.index_select(0, b.items + kUsers).view({kBatch, kNegatives, kDim});
    const at::Tensor score = at::bmm(en, eu.unsqueeze(2)).squeeze(2);
    const at::Tensor w = 1e-6 + b.user_beta.index_select(0, b.users).unsqueeze(1) *
                                    b.item_beta.index_select(0, b.items).view({kBatch, kNegatives});
    const at::Tensor loss = (w * at::softplus(score)).mean(1).sum();
    const auto grad = torch::autograd::grad({loss}, {b.embedding});
    benchmark::DoNotOptimize(grad[0].data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kNegatives);
}

// Items j_begin..j_end-1 of each user's sequence (offset_u + 1531 j) mod items, sorted:
// distinct (1531 is prime to 40,981), and two disjoint j ranges give disjoint sets.
UserItems user_items(int64_t j_begin, int64_t j_end) {
  const int64_t per_user = j_end - j_begin;
  UserItems out{at::arange(0, (kUsers + 1) * per_user, per_user, at::kLong), at::empty({kUsers * per_user}, at::kLong)};
  int64_t* items = out.items.data_ptr<int64_t>();
  for (int64_t u = 0; u < kUsers; ++u) {
    const int64_t offset = (u * 104729) % kItems;
    for (int64_t j = j_begin; j < j_end; ++j) items[u * per_user + j - j_begin] = (offset + 1531 * j) % kItems;
    std::sort(items + u * per_user, items + (u + 1) * per_user);
  }
  return out;
}

void BM_FullRanking(benchmark::State& state) {
  at::manual_seed(0);
  const at::Tensor users = at::randn({kUsers, kDim}) * 0.1, items = at::randn({kItems, kDim}) * 0.1;
  const UserItems exclude = user_items(0, 27), relevant = user_items(27, 34);
  RankingOptions options;
  options.chunk = state.range(0);
  for (auto _ : state) {
    const auto metrics = evaluate_full_ranking(users, items, exclude, relevant, options);
    benchmark::DoNotOptimize(metrics.at("recall@20"));
  }
  state.SetItemsProcessed(state.iterations() * kUsers * kItems);
}

BENCHMARK(BM_FullRanking)->Arg(32)->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UltraGcnNegativesFused)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UltraGcnNegativesAten)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ripple::bench
