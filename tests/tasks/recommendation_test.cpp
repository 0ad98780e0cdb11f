// Recommendation: the interaction reader and its malformed files, top K and Recall/NDCG
// against plain reference loops, the BPR negative sampler, LightGCN's propagation and
// gradient against a dense reference, UltraGCN's item-item graph and loss against plain
// references, short learning runs of both on a Gowalla subset against the popularity ranking
// (the full Gowalla figures are in docs/recommendation.md), and the command line (train,
// recommend, export).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <cstring>

#include <torch/autograd.h>

#include "ripple/error.h"
#include "ripple/interactions.h"
#include "ripple/ranking.h"
#include "ripple/sample.h"
#include "ripple/trainer.h"
#include "support/cli.h"
#include "support/interaction_files.h"
#include "tasks/recommend_task.h"

namespace fs = std::filesystem;

namespace ripple {
namespace {

using testing::gowalla_subset;
using testing::write_interactions;
using testing::write_text;

std::string load_error(const fs::path& dir) {
  try {
    load_interactions(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<int64_t> row_items(const UserItems& u, int64_t user) {
  const int64_t* p = u.indptr.data_ptr<int64_t>();
  const int64_t* items = u.items.data_ptr<int64_t>();
  return {items + p[user], items + p[user + 1]};
}

TEST(InteractionDataset, LoadsTheLayoutAndNamesFileAndLineOfEveryMalformedInput) {
  const auto root = testing::fresh_temp_dir("interactions");
  const InteractionDataset d = load_interactions(write_interactions(root / "good", "0 3 1\n2 0\t4\n\n3\n", "0 2\n2 1\n"));
  EXPECT_EQ(d.num_users, 4);  // largest id + 1 without user_list.txt
  EXPECT_EQ(d.num_items, 5);
  EXPECT_EQ(row_items(d.train, 0), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(row_items(d.train, 1), (std::vector<int64_t>{}));
  EXPECT_EQ(row_items(d.train, 2), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(row_items(d.test, 2), (std::vector<int64_t>{1}));
  const at::Tensor pairs = d.train_pairs();
  EXPECT_TRUE(at::equal(pairs, at::tensor({0, 0, 2, 2, 1, 3, 0, 4}, at::kLong).view({2, 4})));

  // Declared counts: a header line, then one line per id.
  write_text(root / "good" / "user_list.txt", "org_id remap_id\na 0\nb 1\nc 2\nd 3\ne 4\n");
  write_text(root / "good" / "item_list.txt", "org_id remap_id\na 0\nb 1\nc 2\nd 3\ne 4\nf 5\n");
  const InteractionDataset declared = load_interactions(root / "good");
  EXPECT_EQ(declared.num_users, 5);
  EXPECT_EQ(declared.num_items, 6);

  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"0 1 x\n", "1 2\n", "train.txt:1: field 3 \"x\": expected a non-negative integer item id"},
      {"0 1\n-1 2\n", "0 2\n", "train.txt:2: field 1 \"-1\": expected a non-negative integer user id"},
      {"0 1\n1 2.5\n", "0 2\n", "train.txt:2: field 2 \"2.5\""},
      {"0 1\n", "\n\n", "test.txt: no interaction"},
      {"0 1\n", "0 2\n1 3\n", "test.txt:2: user 1 has test items but no training items"},
      {"0 1\n0 2\n", "0 3\n", "train.txt:2: user 0 is already listed at line 1"},
      {"0 1 2 1\n", "0 3\n", "train.txt:1: item 1 appears twice for user 0"},
      {"0 1 2\n", "0 3 2\n", "test.txt:1: item 2 of user 0 is also a training item"},
  };
  for (const auto& [train, test, expected] : cases) {
    const std::string msg = load_error(write_interactions(root / "bad", train, test));
    EXPECT_NE(msg.find(expected), std::string::npos) << train << "|" << test << ": " << msg;
  }
  write_interactions(root / "declared", "0 1\n1 7\n", "0 2\n");
  write_text(root / "declared" / "item_list.txt", "org_id remap_id\na 0\nb 1\nc 2\n");
  EXPECT_NE(load_error(root / "declared").find("train.txt:2: field 2: item id 7 is beyond the 3 declared items"),
            std::string::npos) << load_error(root / "declared");
  fs::remove(write_interactions(root / "missing", "0 1\n", "0 2\n") / "test.txt");
  EXPECT_NE(load_error(root / "missing").find("test.txt"), std::string::npos);
  EXPECT_NE(load_error(root / "nowhere").find("not a directory"), std::string::npos);
}

// Column order of a row by (score descending, column ascending), without -inf and NaN.
std::vector<int64_t> reference_top(const at::Tensor& row, int64_t k) {
  std::vector<int64_t> cols;
  for (int64_t j = 0; j < row.numel(); ++j) {
    const float s = row[j].item<float>();
    if (!std::isnan(s) && s != -std::numeric_limits<float>::infinity()) cols.push_back(j);
  }
  std::stable_sort(cols.begin(), cols.end(),
                   [&](int64_t a, int64_t b) { return row[a].item<float>() > row[b].item<float>(); });
  cols.resize(std::min<size_t>(cols.size(), static_cast<size_t>(k)));
  return cols;
}

TEST(Ranking, TopKEqualsAStableSortWithTiesInfinitiesAndNans) {
  at::manual_seed(3);
  at::Tensor scores = (at::rand({37, 203}) * 20).floor();  // many ties
  scores[4].fill_(-std::numeric_limits<float>::infinity());
  scores[5].narrow(0, 0, 200).fill_(std::nanf(""));  // 3 rankable entries for k = 10
  scores[6][17] = std::numeric_limits<float>::infinity();
  for (const int64_t k : {1, 10, 203}) {
    const TopK top = top_k_rows(scores, k);
    for (int64_t r = 0; r < scores.size(0); ++r) {
      const std::vector<int64_t> expected = reference_top(scores[r], k);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t want = j < static_cast<int64_t>(expected.size()) ? expected[static_cast<size_t>(j)] : -1;
        ASSERT_EQ(top.items[r][j].item<int64_t>(), want) << "row " << r << " rank " << j << " k " << k;
      }
    }
  }
  EXPECT_THROW(top_k_rows(scores, 0), InputError);
  EXPECT_THROW(top_k_rows(scores.to(at::kDouble), 3), InputError);
}

TEST(Ranking, RecallAndNdcgEqualTheirReferenceLoops) {
  const auto root = testing::fresh_temp_dir("ranking");
  // 30 users, 50 items, random disjoint train/test sets (user 7 has no test items).
  std::ostringstream train, test;
  uint64_t state = 11;
  auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int u = 0; u < 30; ++u) {
    std::set<int64_t> items;
    while (items.size() < 3 + next() % 12) items.insert(static_cast<int64_t>(next() % 50));
    train << u;
    test << u;
    int i = 0;
    for (const int64_t item : items) ((i++ % 3 == 0 && u != 7) ? test : train) << ' ' << item;
    train << '\n';
    test << '\n';
  }
  const InteractionDataset d = load_interactions(write_interactions(root / "d", train.str(), test.str()));
  at::manual_seed(5);
  const at::Tensor users = at::randn({30, 8}), items = at::randn({50, 8});
  RankingOptions o;
  o.k = {5, 20, 60};  // 60: more places than the 50 items
  o.chunk = 7;        // several chunks, the last one short
  const auto got = evaluate_full_ranking(users, items, d.train, d.test, o);

  const at::Tensor scores = at::mm(users, items.t());
  for (const int64_t k : o.k) {
    double recall = 0, ndcg = 0;
    int evaluated = 0;
    for (int64_t u = 0; u < 30; ++u) {
      const std::vector<int64_t> rel = row_items(d.test, u), seen = row_items(d.train, u);
      if (rel.empty()) continue;
      ++evaluated;
      at::Tensor row = scores[u].clone();
      for (const int64_t i : seen) row[i] = -std::numeric_limits<float>::infinity();
      const std::vector<int64_t> top = reference_top(row, k);
      double hits = 0, dcg = 0, idcg = 0;
      for (size_t j = 0; j < top.size(); ++j) {
        if (std::count(rel.begin(), rel.end(), top[j])) {
          hits += 1;
          dcg += 1 / std::log2(static_cast<double>(j) + 2);
        }
      }
      for (size_t j = 0; j < std::min<size_t>(rel.size(), static_cast<size_t>(k)); ++j) {
        idcg += 1 / std::log2(static_cast<double>(j) + 2);
      }
      recall += hits / static_cast<double>(rel.size());
      ndcg += dcg / idcg;
    }
    EXPECT_NEAR(got.at("recall@" + std::to_string(k)), recall / evaluated, 1e-12);
    EXPECT_NEAR(got.at("ndcg@" + std::to_string(k)), ndcg / evaluated, 1e-12);
  }
  EXPECT_GT(got.at("recall@20"), got.at("recall@5"));
  // Three ranks' shares of the users (each every third evaluated user) add up to the whole.
  int64_t counted = 0;
  std::map<std::string, double> sums;
  for (int64_t shard = 0; shard < 3; ++shard) {
    const RankingSums share = sum_full_ranking(users, items, d.train, d.test, o, shard, 3);
    EXPECT_GE(share.users, 9);  // 29 evaluated users: 10, 10 and 9
    counted += share.users;
    for (const auto& [name, v] : share.sums) sums[name] += v;
  }
  EXPECT_EQ(counted, 29);
  for (const auto& [name, v] : got) {
    EXPECT_NEAR(sums.at(name) / static_cast<double>(counted), v, 1e-12) << name;
  }
  EXPECT_THROW(sum_full_ranking(users, items, d.train, d.test, o, 3, 3), InputError);
}

TEST(BprNegatives, AreNeverTheUsersItemsUniformAndThreadCountIndependent) {
  const auto root = testing::fresh_temp_dir("bpr");
  // User 0 has items 0..9 of 20; user 1 has all but items 3 and 17 (the exact fallback).
  std::string all_but;
  for (int i = 0; i < 20; ++i) {
    if (i != 3 && i != 17) all_but += " " + std::to_string(i);
  }
  const InteractionDataset d = load_interactions(
      write_interactions(root / "d", "0 0 1 2 3 4 5 6 7 8 9\n1" + all_but + "\n", "0 10\n1 3\n"));
  const int64_t n = 40000;
  const at::Tensor users = at::cat({at::zeros({n}, at::kLong), at::ones({n}, at::kLong)});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = sample_negative_items(d.train, 20, users, 42);
  at::set_num_threads(2);
  const at::Tensor two = sample_negative_items(d.train, 20, users, 42);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
  EXPECT_FALSE(at::equal(one, sample_negative_items(d.train, 20, users, 43)));
  const at::Tensor first = at::bincount(one.narrow(0, 0, n), {}, 20), second = at::bincount(one.narrow(0, n, n), {}, 20);
  for (int64_t i = 0; i < 20; ++i) {
    if (i < 10) {
      EXPECT_EQ(first[i].item<int64_t>(), 0) << i;
    } else {
      EXPECT_NEAR(first[i].item<double>(), n / 10.0, 5 * std::sqrt(n / 10.0)) << i;  // 5 sigma
    }
    if (i == 3 || i == 17) {
      EXPECT_NEAR(second[i].item<double>(), n / 2.0, 5 * std::sqrt(n / 4.0)) << i;
    } else {
      EXPECT_EQ(second[i].item<int64_t>(), 0) << i;
    }
  }
  const InteractionDataset full = load_interactions(write_interactions(root / "full", "0 0 1\n", "0 2\n"));
  EXPECT_THROW(sample_negative_items(full.train, 2, at::zeros({1}, at::kLong), 1), InputError);
  EXPECT_THROW(sample_negative_items(full.train, 3, at::full({1}, 5, at::kLong), 1), InputError);
}

// recommend.sampling = "users": a user uniformly among those with training items, then one of
// that user's items uniformly, whatever their number of items; the same on 1 and 2 threads.
TEST(BprPositives, UserSamplingDrawsUsersUniformlyThenOneOfTheirItems) {
  const auto root = testing::fresh_temp_dir("bpr-users");
  // User 0 has one item, user 1 four, user 2 none, user 3 two.
  const InteractionDataset d =
      load_interactions(write_interactions(root / "d", "0 0\n1 1 2 3 4\n2\n3 5 6\n", "0 1\n1 0\n3 4\n"));
  const int64_t n = 60000;
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = tasks::user_uniform_positives(d.train, n, 7);
  at::set_num_threads(2);
  const at::Tensor two = tasks::user_uniform_positives(d.train, n, 7);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
  EXPECT_FALSE(at::equal(one, tasks::user_uniform_positives(d.train, n, 8)));
  ASSERT_EQ(one.numel(), n);
  EXPECT_GE(one.min().item<int64_t>(), 0);
  EXPECT_LT(one.max().item<int64_t>(), d.train.size());
  const at::Tensor pairs = d.train_pairs();
  const at::Tensor users = at::bincount(pairs[0].index_select(0, one), {}, 4);
  const at::Tensor items = at::bincount(pairs[1].index_select(0, one), {}, 7);
  EXPECT_EQ(users[2].item<int64_t>(), 0);
  for (const int64_t u : {0, 1, 3}) {
    EXPECT_NEAR(users[u].item<double>(), n / 3.0, 5 * std::sqrt(n * (1 / 3.0) * (2 / 3.0))) << u;  // 5 sigma
  }
  EXPECT_EQ(items[0].item<int64_t>(), users[0].item<int64_t>());
  for (int64_t i = 1; i <= 4; ++i) {
    EXPECT_NEAR(items[i].item<double>(), n / 12.0, 5 * std::sqrt(n * (1 / 12.0) * (11 / 12.0))) << i;
  }
  for (int64_t i = 5; i <= 6; ++i) {
    EXPECT_NEAR(items[i].item<double>(), n / 6.0, 5 * std::sqrt(n * (1 / 6.0) * (5 / 6.0))) << i;
  }
}

// bpr_loss against a plain loop in double: every pair averaged (mean), or each positive's
// highest-scored negative only (hardest), value and gradients.
TEST(BprLoss, MeanAndHardestEqualAPlainLoop) {
  const int64_t size = 5, negatives = 4, dim = 3;
  const double l2 = 0.3;
  at::manual_seed(3);
  const auto leaf = [](at::IntArrayRef shape) { return at::randn(shape, at::kDouble).requires_grad_(true); };
  const at::Tensor fu = leaf({size, dim}), fp = leaf({size, dim}), fn = leaf({size, negatives, dim});
  const at::Tensor eu = leaf({size, dim}), ep = leaf({size, dim}), en = leaf({size, negatives, dim});
  const auto dot = [&](const at::Tensor& a, const at::Tensor& b) { return (a * b).sum().item<double>(); };
  const auto sq = [&](const at::Tensor& a) { return dot(a, a); };
  for (const bool hardest : {false, true}) {
    for (const at::Tensor& t : {fu, fp, fn, eu, ep, en}) t.mutable_grad() = at::Tensor();
    const at::Tensor loss = tasks::bpr_loss(fu, fp, fn, eu, ep, en, l2, hardest);
    loss.backward();
    double expected = 0;
    at::Tensor g_fn = at::zeros_like(fn), g_en = at::zeros_like(en);
    for (int64_t b = 0; b < size; ++b) {
      const double pos = dot(fu[b], fp[b]);
      std::vector<int64_t> used;
      if (hardest) {
        int64_t best = 0;
        for (int64_t j = 1; j < negatives; ++j) {
          if (dot(fu[b], fn[b][j]) > dot(fu[b], fn[b][best])) best = j;
        }
        used = {best};
      } else {
        for (int64_t j = 0; j < negatives; ++j) used.push_back(j);
      }
      const double pairs = static_cast<double>(size * static_cast<int64_t>(used.size()));
      expected += 0.5 * l2 * (sq(eu[b]) + sq(ep[b])) / size;
      for (const int64_t j : used) {
        const double margin = pos - dot(fu[b], fn[b][j]);
        expected += std::log1p(std::exp(-margin)) / pairs + 0.5 * l2 * sq(en[b][j]) / size;
        const double sigmoid = 1 / (1 + std::exp(margin));  // -d softplus(-m) / dm
        g_fn[b][j] = fu[b].detach() * (sigmoid / pairs);
        g_en[b][j] = en[b][j].detach() * (l2 / size);
      }
    }
    EXPECT_NEAR(loss.item<double>(), expected, 1e-12) << hardest;
    EXPECT_TRUE(at::allclose(fn.grad(), g_fn, 1e-10, 1e-12)) << hardest;
    EXPECT_TRUE(at::allclose(en.grad(), g_en, 1e-10, 1e-12)) << hardest;
    EXPECT_TRUE(at::allclose(eu.grad(), eu.detach() * (l2 / size), 1e-10, 1e-12)) << hardest;
  }
  // One negative: the two are the same loss.
  const at::Tensor one = fn.narrow(1, 0, 1), one_e0 = en.narrow(1, 0, 1);
  EXPECT_NEAR(tasks::bpr_loss(fu, fp, one, eu, ep, one_e0, l2, true).item<double>(),
              tasks::bpr_loss(fu, fp, one, eu, ep, one_e0, l2, false).item<double>(), 1e-14);
}

RunConfig lightgcn_config(const fs::path& data, int64_t layers) {
  RunConfig c;
  c.dataset.path = data.string();
  c.task.kind = "recommend";
  c.model.name = "lightgcn";
  c.model.hidden = 8;
  c.model.layers = layers;
  c.train.weight_decay = 0;
  c.train.checkpoint_every = 0;
  c.train.threads = 1;  // ctest runs two test programs at once; two threads each would stall
  return c;
}

// LightGCN by dense matrices: A[v][u] = 1/sqrt(deg(u) deg(v)) for each interaction (u, i)
// in both directions; final = mean over l of A^l E0.
at::Tensor dense_lightgcn(const tasks::RecommendData& d, const at::Tensor& e0, int64_t layers) {
  const int64_t users = d.dataset.num_users, n = users + d.dataset.num_items;
  at::Tensor a = at::zeros({n, n}, at::kDouble);
  const at::Tensor pairs = d.pairs;
  std::vector<double> deg(static_cast<size_t>(n), 0);
  for (int64_t e = 0; e < pairs.size(1); ++e) {
    deg[static_cast<size_t>(pairs[0][e].item<int64_t>())] += 1;
    deg[static_cast<size_t>(users + pairs[1][e].item<int64_t>())] += 1;
  }
  for (int64_t e = 0; e < pairs.size(1); ++e) {
    const int64_t u = pairs[0][e].item<int64_t>(), i = users + pairs[1][e].item<int64_t>();
    const double w = 1 / std::sqrt(deg[static_cast<size_t>(u)] * deg[static_cast<size_t>(i)]);
    a[u][i] = w;
    a[i][u] = w;
  }
  at::Tensor h = e0, sum = e0;
  for (int64_t l = 0; l < layers; ++l) {
    h = at::mm(a, h);
    sum = sum + h;
  }
  return sum / static_cast<double>(layers + 1);
}

TEST(LightGCN, PropagationAndItsGradientEqualADenseReference) {
  const auto root = testing::fresh_temp_dir("lightgcn");
  const fs::path data = write_interactions(root / "d", "0 0 1 4\n1 1 2\n2 0 3 4 5\n3 5\n4 2 3\n", "0 2\n1 0\n3 4\n");
  for (const int64_t layers : {0, 1, 3}) {
    const RunConfig c = lightgcn_config(data, layers);
    const auto d = tasks::prepare_recommend_data(c);
    tasks::LightGCN model(d->dataset.num_users + d->dataset.num_items, 8, layers, 0.1);
    const at::Tensor e0 = model->initial().detach().to(at::kDouble).requires_grad_(true);
    const at::Tensor rows = at::tensor({0, 2, 3, 6, 10}, at::kLong);
    const at::Tensor upstream = at::randn({5, 8}, at::kDouble);

    const at::Tensor expected = dense_lightgcn(*d, e0, layers);
    const at::Tensor expected_grad = torch::autograd::grad({expected.index_select(0, rows)}, {e0}, {upstream})[0];
    const at::Tensor got = model->propagate_rows(d->graph, d->weights, rows);
    got.backward(upstream.to(at::kFloat));
    EXPECT_TRUE(at::allclose(got.to(at::kDouble), expected.index_select(0, rows), 1e-5, 1e-6)) << layers;
    EXPECT_TRUE(at::allclose(model->initial().grad().to(at::kDouble), expected_grad, 1e-5, 1e-6)) << layers;
    EXPECT_TRUE(at::allclose(model->propagate(d->graph, d->weights).to(at::kDouble), expected, 1e-5, 1e-6)) << layers;
  }
}

// recommend.sampling and recommend.negative_loss reach the batches: on one batch holding the
// whole epoch, with the same model and the same negatives, the hardest negative's BPR term is
// the largest of each positive's terms, so its mean exceeds the mean over all of them; by-user
// positives change the batch (user 0 holds 9 of the 11 interactions) but not its size.
TEST(Recommendation, SamplingAndNegativeLossReachTheBatches) {
  const auto root = testing::fresh_temp_dir("rec-settings");
  RunConfig c = lightgcn_config(
      write_interactions(root / "d", "0 0 1 2 3 4 5 6 7 8\n1 9\n2 10\n", "0 19\n1 12\n2 15\n"), 2);
  c.recommend.batch_size = 1000;
  c.recommend.negatives = 4;
  c.recommend.l2 = 0;
  const auto first_batch = [](const RunConfig& config) {
    tasks::RecommendationTask task(config, tasks::prepare_recommend_data(config));
    task.build_model(5);
    task.begin_epoch(1);
    const std::optional<train::BatchLoss> batch = task.next_batch();
    EXPECT_TRUE(batch.has_value());
    EXPECT_EQ(batch->examples, 11);
    EXPECT_FALSE(task.next_batch().has_value());
    return batch->loss.item<double>();
  };
  const double mean = first_batch(c);
  RunConfig hardest = c;
  hardest.recommend.negative_loss = "hardest";
  EXPECT_GT(first_batch(hardest), mean + 1e-6);
  RunConfig users = c;
  users.recommend.sampling = "users";
  EXPECT_NE(first_batch(users), mean);
}

// Ranking items by their number of training interactions (the user's own excluded).
std::map<std::string, double> popularity_ranking(const InteractionDataset& d, const std::vector<int64_t>& k) {
  const at::Tensor counts = at::bincount(d.train.items, {}, d.num_items).to(at::kFloat);
  RankingOptions o;
  o.k = k;
  return evaluate_full_ranking(at::ones({d.num_users, 1}), counts.unsqueeze(1), d.train, d.test, o);
}

// LightGCN on 1508 Gowalla users and 3000 items (29,648 training interactions): after 30
// epochs at lr 0.005 it ranks the held-out items far better than popularity does.
TEST(RecommendationLearning, LightGcnOnAGowallaSubsetBeatsThePopularityRanking) {
  const auto root = testing::fresh_temp_dir("rec-learn");
  RunConfig c = lightgcn_config(gowalla_subset(root / "d", 2000, 3000), 3);
  c.model.hidden = 64;
  c.train.lr = 0.005;
  c.train.epochs = 30;
  c.recommend.k = {20};
  const RunSummary s = run_experiment(c, root / "run", false);
  const auto pop = popularity_ranking(load_interactions(c.dataset.path), {20});
  const double recall = s.mean("recall@20"), ndcg = s.mean("ndcg@20");
  EXPECT_GT(recall, 1.5 * pop.at("recall@20")) << "popularity " << pop.at("recall@20");
  EXPECT_GT(ndcg, 1.5 * pop.at("ndcg@20")) << "popularity " << pop.at("ndcg@20");
  const UnitResult& r = s.units.front();
  EXPECT_EQ(r.best_epoch, 30);  // the last epoch is reported
  EXPECT_LT(r.history.back().loss, 0.5 * r.history.front().loss);
  // Deterministic: the same seed gives the same figures.
  const RunSummary again = run_experiment(c, root / "again", false);
  EXPECT_EQ(again.mean("recall@20"), recall);
}

// UltraGCN's item-item graph by dense matrices: G = R^T R, g_i = sum_j G_ij, omega(i, j) =
// G_ij / (g_i - G_ii) sqrt(g_i / g_j) for j != i with G_ij > 0, the k largest (ties: lower j).
TEST(UltraGCN, ItemGraphAndLossEqualPlainReferences) {
  const auto root = testing::fresh_temp_dir("ultragcn");
  const fs::path data = write_interactions(root / "d", "0 0 1 4\n1 1 2\n2 0 1 3 4 5\n3 5 0\n4 2 3 1\n", "0 2\n1 0\n3 4\n");
  const InteractionDataset d = load_interactions(data);
  const int64_t users = d.num_users, items = d.num_items, k = 2;
  std::vector<std::vector<double>> r(static_cast<size_t>(users), std::vector<double>(static_cast<size_t>(items), 0));
  for (int64_t u = 0; u < users; ++u) {
    for (const int64_t i : row_items(d.train, u)) r[static_cast<size_t>(u)][static_cast<size_t>(i)] = 1;
  }
  auto G = [&](int64_t i, int64_t j) {
    double t = 0;
    for (int64_t u = 0; u < users; ++u) t += r[static_cast<size_t>(u)][static_cast<size_t>(i)] * r[static_cast<size_t>(u)][static_cast<size_t>(j)];
    return t;
  };
  std::vector<double> g(static_cast<size_t>(items), 0);
  for (int64_t i = 0; i < items; ++i) {
    for (int64_t j = 0; j < items; ++j) g[static_cast<size_t>(i)] += G(i, j);
  }
  const tasks::UltraGcnGraph graph = tasks::build_ultragcn_graph(d, k);
  for (int64_t i = 0; i < items; ++i) {
    std::vector<std::pair<double, int64_t>> omega;
    for (int64_t j = 0; j < items; ++j) {
      if (j != i && G(i, j) > 0) {
        omega.push_back({-G(i, j) / (g[static_cast<size_t>(i)] - G(i, i)) * std::sqrt(g[static_cast<size_t>(i)] / g[static_cast<size_t>(j)]), j});
      }
    }
    std::sort(omega.begin(), omega.end());
    for (int64_t n = 0; n < k; ++n) {
      const bool has = n < static_cast<int64_t>(omega.size());
      EXPECT_EQ(graph.neighbors[i][n].item<int64_t>(), has ? omega[static_cast<size_t>(n)].second : i) << i << " " << n;
      EXPECT_NEAR(graph.weights[i][n].item<double>(), has ? -omega[static_cast<size_t>(n)].first : 0.0, 1e-6) << i;
    }
  }
  for (int64_t u = 0; u < users; ++u) {
    const auto du = static_cast<double>(d.train.count(u));
    EXPECT_NEAR(graph.user_beta[u].item<double>(), du > 0 ? std::sqrt(du + 1) / du : 0.0, 1e-6);
  }

  // The loss of two positives with two negatives each, term by term.
  RunConfig c = lightgcn_config(data, 0);
  c.model.name = "ultragcn";
  c.recommend.item_neighbors = k;
  const auto rd = tasks::prepare_recommend_data(c);
  at::manual_seed(2);
  const at::Tensor e = at::randn({users + items, 4}, at::kDouble);
  const at::Tensor bu = at::tensor({2, 4}, at::kLong), bp = at::tensor({3, 1}, at::kLong);
  const at::Tensor bn = at::tensor({2, 0, 5, 4}, at::kLong);
  const RecommendSettings& s = c.recommend;
  auto score = [&](int64_t u, int64_t i) { return at::dot(e[u], e[users + i]).item<double>(); };
  auto beta = [&](int64_t u, int64_t i) {
    const auto du = static_cast<double>(d.train.count(u));
    double di = 0;
    for (int64_t v = 0; v < users; ++v) di += r[static_cast<size_t>(v)][static_cast<size_t>(i)];
    return std::sqrt(du + 1) / du / std::sqrt(di + 1);
  };
  auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  double expected = 0;
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t u = bu[b].item<int64_t>(), p = bp[b].item<int64_t>();
    expected += (s.pos_weight_base + s.pos_weight_degree * beta(u, p)) * softplus(-score(u, p));
    double neg = 0;
    for (int64_t j = 0; j < 2; ++j) {
      const int64_t n = bn[b * 2 + j].item<int64_t>();
      neg += (s.neg_weight_base + s.neg_weight_degree * beta(u, n)) * softplus(score(u, n)) / 2;
    }
    expected += s.negative_weight * neg;
    for (int64_t n = 0; n < k; ++n) {
      const int64_t j = rd->ultragcn.neighbors[p][n].item<int64_t>();
      expected += s.item_weight * rd->ultragcn.weights[p][n].item<double>() * softplus(-score(u, j));
    }
  }
  const double got = tasks::ultragcn_loss(e, *rd, s, bu, bp, bn).item<double>();
  EXPECT_NEAR(got, expected, 1e-6 * std::abs(expected));
}

// UltraGCN on the same subset with fewer negatives than its Gowalla set-up (100 per positive,
// negative weight 100) and lr 0.01, 20 epochs: clearly better than popularity (it gives
// Recall@20 0.2691 against popularity's 0.1673).
TEST(RecommendationLearning, UltraGcnOnAGowallaSubsetBeatsThePopularityRanking) {
  const auto root = testing::fresh_temp_dir("ultra-learn");
  RunConfig c = lightgcn_config(gowalla_subset(root / "d", 2000, 3000), 1);  // layers: not used
  c.model.name = "ultragcn";
  c.model.hidden = 64;
  c.recommend.batch_size = 512;
  c.recommend.negatives = 100;
  c.recommend.negative_weight = 100;
  c.recommend.init_std = 1e-4;
  c.train.lr = 0.01;
  c.train.weight_decay = 1e-4;
  c.train.epochs = 20;
  const RunSummary s = run_experiment(c, root / "run", false);
  const auto pop = popularity_ranking(load_interactions(c.dataset.path), {20});
  EXPECT_GT(s.mean("recall@20"), 1.4 * pop.at("recall@20")) << "popularity " << pop.at("recall@20");
  EXPECT_GT(s.mean("ndcg@20"), 1.4 * pop.at("ndcg@20")) << "popularity " << pop.at("ndcg@20");
}

std::vector<float> read_npy_floats(const fs::path& path, std::vector<int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  const size_t open = header.find("'shape': (") + 10;
  std::istringstream dims(header.substr(open, header.find(')', open) - open));
  shape.clear();
  for (std::string part; std::getline(dims, part, ',');) shape.push_back(std::stoll(part));
  std::vector<float> values((bytes.size() - 10 - header_len) / 4);
  std::memcpy(values.data(), bytes.data() + 10 + header_len, values.size() * 4);
  return values;
}

TEST(Recommendation, CommandLineTrainsRecommendsExportsAndRejectsBadInput) {
  const auto dir = testing::fresh_temp_dir("rec-cli");
  const fs::path data = gowalla_subset(dir / "d", 300, 800);
  const std::string run = (dir / "run").string();
  const testing::CommandResult ok = testing::run_ripple(
      "train --config " + testing::source_path("examples/gowalla_lightgcn.toml") + " --set dataset.path=" +
      data.string() + " --set train.epochs=3 --set recommend.k=[10,20] --set recommend.sampling=users " +
      "--set recommend.negatives=3 --set recommend.negative_loss=hardest --run-dir " + run);
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("recall@20 "), std::string::npos) << ok.output;
  std::ifstream in(dir / "run" / "summary.json");
  const nlohmann::json s = nlohmann::json::parse(in);
  EXPECT_EQ(s["task"], "recommendation");
  for (const char* m : {"recall@10", "ndcg@10", "recall@20", "ndcg@20", "eval_ms"}) {
    EXPECT_TRUE(s["metrics"].contains(m)) << m;
  }

