// A group of ranks as threads. See tests/support/rank_threads.h.
#include "support/rank_threads.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <chrono>
#include <thread>

#include "support/ports.h"
#include "train/checkpoint.h"

namespace ripple::testing {

at::Tensor toy_initial_parameters() { return at::linspace(-1.0, 1.0, kToyParams, at::kFloat); }

int64_t toy_examples_of(int rank) { return 8 + 3 * rank; }

at::Tensor toy_gradient(const at::Tensor& p, int rank, int64_t epoch, int64_t step) {
  const at::Tensor target = at::arange(kToyParams, at::kFloat).mul(0.1 * (rank + 1)).sub(0.3 * rank);
  return (p - target) * (1.0 + 0.1 * static_cast<double>((epoch + step) % 3));
}

namespace {

void run_rank(int rank, int port, const RankScenario& sc, const StrategyFactory& make, RankOutcome& out) {
  try {
    dist::WorldInfo world;
    world.rank = rank;
    world.world_size = static_cast<int>(sc.steps_per_epoch.size());
    world.master_port = port;
    dist::Communicator comm(world, std::chrono::seconds(30));
    const std::unique_ptr<dist::GroupStrategy> sync = make(comm, sc.settings);
    if (sc.settings.elastic) {
      sync->set_elastic(std::chrono::milliseconds(static_cast<int64_t>(sc.settings.regroup_window_s * 1000)));
    }
    torch::nn::Module model;  // the optimizer's parameter, and a buffer
    at::Tensor buffer = model.register_buffer("running_stat", at::zeros({3}, at::kFloat));
    if (sc.share_evaluation) sync->share_evaluation();
    const at::Tensor toy = toy_initial_parameters().requires_grad_();
    train::FlatAdam optimizer({toy}, kToyInnerLr);
    model.register_parameter("toy", toy);
    train::TrainState state;
    sync->begin_unit(model, optimizer, state, {}, 0);
    for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
      for (int64_t step = 1;; ++step) {
        optimizer.zero_grad();
        const bool has_batch = step <= sc.steps_per_epoch[rank];
        if (has_batch) {
          sync->before_backward(optimizer, toy_examples_of(rank), 1.0, epoch, step);
          optimizer.flat_grads().copy_(toy_gradient(optimizer.flat_params().detach(), rank, epoch, step));
        }
        const train::StepTotals totals = sync->synchronize_step(optimizer, has_batch ? toy_examples_of(rank) : 0,
                                                                has_batch ? 1.0 : 0.0, epoch, step);
        if (totals.examples == 0) break;
        optimizer.step();
        if (has_batch) buffer.add_(rank + 1);
        if (rank == sc.lost_rank && epoch == sc.lost_in_epoch && step == sc.lost_after_step) {
          out.lost = true;
          return;  // the strategy and the Communicator go with the thread's scope
        }
        sync->after_update(optimizer, epoch, step);
      }
      sync->enter_evaluation(optimizer);
      out.evaluated_after_epoch.push_back(optimizer.flat_params().detach().clone());
      out.buffer_evaluated_after_epoch.push_back(buffer.clone());
      Metrics metrics;
      sync->agree_on_metrics(metrics, epoch);
      out.metrics_after_epoch.push_back(metrics);
      sync->leave_evaluation(optimizer);
    }
    sync->end_unit(optimizer, 0);
    out.final_parameters = optimizer.flat_params().detach().clone();
    out.synchronizations = sync->synchronizations();
    out.stats = comm.stats();
    out.membership = comm.membership();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

}  // namespace

std::vector<RankOutcome> run_rank_threads(const RankScenario& scenario, const StrategyFactory& make) {
  const int port = free_port();
  std::vector<RankOutcome> outcomes(scenario.steps_per_epoch.size());
  std::vector<std::thread> threads;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    threads.emplace_back(run_rank, static_cast<int>(r), port, std::cref(scenario), std::cref(make),
                         std::ref(outcomes[r]));
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
}

bool toy_steps_until_round(std::vector<train::FlatAdam>& inner, const std::vector<int64_t>& steps_per_epoch,
                           int64_t epoch, int64_t sync_every, std::vector<int64_t>& done, std::vector<int64_t>& since,
                           std::vector<int64_t>& examples_since, const std::function<void(size_t rank)>& after_step) {
  bool any_going = false;
  for (size_t r = 0; r < inner.size(); ++r) {
    while (done[r] < steps_per_epoch[r]) {
      train::FlatAdam& opt = inner[r];
      opt.zero_grad();
      ++done[r];
      opt.flat_grads().copy_(toy_gradient(opt.flat_params().detach(), static_cast<int>(r), epoch, done[r]));
      opt.step();
      examples_since[r] += toy_examples_of(static_cast<int>(r));
      if (after_step) after_step(r);
      if (++since[r] == sync_every) {
        any_going = true;
        break;
      }
    }
  }
  return any_going;
}

void expect_rank_evaluated_the_global_model(const std::vector<RankOutcome>& ranks, size_t r,
                                           const std::vector<at::Tensor>& global_after_epoch) {
  const RankOutcome& o = ranks[r];
  ASSERT_EQ(o.error, "");
  ASSERT_EQ(o.evaluated_after_epoch.size(), global_after_epoch.size());
  for (size_t e = 0; e < global_after_epoch.size(); ++e) {
    EXPECT_LT((o.evaluated_after_epoch[e] - global_after_epoch[e]).abs().max().item<double>(), 1e-5)
        << "epoch " << e + 1;
  }
  EXPECT_TRUE(at::equal(o.final_parameters, ranks[0].final_parameters));
  EXPECT_TRUE(at::equal(o.final_parameters, o.evaluated_after_epoch.back()));
}

void add_reference_message(dist::WirePrecision precision, const at::Tensor& values, at::Tensor* residual,
                           const at::Tensor& sum) {
  const at::Tensor carried = residual ? *residual + values : values;
  const at::Tensor message = dist::quantize_message(precision, carried);
  dist::add_dequantized(precision, message, sum);
  if (!residual) return;
  at::Tensor decoded = at::zeros_like(carried);
  dist::add_dequantized(precision, message, decoded);
  residual->copy_(carried - decoded);  // in place: a residual may be a slice of a longer one
}

std::vector<train::FlatAdam> toy_inner_optimizers(size_t ranks) {
  std::vector<train::FlatAdam> inner;
  inner.reserve(ranks);
  for (size_t r = 0; r < ranks; ++r) {
    inner.emplace_back(std::vector<at::Tensor>{toy_initial_parameters().requires_grad_()}, kToyInnerLr);
  }
  return inner;
}

}  // namespace ripple::testing
