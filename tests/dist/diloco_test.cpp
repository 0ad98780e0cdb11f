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
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dist/communicator.h"
#include "dist/diloco.h"
#include "support/ports.h"
#include "train/checkpoint.h"
#include "train/flat_adam.h"

namespace ripple::dist {
namespace {

constexpr int64_t kParams = 12;
constexpr double kInnerLr = 0.05;

struct Scenario {
  std::string strategy;                // "diloco" or "local-sgd"
  std::vector<int64_t> steps_per_epoch;  // by rank
  int64_t sync_every = 2;
  int64_t epochs = 3;
  double outer_lr = 0.7, outer_momentum = 0.9;
};

at::Tensor initial_parameters() { return at::linspace(-1.0, 1.0, kParams, at::kFloat); }

// Rank r's examples per step and its loss's minimum: the ranks pull apart.
int64_t examples_of(int rank) { return 8 + 3 * rank; }
at::Tensor target_of(int rank) { return at::arange(kParams, at::kFloat).mul(0.1 * (rank + 1)).sub(0.3 * rank); }

// The gradient of rank r's loss at p, a step-dependent quadratic.
at::Tensor gradient(const at::Tensor& p, int rank, int64_t epoch, int64_t step) {
  return (p - target_of(rank)) * (1.0 + 0.1 * static_cast<double>((epoch + step) % 3));
}

struct Outcome {
  std::vector<at::Tensor> global_after_epoch;  // the evaluated model after each epoch
  at::Tensor final_parameters;
  int64_t synchronizations = 0;
  TrafficStats stats;
  std::string error;
};

// The loop of train/loop.cpp around the synchronizer, on one rank.
void run_rank(int rank, int port, const Scenario& sc, Outcome& out) {
  try {
    WorldInfo world;
    world.rank = rank;
    world.world_size = static_cast<int>(sc.steps_per_epoch.size());
    world.master_port = port;
    Communicator comm(world, std::chrono::seconds(30));
    DistSettings settings;
    settings.strategy = sc.strategy;
    settings.sync_every = sc.sync_every;
    settings.outer_lr = sc.outer_lr;
    settings.outer_momentum = sc.outer_momentum;
    DiLoCo sync(comm, settings, false, nullptr);
    torch::nn::Module model;  // read only when a checkpoint is broadcast
    train::FlatAdam optimizer({initial_parameters().requires_grad_()}, kInnerLr);
    train::TrainState state;
    sync.begin_unit(model, optimizer, state, {}, 0);
    EXPECT_TRUE(state.strategy_state.count("outer_momentum"));
    for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
      for (int64_t step = 1;; ++step) {
        optimizer.zero_grad();
        const bool has_batch = step <= sc.steps_per_epoch[rank];
        if (has_batch) optimizer.flat_grads().copy_(gradient(optimizer.flat_params().detach(), rank, epoch, step));
        const train::StepTotals totals =
            sync.synchronize_step(optimizer, has_batch ? examples_of(rank) : 0, has_batch ? 1.0 : 0.0, epoch, step);
        if (totals.examples == 0) break;
        optimizer.step();
        sync.after_update(optimizer, epoch, step);
      }
      sync.enter_evaluation(optimizer);
      out.global_after_epoch.push_back(optimizer.flat_params().detach().clone());
      sync.leave_evaluation(optimizer);
    }
    sync.end_unit(optimizer, 0);
    out.final_parameters = optimizer.flat_params().detach().clone();
    out.synchronizations = sync.synchronizations();
    out.stats = comm.stats();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

std::vector<Outcome> run_group(const Scenario& sc) {
  const int port = testing::free_port();
  std::vector<Outcome> outcomes(sc.steps_per_epoch.size());
  std::vector<std::thread> threads;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    threads.emplace_back(run_rank, static_cast<int>(r), port, std::cref(sc), std::ref(outcomes[r]));
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
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
  at::Tensor global = initial_parameters().requires_grad_();
  torch::optim::SGD outer({global}, torch::optim::SGDOptions(lr).momentum(momentum).nesterov(momentum > 0));
  std::vector<train::FlatAdam> inner;
  inner.reserve(n);
  for (size_t r = 0; r < n; ++r) inner.emplace_back(std::vector<at::Tensor>{initial_parameters().requires_grad_()}, kInnerLr);
  std::vector<int64_t> since(n, 0), examples_since(n, 0);
  Reference ref;
  for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
    std::vector<int64_t> done(n, 0);  // steps taken this epoch
    for (;;) {
      // Every rank steps until it has H steps since its last round or its epoch is over.
      bool any_going = false;
      for (size_t r = 0; r < n; ++r) {
        while (done[r] < sc.steps_per_epoch[r]) {
          train::FlatAdam& opt = inner[r];
          opt.zero_grad();
          ++done[r];
          opt.flat_grads().copy_(gradient(opt.flat_params().detach(), static_cast<int>(r), epoch, done[r]));
          opt.step();
          examples_since[r] += examples_of(static_cast<int>(r));
          if (++since[r] == sc.sync_every) {
            any_going = true;
            break;
          }
        }
      }
      if (!any_going) break;  // every rank's epoch is over: no exchange
      double total = 0;
      for (size_t r = 0; r < n; ++r) total += static_cast<double>(examples_since[r]);
      at::Tensor change = at::zeros({kParams}, at::kFloat);
      for (size_t r = 0; r < n; ++r) {
        change += (global.detach() - inner[r].flat_params().detach()) * (static_cast<double>(examples_since[r]) / total);
      }
      outer.zero_grad();
      global.mutable_grad() = change;
      outer.step();
      at::NoGradGuard no_grad;
      for (size_t r = 0; r < n; ++r) {
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
  const std::vector<Outcome> ranks = run_group(sc);
  const double n = static_cast<double>(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    const Outcome& o = ranks[r];
    ASSERT_EQ(o.error, "");
    ASSERT_EQ(o.global_after_epoch.size(), ref.global_after_epoch.size());
    for (size_t e = 0; e < ref.global_after_epoch.size(); ++e) {
      EXPECT_LT((o.global_after_epoch[e] - ref.global_after_epoch[e]).abs().max().item<double>(), 1e-5)
          << "epoch " << e + 1;
    }
    EXPECT_TRUE(at::equal(o.final_parameters, ranks[0].final_parameters));
    EXPECT_TRUE(at::equal(o.final_parameters, o.global_after_epoch.back()));
    EXPECT_EQ(o.synchronizations, ref.synchronizations);
    // Parameters: the initial broadcast and one ring all-reduce per synchronization.
    const double bytes = 4.0 * kParams;
    EXPECT_DOUBLE_EQ(o.stats.bytes[static_cast<int>(Traffic::parameters)],
                     (n - 1) / n * bytes + static_cast<double>(ref.synchronizations) * 2 * (n - 1) / n * bytes);
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