  const testing::CommandResult rec = testing::run_ripple("recommend " + run + " --user 3 --k 5");
  ASSERT_EQ(rec.exit_code, 0) << rec.output;
  std::istringstream lines(rec.output);
  std::string header;
  std::getline(lines, header);
  std::vector<int64_t> items;
  std::vector<double> scores;
  for (int64_t rank = 0, item = 0; lines >> rank;) {
    double score = 0;
    lines >> item >> score;
    items.push_back(item);
    scores.push_back(score);
  }
  ASSERT_EQ(items.size(), 5u) << rec.output;
  EXPECT_TRUE(std::is_sorted(scores.rbegin(), scores.rend())) << rec.output;
  const InteractionDataset d = load_interactions(data);
  const std::vector<int64_t> seen = row_items(d.train, 3);
  for (const int64_t i : items) EXPECT_EQ(std::count(seen.begin(), seen.end(), i), 0) << i;

  const testing::CommandResult exp = testing::run_ripple("export " + run + " --out " + (dir / "emb").string());
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  std::vector<int64_t> user_shape, item_shape;
  const std::vector<float> user_emb = read_npy_floats(dir / "emb" / "users.npy", user_shape);
  const std::vector<float> item_emb = read_npy_floats(dir / "emb" / "items.npy", item_shape);
  ASSERT_EQ(user_shape, (std::vector<int64_t>{d.num_users, 64}));
  ASSERT_EQ(item_shape, (std::vector<int64_t>{d.num_items, 64}));
  // The exported embeddings give the printed scores, and no unseen item scores higher
  // than the fifth.
  auto score = [&](int64_t u, int64_t i) {
    double t = 0;
    for (int64_t j = 0; j < 64; ++j) t += user_emb[static_cast<size_t>(u * 64 + j)] * item_emb[static_cast<size_t>(i * 64 + j)];
    return t;
  };
  for (size_t r = 0; r < items.size(); ++r) EXPECT_NEAR(score(3, items[r]), scores[r], 1e-5);
  for (int64_t i = 0; i < d.num_items; ++i) {
    if (std::count(seen.begin(), seen.end(), i) == 0 && std::count(items.begin(), items.end(), i) == 0) {
      EXPECT_LE(score(3, i), scores.back() + 1e-5) << i;
    }
  }
  const nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir / "emb" / "manifest.json"));
  EXPECT_EQ(manifest["num_items"], d.num_items);
  EXPECT_EQ(manifest["model"], "lightgcn");

  write_text(dir / "node-run" / "config.toml", "[task]\nkind = \"node\"\n");
  write_interactions(dir / "bad-data", "0 1\n1 2 z\n", "0 3\n");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"recommend " + run + " --user 100000", "user 100000 is outside the dataset's users"},
      {"recommend " + run + " --user 1 --seed-index 3", "seed index 3 is outside"},
      {"recommend " + (dir / "nowhere").string() + " --user 1", "not a run directory"},
      {"recommend " + (dir / "node-run").string() + " --user 1", "a node run"},
      {"export " + run + " --out " + (dir / "emb").string(), "is not an empty directory"},
      {"train --config " + testing::source_path("examples/gowalla_lightgcn.toml") + " --set dataset.path=" +
           (dir / "bad-data").string() + " --run-dir " + (dir / "bad-run").string(),
       "train.txt:2: field 3 \"z\""},
      {"train --config " + testing::source_path("examples/gowalla_lightgcn.toml") + " --set model.name=gcn --run-dir " +
           (dir / "bad-run").string(),
       "not a recommender"},
      {"train --config " + testing::source_path("examples/gowalla_lightgcn.toml") + " --set recommend.k=[] --run-dir " +
           (dir / "bad-run").string(),
       "recommend.k: must list at least one K"},
      {"train --config " + testing::source_path("examples/gowalla_ultragcn.toml") +
           " --set recommend.negative_loss=hardest --run-dir " + (dir / "bad-run").string(),
       "recommend.negative_loss: ultragcn weighs every negative"},
      {"train --config " + testing::source_path("examples/cora_gcn.toml") + " --set model.name=lightgcn --run-dir " +
           (dir / "bad-run").string(),
       "needs task.kind = \"recommend\""},
  };
  for (const auto& [args, expected] : bad) {
    const testing::CommandResult r = testing::run_ripple(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(dir / "bad-run"));
}

}  // namespace
}  // namespace ripple
