// Gossip with an optional final merge. See src/dist/gossip.h.
#include "dist/gossip.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <numeric>
#include <random>

#include "ripple/error.h"

namespace ripple::dist {

std::vector<int> gossip_peers(const std::string& topology, int rank, int world_size, int64_t unit, int64_t round) {
  if (world_size < 2) return {};
  if (topology == "ring") {
    if (world_size == 2) return {1 - rank};
    return {(rank + world_size - 1) % world_size, (rank + 1) % world_size};
  }
  // random: Fisher-Yates over mt19937_64 (its output is fixed by the standard), seeded by the
  // unit and the round, so every rank draws the same pairing.
  std::mt19937_64 generator(0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(unit) * 0x100000001b3ull +
                                                     static_cast<uint64_t>(round)));
  std::vector<int> order(world_size);
  std::iota(order.begin(), order.end(), 0);
  for (int i = world_size - 1; i > 0; --i) {
    std::swap(order[i], order[generator() % static_cast<uint64_t>(i + 1)]);
  }
  for (int i = 0; i + 1 < world_size; i += 2) {
    if (order[i] == rank) return {order[i + 1]};
    if (order[i + 1] == rank) return {order[i]};
  }
  return {};  // the odd rank out
}

Gossip::Gossip(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
               std::function<void(const std::string&)> log)
    : PeriodicStrategy(comm, settings.sync_every, reduce_metrics, std::move(log)),
      topology_(settings.gossip_topology),
      final_merge_(settings.final_merge) {}

void Gossip::start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) {
  PeriodicStrategy::start_unit(model, optimizer, state);
  const auto saved = state.strategy_state.find("gossip_rounds");
  if (saved != state.strategy_state.end()) {
    if (saved->second.numel() != 1) {
      throw InputError(fmt::format("rank {}: the checkpoint's gossip round counter holds {} values, not 1",
                                   comm_.rank(), saved->second.numel()));
    }
    rounds_ = saved->second.to(at::kLong).reshape({1}).contiguous();
  } else {
    rounds_ = at::zeros({1}, at::kLong);
  }
  state.strategy_state["gossip_rounds"] = rounds_;  // the same storage: checkpoints see it
}

void Gossip::exchange(train::FlatAdam& optimizer, int64_t /*examples_here*/, double /*examples_all*/,
                      const std::string& at) {
  int64_t& round = rounds_.data_ptr<int64_t>()[0];
  // The peers of the group as it is now (an elastic group renumbers its survivors).
  const std::vector<int> peers = gossip_peers(topology_, comm_.rank(), comm_.world_size(), unit_, round);
  if (peers.empty()) {
    ++round;
    return;
  }
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  const std::vector<at::Tensor> theirs =
      comm_.exchange(params, peers, Traffic::parameters,
                     fmt::format("gossip exchange with rank(s) {} ({})", fmt::join(peers, ", "), at));
  if (elastic()) {
    // Point-to-point exchanges finish for some pairs while a lost peer's fail: only when
    // every rank's did may any rank take its average (the round then counts on every rank
    // or is run again on every survivor).
    comm_.all_reduce_sum(at::zeros({1}, at::kDouble), Traffic::control,
                         fmt::format("all-reduce closing the gossip round ({})", at));
  }
  ++round;
  // Own first, then the peers in order: a pair computes a + b and b + a, the same floats.
  at::Tensor sum = params.clone();
  for (const at::Tensor& t : theirs) sum.add_(t);
  params.copy_(sum.div_(static_cast<double>(peers.size() + 1)));
  ++syncs_;
}

void Gossip::prepare_evaluation(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  local_ = params.clone();
  at::Tensor mean;
  survive(fmt::format("the merged model's evaluation (unit {})", unit_), [&] {
    const double n = comm_.world_size();
    mean = local_.clone();
    comm_.all_reduce_sum(mean, Traffic::diagnostics,
                         fmt::format("all-reduce of the parameters for the merged model (unit {})", unit_));
    mean.div_(n);
    const at::Tensor squared = at::tensor({(local_ - mean).pow(2).sum().item<double>()}, at::kDouble);
    comm_.all_reduce_sum(squared, Traffic::diagnostics,
                         fmt::format("all-reduce of the consensus distance (unit {})", unit_));
    consensus_ = std::sqrt(squared.item<double>() / n);
  });
  if (final_merge_) params.copy_(mean);
}

void Gossip::resume_training(train::FlatAdam& optimizer) {
  at::NoGradGuard no_grad;
  optimizer.flat_params().copy_(local_);
}

void Gossip::add_metrics(Metrics& metrics) { metrics["consensus_distance"] = consensus_; }

void Gossip::finish_unit(train::FlatAdam& optimizer) {
  if (!final_merge_) return;
  at::NoGradGuard no_grad;
  const at::Tensor& params = optimizer.flat_params();
  const at::Tensor own = params.clone();
  survive(fmt::format("the final merge (unit {})", unit_), [&] {
    params.copy_(own);
    comm_.all_reduce_sum(params, Traffic::parameters, fmt::format("all-reduce of the final merge (unit {})", unit_));
    params.div_(static_cast<double>(comm_.world_size()));
  });
}

}  // namespace ripple::dist
