// Gossip (src/dist/gossip.h) on real Gloo process groups, one thread per rank, against a
// reference loop written out plainly: each rank's inner Adam on its own quadratic loss, a
// round whenever a rank has taken H steps since its last one, in which every rank replaces
// its parameters by the mean of its own and its peers' (all at once, from the values before
// the round), the mean model and the consensus distance at each evaluation, and one
// average at the end. Ring and random pairings, 3 to 5 ranks with unequal epochs, without
// the final merge, and the bytes of each kind are checked; so are the pairings themselves.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dist/gossip.h"
#include "support/rank_threads.h"

namespace ripple::dist {
namespace {

using testing::kToyParams;

struct Scenario {
  std::string topology;
  std::vector<int64_t> steps_per_epoch;  // by rank
  int64_t sync_every = 2;
  int64_t epochs = 3;
  bool final_merge = true;
};

std::vector<testing::RankOutcome> run_group(const Scenario& sc) {
  testing::RankScenario rs;
  rs.settings.strategy = "gossip";
  rs.settings.gossip_topology = sc.topology;
  rs.settings.final_merge = sc.final_merge;
  rs.settings.sync_every = sc.sync_every;
  rs.steps_per_epoch = sc.steps_per_epoch;
  rs.epochs = sc.epochs;
  return testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& settings) {
    return std::make_unique<Gossip>(comm, settings, false, nullptr);
  });
}

at::Tensor mean_of(const std::vector<at::Tensor>& models) {
  at::Tensor sum = at::zeros({kToyParams}, at::kFloat);
  for (const at::Tensor& m : models) sum += m;
  return sum / static_cast<double>(models.size());
}

struct Reference {
  std::vector<at::Tensor> mean_after_epoch;
  std::vector<std::vector<at::Tensor>> own_after_epoch;  // [epoch][rank]
  std::vector<double> consensus_after_epoch;
  std::vector<int64_t> exchanges;  // by rank
  double exchanged_models = 0;     // sum over rounds and ranks of the peers sent to
};

Reference reference(const Scenario& sc) {
  const size_t n = sc.steps_per_epoch.size();
  std::vector<train::FlatAdam> inner = testing::toy_inner_optimizers(n);
  std::vector<int64_t> since(n, 0), examples_since(n, 0);
  Reference ref;
  ref.exchanges.assign(n, 0);
  int64_t round = 0;
  auto models = [&] {
    std::vector<at::Tensor> out;
    for (train::FlatAdam& opt : inner) out.push_back(opt.flat_params().detach().clone());
    return out;
  };
  for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
    std::vector<int64_t> done(n, 0);
    while (testing::toy_steps_until_round(inner, sc.steps_per_epoch, epoch, sc.sync_every, done, since,
                                          examples_since)) {
      const std::vector<at::Tensor> before = models();
      at::NoGradGuard no_grad;
      for (size_t r = 0; r < n; ++r) {
        const std::vector<int> peers = gossip_peers(sc.topology, static_cast<int>(r), static_cast<int>(n), 0, round);
        if (peers.empty()) continue;
        at::Tensor sum = before[r].clone();
        for (const int p : peers) sum += before[p];
        inner[r].flat_params().copy_(sum / static_cast<double>(peers.size() + 1));
        ++ref.exchanges[r];
        ref.exchanged_models += static_cast<double>(peers.size());
      }
      ++round;
      std::fill(since.begin(), since.end(), 0);
      std::fill(examples_since.begin(), examples_since.end(), 0);
    }
    const std::vector<at::Tensor> own = models();
    const at::Tensor mean = mean_of(own);
    double squared = 0;
    for (const at::Tensor& m : own) squared += (m - mean).pow(2).sum().item<double>();
    ref.mean_after_epoch.push_back(mean);
    ref.own_after_epoch.push_back(own);
    ref.consensus_after_epoch.push_back(std::sqrt(squared / static_cast<double>(n)));
  }
  return ref;
}

