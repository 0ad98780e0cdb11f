// DiLoCo and local SGD (src/dist/diloco.h) on real Gloo process groups, one thread per rank,
// against a reference loop written out plainly: each rank's inner Adam steps on a quadratic
// loss of its own, a synchronization round whenever a rank has taken H steps since its last
// one (ranks whose epoch is over join it with what they hold), the weighted mean change fed
// as the gradient to torch::optim::SGD with Nesterov momentum on the global model, and
// epochs that end without synchronizing. Ranks with unequal step counts per epoch, 2 and 3
// ranks, and the byte counts of every kind are checked.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/optim/sgd.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/diloco.h"
#include "dist/quantize.h"
#include "support/rank_threads.h"

namespace ripple::dist {
namespace {

using testing::kToyParams;

struct Scenario {
  std::string strategy;                // "diloco" or "local-sgd"
  std::vector<int64_t> steps_per_epoch;  // by rank
  int64_t sync_every = 2;
  int64_t epochs = 3;
  double outer_lr = 0.7, outer_momentum = 0.9;
  std::string compress = "none";  // or fp16, int8, int4: each rank's change sent quantized
  bool error_feedback = false;     // with compress: each rank's rounding carried to its next message
  // Elastic: rank lost_rank is lost after its step lost_after_step of epoch lost_in_epoch.
  int lost_rank = -1;
  int64_t lost_in_epoch = 0, lost_after_step = 0;
};

std::vector<testing::RankOutcome> run_group(const Scenario& sc) {
  testing::RankScenario rs;
  rs.settings.strategy = sc.strategy;
  rs.settings.sync_every = sc.sync_every;
  rs.settings.outer_lr = sc.outer_lr;
  rs.settings.outer_momentum = sc.outer_momentum;
  rs.settings.compress = sc.compress;
  rs.settings.error_feedback = sc.error_feedback;
  rs.steps_per_epoch = sc.steps_per_epoch;
  rs.epochs = sc.epochs;
  if (sc.lost_rank >= 0) {
    rs.settings.elastic = true;
    rs.settings.regroup_window_s = 1;  // ample for threads of one process, also on a busy machine
    rs.lost_rank = sc.lost_rank;
    rs.lost_in_epoch = sc.lost_in_epoch;
    rs.lost_after_step = sc.lost_after_step;
  }
  return testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& settings) {
    return std::make_unique<DiLoCo>(comm, settings, false, nullptr);
  });
}

struct Reference {
  std::vector<at::Tensor> global_after_epoch;
  int64_t synchronizations = 0;
};

