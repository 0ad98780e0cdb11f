// A group of ranks as threads for the periodic strategies' tests (tests/dist/): each thread
// joins a real Gloo process group on loopback and runs the loop of train/loop.cpp around a
// strategy on a toy problem, a quadratic loss of its own per rank (12 parameters, inner
// Adam). The same problem's pieces serve the tests' plain reference loops.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/group_strategy.h"
#include "dist/quantize.h"
#include "ripple/settings.h"
#include "train/flat_adam.h"

namespace ripple::testing {

inline constexpr int64_t kToyParams = 12;
inline constexpr double kToyInnerLr = 0.05;

at::Tensor toy_initial_parameters();
// Rank r's examples per step (they differ, so weighting matters).
int64_t toy_examples_of(int rank);
// The gradient of rank r's loss at p in a step; the ranks' minima pull apart.
at::Tensor toy_gradient(const at::Tensor& p, int rank, int64_t epoch, int64_t step);

struct RankScenario {
  DistSettings settings;
  std::vector<int64_t> steps_per_epoch;  // by rank; the group has one rank per entry
  int64_t epochs = 3;
  // Rank `lost_rank` (>= 1; none when -1) is lost after its optimizer step `lost_after_step`
  // of epoch `lost_in_epoch`: its thread drops its strategy and Communicator (closing its
  // connections, as a killed process's are) and ends. Set settings.elastic for the others
  // to go on.
  int lost_rank = -1;
  int64_t lost_in_epoch = 0, lost_after_step = 0;
  // Every rank evaluates (GroupStrategy::share_evaluation) rather than rank 0 alone.
  bool share_evaluation = false;
};

struct RankOutcome {
  std::vector<at::Tensor> evaluated_after_epoch;  // what enter_evaluation left in the parameters
  // ... and in the model's buffer, which each rank moves on its own every step (as batch
  // normalization's running statistics): float [3], rank r adds r + 1 to it each step.
  std::vector<at::Tensor> buffer_evaluated_after_epoch;
  std::vector<Metrics> metrics_after_epoch;       // what agree_on_metrics gave (the task's are empty)
  at::Tensor final_parameters;
  int64_t synchronizations = 0;
  dist::TrafficStats stats;
  std::string error;  // empty unless the rank threw
  bool lost = false;  // RankScenario::lost_rank: this rank ended on purpose
  std::vector<dist::MembershipChange> membership;
};

using StrategyFactory =
    std::function<std::unique_ptr<dist::GroupStrategy>(dist::Communicator&, const DistSettings&)>;

// Runs the scenario, one thread per rank, and returns each rank's outcome.
std::vector<RankOutcome> run_rank_threads(const RankScenario& scenario, const StrategyFactory& make);

// For reference loops: every rank steps (inner Adam on its toy loss) until it has taken
// `sync_every` steps since its last round or its epoch is over, as the strategies' rounds
// do. `done` counts each rank's steps this epoch; `since` and `examples_since` the steps and
// examples since the rank's last round; `after_step`, when given, is called with the rank
// after each of its steps, before the round check. Returns whether some rank reached a round
// (false: every rank's epoch is over).
bool toy_steps_until_round(std::vector<train::FlatAdam>& inner, const std::vector<int64_t>& steps_per_epoch,
                           int64_t epoch, int64_t sync_every, std::vector<int64_t>& done, std::vector<int64_t>& since,
                           std::vector<int64_t>& examples_since,
                           const std::function<void(size_t rank)>& after_step = nullptr);

// For strategies whose ranks all evaluate the global model (diloco, streaming-diloco): rank
// `r` ran without error, evaluated `global_after_epoch[e]` after epoch e (within 1e-5, the
// all-reduce's reassociation), and ended with its last evaluated model, equal to rank 0's.
void expect_rank_evaluated_the_global_model(const std::vector<RankOutcome>& ranks, size_t r,
                                           const std::vector<at::Tensor>& global_after_epoch);

// For reference loops of quantized exchanges: adds what rank's message for `values` decodes
// to into `sum`. With `residual` (error feedback) the message carries residual + values and
// the residual becomes what it rounded off, as QuantErrorFeedback does.
void add_reference_message(dist::WirePrecision precision, const at::Tensor& values, at::Tensor* residual,
                           const at::Tensor& sum);

// One inner Adam per rank, each starting from the toy's initial parameters.
std::vector<train::FlatAdam> toy_inner_optimizers(size_t ranks);

}  // namespace ripple::testing
