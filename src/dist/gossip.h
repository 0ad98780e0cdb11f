// dist.strategy = "gossip": decentralized training without an all-reduce of the parameters
// (internal), the Synchronizer of the training loop (train/synchronizer.h).
//
// Each rank trains its own model with its own optimizer on its own examples; every
// H = dist.sync_every steps (rounds as in dist/periodic_strategy.h) it sends its parameters
// to its peers and replaces them with the plain mean of its own and theirs:
//   ring:   peers rank - 1 and rank + 1 (mod N), a third each (N = 2: the other rank, a half);
//   random: a random pairing of the ranks, new every round and the same on every rank
//           (drawn from the unit and the round number), a half each; with N odd one rank
//           sits the round out.
// Both mixings are doubly stochastic, so the mean of the ranks' models is what the
// exchanges keep. Each exchange sends P S bytes per rank (P peers, S the parameters) by
// point-to-point messages, against 2 (N-1)/N S of a ring all-reduce.
//
// dist.final_merge (on by default; "a single merging suffices", Gu et al. 2024): at the end
// of a unit one all-reduce replaces every rank's model by the mean, and the per-epoch
// evaluation (selection, checkpoints) sees that mean as well. Off: every rank keeps its own
// model; rank 0 evaluates its own (on partitioned data every rank its own nodes with its own
// model) and the end-of-unit hash check is skipped, the hashes being logged per rank.
// Either way each evaluation first computes the mean and the consensus distance
// sqrt(1/N sum_r |x_r - mean|^2), added to the epoch's metrics as "consensus_distance";
// those two all-reduces are counted as Traffic::diagnostics, outside the training bytes.
// The round counter is in the checkpoint (TrainState::strategy_state "gossip_rounds"), so a
// resumed run draws the same pairings; every rank restarts from the checkpointed model
// (the mean with the final merge, rank 0's own without), so a resumed run is not the
// uninterrupted one.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "dist/periodic_strategy.h"
#include "ripple/settings.h"

namespace ripple::dist {

// The ranks that `rank` of `world_size` averages with in round `round` (0-based) of `unit`,
// under `topology` ("ring" or "random"). Symmetric: r lists s exactly when s lists r.
std::vector<int> gossip_peers(const std::string& topology, int rank, int world_size, int64_t unit, int64_t round);

class Gossip final : public PeriodicStrategy {
 public:
  Gossip(Communicator& comm, const DistSettings& settings, bool reduce_metrics,
         std::function<void(const std::string&)> log);
  // The consensus distance the last evaluation measured.
  double consensus_distance() const { return consensus_; }

 protected:
  void prepare_evaluation(train::FlatAdam& optimizer) override;
  void resume_training(train::FlatAdam& optimizer) override;
  void start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) override;
  void finish_unit(train::FlatAdam& optimizer) override;
  bool ranks_agree_at_end() const override { return final_merge_; }
  void add_metrics(Metrics& metrics) override;
  void exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all,
                const std::string& at) override;

 private:
  std::string topology_;
  bool final_merge_;
  at::Tensor rounds_;  // [1] int64, shared with the checkpoint's strategy state
  at::Tensor local_;   // this rank's own model while the evaluated one is in the parameters
  double consensus_ = 0;
};

}  // namespace ripple::dist