// The algorithm as a plain loop over the ranks.
Reference reference(const Scenario& sc) {
  const size_t n = sc.steps_per_epoch.size();
  const double lr = sc.strategy == "local-sgd" ? 1.0 : sc.outer_lr;
  const double momentum = sc.strategy == "local-sgd" ? 0.0 : sc.outer_momentum;
  at::Tensor global = testing::toy_initial_parameters().requires_grad_();
  torch::optim::SGD outer({global}, torch::optim::SGDOptions(lr).momentum(momentum).nesterov(momentum > 0));
  std::vector<train::FlatAdam> inner = testing::toy_inner_optimizers(n);
  std::vector<int64_t> since(n, 0), examples_since(n, 0);
  std::vector<bool> alive(n, true);
  std::vector<at::Tensor> residual;  // error feedback, per rank
  for (size_t r = 0; r < n; ++r) residual.push_back(at::zeros({kToyParams}, at::kFloat));
  Reference ref;
  for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
    std::vector<int64_t> steps = sc.steps_per_epoch;
    for (size_t r = 0; r < n; ++r) {
      if (!alive[r]) steps[r] = 0;
    }
    const bool loses_one = sc.lost_rank >= 0 && epoch == sc.lost_in_epoch;
    if (loses_one) steps[static_cast<size_t>(sc.lost_rank)] = sc.lost_after_step;
    std::vector<int64_t> done(n, 0);  // steps taken this epoch
    // Until every rank's epoch is over, when the epoch ends without an exchange.
    for (;;) {
      testing::toy_steps_until_round(inner, steps, epoch, sc.sync_every, done, since, examples_since);
      if (loses_one && alive[static_cast<size_t>(sc.lost_rank)] &&
          done[static_cast<size_t>(sc.lost_rank)] == sc.lost_after_step) {
        // Lost after that step, before any round it would have started: its work since its
        // last round is gone with it.
        alive[static_cast<size_t>(sc.lost_rank)] = false;
        since[static_cast<size_t>(sc.lost_rank)] = 0;
        examples_since[static_cast<size_t>(sc.lost_rank)] = 0;
      }
      bool going = false;
      for (size_t r = 0; r < n; ++r) going = going || (alive[r] && since[r] == sc.sync_every);
      if (!going) break;
      double total = 0;
      for (size_t r = 0; r < n; ++r) total += static_cast<double>(examples_since[r]);
      at::Tensor change = at::zeros({kToyParams}, at::kFloat);
      for (size_t r = 0; r < n; ++r) {
        if (!alive[r]) continue;
        const at::Tensor mine =
            (global.detach() - inner[r].flat_params().detach()) * (static_cast<double>(examples_since[r]) / total);
        if (sc.compress == "none") {
          change += mine;
        } else {  // what rank r's message decodes to, added in rank order
          testing::add_reference_message(wire_precision(sc.compress), mine,
                                         sc.error_feedback ? &residual[r] : nullptr, change);
        }
      }
      outer.zero_grad();
      global.mutable_grad() = change;
      outer.step();
      at::NoGradGuard no_grad;
      for (size_t r = 0; r < n; ++r) {
        if (!alive[r]) continue;
        inner[r].flat_params().copy_(global);
        since[r] = 0;
        examples_since[r] = 0;
      }
      ++ref.synchronizations;
    }
    ref.global_after_epoch.push_back(global.detach().clone());
  }
  return ref;
}

void expect_matches_reference(const Scenario& sc) {
  const Reference ref = reference(sc);
  ASSERT_GT(ref.synchronizations, 0);
  const std::vector<testing::RankOutcome> ranks = run_group(sc);
  const double n = static_cast<double>(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    testing::expect_rank_evaluated_the_global_model(ranks, r, ref.global_after_epoch);
    const testing::RankOutcome& o = ranks[r];
    EXPECT_EQ(o.synchronizations, ref.synchronizations);
    // Parameters: the initial broadcast and per synchronization one ring all-reduce (or an
    // all-gather of quantized messages).
    const double bytes = 4.0 * kToyParams;
    const double per_sync = sc.compress == "none"
                                ? 2 * (n - 1) / n * bytes
                                : (n - 1) * static_cast<double>(
                                                quantized_message_bytes(wire_precision(sc.compress), kToyParams));
    EXPECT_DOUBLE_EQ(o.stats.bytes[static_cast<int>(Traffic::parameters)],
                     (n - 1) / n * bytes + static_cast<double>(ref.synchronizations) * per_sync);
    EXPECT_EQ(o.stats.bytes[static_cast<int>(Traffic::gradients)], 0);
  }
}

TEST(DiLoCo, TwoRanksWithEqualEpochsMatchTheReferenceLoop) {
  expect_matches_reference({"diloco", {5, 5}, 2, 3});
}

// Rank 1 runs out first each epoch and joins rank 0's rounds with what it holds; the steps
// after the last round of an epoch carry over into the next.
TEST(DiLoCo, RanksWithUnequalEpochsMatchTheReferenceLoop) {
  expect_matches_reference({"diloco", {3, 1}, 2, 4});
  expect_matches_reference({"diloco", {4, 7, 2}, 3, 3, 0.5, 0.8});
}

// The changes travel quantized; the reference adds what each rank's message decodes to.
TEST(DiLoCo, QuantizedChangesMatchTheReferenceLoop) {
  for (const std::string precision : {"fp16", "int8", "int4"}) {
    SCOPED_TRACE(precision);
    expect_matches_reference({"diloco", {4, 7, 2}, 3, 3, 0.7, 0.9, precision});
  }
  expect_matches_reference({"local-sgd", {3, 3}, 2, 2, 1.0, 0.0, "int4"});
}