void expect_matches_reference(const Scenario& sc) {
  const Reference ref = reference(sc);
  const std::vector<testing::RankOutcome> ranks = run_group(sc);
  const double n = static_cast<double>(ranks.size());
  const double bytes = 4.0 * kToyParams;
  ASSERT_GT(ref.exchanged_models, 0);
  for (size_t r = 0; r < ranks.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    const testing::RankOutcome& o = ranks[r];
    ASSERT_EQ(o.error, "");
    ASSERT_EQ(o.evaluated_after_epoch.size(), ref.mean_after_epoch.size());
    for (size_t e = 0; e < ref.mean_after_epoch.size(); ++e) {
      // With the final merge every rank evaluates the mean; without, its own model.
      const at::Tensor& expected = sc.final_merge ? ref.mean_after_epoch[e] : ref.own_after_epoch[e][r];
      EXPECT_LT((o.evaluated_after_epoch[e] - expected).abs().max().item<double>(), 1e-5) << "epoch " << e + 1;
      EXPECT_NEAR(o.metrics_after_epoch[e].at("consensus_distance"), ref.consensus_after_epoch[e], 1e-5)
          << "epoch " << e + 1;
    }
    EXPECT_EQ(o.synchronizations, ref.exchanges[r]);
    const double merge = sc.final_merge ? 2 * (n - 1) / n * bytes : 0.0;
    if (sc.final_merge) {
      EXPECT_TRUE(at::equal(o.final_parameters, ranks[0].final_parameters));
      EXPECT_LT((o.final_parameters - ref.mean_after_epoch.back()).abs().max().item<double>(), 1e-5);
    } else {
      EXPECT_LT((o.final_parameters - ref.own_after_epoch.back()[r]).abs().max().item<double>(), 1e-5);
    }
    EXPECT_EQ(o.stats.bytes[static_cast<int>(Traffic::gradients)], 0);
    // Diagnostics: per epoch, the parameters and one double all-reduced.
    EXPECT_DOUBLE_EQ(o.stats.bytes[static_cast<int>(Traffic::diagnostics)],
                     static_cast<double>(sc.epochs) * 2 * (n - 1) / n * (bytes + 8));
    // The largest collective of training (the initial broadcast aside): an exchange (two
    // peers on a ring of 3 or more) or the merge.
    const double exchange = (sc.topology == "ring" && n >= 3 ? 2.0 : 1.0) * bytes;
    EXPECT_DOUBLE_EQ(o.stats.peak_bytes, std::max(ref.exchanges[r] > 0 ? exchange : 0.0, merge));
  }
  // Parameters over all ranks: the initial broadcast, one model per peer per exchange, the merge.
  double parameters = 0;
  for (const testing::RankOutcome& o : ranks) parameters += o.stats.bytes[static_cast<int>(Traffic::parameters)];
  const double merge_all = sc.final_merge ? 2 * (n - 1) * bytes : 0.0;
  EXPECT_DOUBLE_EQ(parameters, (n - 1) * bytes + ref.exchanged_models * bytes + merge_all);
  if (!sc.final_merge) {
    EXPECT_FALSE(at::equal(ranks[0].final_parameters, ranks[1].final_parameters));
  }
}

TEST(GossipPeers, RingIsRankPlusMinusOneAndRandomIsAPairingThatChanges) {
  EXPECT_EQ(gossip_peers("ring", 0, 2, 0, 0), std::vector<int>{1});
  EXPECT_EQ(gossip_peers("ring", 0, 4, 0, 7), (std::vector<int>{3, 1}));
  EXPECT_EQ(gossip_peers("ring", 2, 3, 1, 0), (std::vector<int>{1, 0}));
  for (const int n : {2, 3, 4, 5, 8}) {
    std::set<std::vector<int>> pairings;
    for (int64_t round = 0; round < 30; ++round) {
      std::vector<int> partner(n, -1);
      for (int r = 0; r < n; ++r) {
        for (const std::string topology : {"ring", "random"}) {
          for (const int p : gossip_peers(topology, r, n, 3, round)) {
            ASSERT_NE(p, r);
            const std::vector<int> back = gossip_peers(topology, p, n, 3, round);
            EXPECT_NE(std::find(back.begin(), back.end(), r), back.end()) << topology << " " << n << " " << round;
          }
        }
        const std::vector<int> random = gossip_peers("random", r, n, 3, round);
        ASSERT_LE(random.size(), 1u);
        if (!random.empty()) partner[r] = random[0];
      }
      // A pairing: every rank but at most one (n odd) has exactly one partner.
      EXPECT_EQ(std::count(partner.begin(), partner.end(), -1), n % 2);
      pairings.insert(partner);
    }
    if (n > 2) {
      EXPECT_GT(pairings.size(), 1u) << n << " ranks: the pairing never changed";
    }
  }
}

// With 3 ranks the ring's neighbours are everyone: each exchange is the mean, so the ranks
// agree after it; rank 2 runs out first and joins the others' rounds with what it holds.
TEST(Gossip, RingOnThreeRanksMatchesTheReferenceLoop) {
  expect_matches_reference({"ring", {4, 7, 2}, 3, 3});
}

TEST(Gossip, RingOnFourAndRandomPairsOnFourAndFiveRanksMatchTheReferenceLoop) {
  expect_matches_reference({"ring", {5, 3, 6, 4}, 2, 3});
  expect_matches_reference({"random", {5, 3, 6, 4}, 2, 3});
  expect_matches_reference({"random", {3, 4, 2, 5, 3}, 2, 2});
}

// Without the final merge nothing but the peers' exchanges ever averages: the ranks end
// apart, each evaluated on its own model, and end_unit does not ask them to agree.
TEST(Gossip, WithoutTheFinalMergeEveryRankKeepsItsOwnModel) {
  expect_matches_reference({"random", {4, 5, 3, 4}, 2, 3, false});
}

}  // namespace
}  // namespace ripple::dist