// dist.error_feedback: each rank's message carries what its last one rounded off (a residual
// per rank in the reference loop); the same bytes. int4 on a 12-value model rounds enough
// for the feedback to change the result.
TEST(DiLoCo, ErrorFeedbackOnQuantizedChangesMatchesTheReferenceLoop) {
  for (const std::string strategy : {"diloco", "local-sgd"}) {
    SCOPED_TRACE(strategy);
    Scenario sc{strategy, {4, 7, 2}, 3, 3, strategy == "diloco" ? 0.7 : 1.0, strategy == "diloco" ? 0.9 : 0.0,
                "int4"};
    sc.error_feedback = true;
    expect_matches_reference(sc);
    Scenario plain = sc;
    plain.error_feedback = false;
    EXPECT_FALSE(at::allclose(reference(sc).global_after_epoch.back(), reference(plain).global_after_epoch.back(), 0,
                              1e-6));
  }
}

// dist.elastic: rank 1 of 3 is lost in epoch 2 (its thread closes its connections and
// ends). The survivors regroup as ranks 0 and 1 (generation 1), run the round that failed
// again without it, and go on to the end, matching the reference loop that drops rank 1's
// work since its last round. Lost after step 3 it was between rounds; after step 4 it had
// reached a round it never started.
TEST(DiLoCo, ElasticSurvivorsOfALostRankMatchTheReferenceLoopWithoutIt) {
  for (const int64_t lost_after : {3, 4}) {
    SCOPED_TRACE(fmt::format("lost after step {}", lost_after));
    Scenario sc{"diloco", {6, 5, 4}, 2, 3};
    sc.lost_rank = 1;
    sc.lost_in_epoch = 2;
    sc.lost_after_step = lost_after;
    const Reference ref = reference(sc);
    const std::vector<testing::RankOutcome> ranks = run_group(sc);
    ASSERT_TRUE(ranks[1].lost);
    for (const size_t r : {0u, 2u}) {
      SCOPED_TRACE(fmt::format("rank {}", r));
      testing::expect_rank_evaluated_the_global_model(ranks, r, ref.global_after_epoch);
      EXPECT_EQ(ranks[r].synchronizations, ref.synchronizations);
      ASSERT_EQ(ranks[r].membership.size(), 2u);
      EXPECT_EQ(ranks[r].membership[1].generation, 1);
      EXPECT_EQ(ranks[r].membership[1].members, (std::vector<int>{0, 2}));
      EXPECT_EQ(ranks[r].membership[1].lost, (std::vector<int>{1}));
      EXPECT_NE(ranks[r].membership[1].cause.find("all-reduce of the synchronization round"), std::string::npos)
          << ranks[r].membership[1].cause;
    }
  }
}

// Without dist.elastic the same loss ends the survivors with a DistributedError.
TEST(DiLoCo, WithoutElasticALostRankEndsTheOthers) {
  testing::RankScenario rs;
  rs.settings.strategy = "diloco";
  rs.settings.sync_every = 2;
  rs.steps_per_epoch = {4, 4, 4};
  rs.epochs = 2;
  rs.lost_rank = 2;
  rs.lost_in_epoch = 1;
  rs.lost_after_step = 1;
  const std::vector<testing::RankOutcome> ranks =
      testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& settings) {
        return std::make_unique<DiLoCo>(comm, settings, false, nullptr);
      });
  for (const size_t r : {0u, 1u}) {
    EXPECT_NE(ranks[r].error.find("all-reduce of the synchronization round"), std::string::npos) << ranks[r].error;
  }
}

TEST(DiLoCo, LocalSgdIsTheWeightedMeanOfTheRanks) {
  expect_matches_reference({"local-sgd", {4, 6, 5}, 3, 3});
}

// Outer learning rate 1 without momentum averages the parameters, whatever dist.strategy says.
TEST(DiLoCo, OuterStepWithLearningRateOneAndNoMomentumIsTheMean) {
  const at::Tensor global = at::tensor({1.0f, 2.0f, 3.0f});
  const at::Tensor local_mean = at::tensor({0.5f, 2.5f, -1.0f});
  const at::Tensor buf = at::zeros({3});
  outer_nesterov_step(global, global - local_mean, buf, 1.0, 0.0);
  EXPECT_TRUE(at::allclose(global, local_mean));
}

}  // namespace
}  // namespace ripple::dist
