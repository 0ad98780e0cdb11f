// ddp with quantized gradients (src/dist/data_parallel.h) on real Gloo process groups, one
// thread per rank, against a reference loop written out plainly: one Adam on the shared
// model, fed each step the sum, in rank order, of what every rank's message decodes to (its
// gradient weighted by its share of the step's examples, plus with error feedback what its
// previous messages rounded off). Ranks with unequal step counts per epoch.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dist/data_parallel.h"
#include "dist/quantize.h"
#include "support/rank_threads.h"

namespace ripple::dist {
namespace {

using testing::kToyParams;

struct Scenario {
  std::vector<int64_t> steps_per_epoch;  // by rank
  std::string compress;                  // fp16, int8 or int4
  bool error_feedback = false;
  int64_t epochs = 3;
};

// The shared model after each epoch.
std::vector<at::Tensor> reference(const Scenario& sc) {
  const size_t n = sc.steps_per_epoch.size();
  const WirePrecision precision = wire_precision(sc.compress);
  std::vector<train::FlatAdam> models = testing::toy_inner_optimizers(1);
  train::FlatAdam& model = models[0];
  std::vector<at::Tensor> residual;
  for (size_t r = 0; r < n; ++r) residual.push_back(at::zeros({kToyParams}, at::kFloat));
  std::vector<at::Tensor> after_epoch;
  const int64_t longest = *std::max_element(sc.steps_per_epoch.begin(), sc.steps_per_epoch.end());
  for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
    for (int64_t step = 1; step <= longest; ++step) {
      int64_t examples = 0;
      for (size_t r = 0; r < n; ++r) {
        if (step <= sc.steps_per_epoch[r]) examples += testing::toy_examples_of(static_cast<int>(r));
      }
      const at::Tensor params = model.flat_params().detach();
      at::Tensor sum = at::zeros({kToyParams}, at::kFloat);
      for (size_t r = 0; r < n; ++r) {
        const bool has_batch = step <= sc.steps_per_epoch[r];
        at::Tensor g = has_batch ? testing::toy_gradient(params, static_cast<int>(r), epoch, step)
                                 : at::zeros({kToyParams}, at::kFloat);
        g.mul_(static_cast<double>(has_batch ? testing::toy_examples_of(static_cast<int>(r)) : 0) /
               static_cast<double>(examples));
        testing::add_reference_message(precision, g, sc.error_feedback ? &residual[r] : nullptr, sum);
      }
      model.zero_grad();
      model.flat_grads().copy_(sum);
      model.step();
    }
    after_epoch.push_back(model.flat_params().detach().clone());
  }
  return after_epoch;
}

void expect_matches_reference(const Scenario& sc) {
  testing::RankScenario rs;
  rs.settings.strategy = "ddp";
  rs.settings.compress = sc.compress;
  rs.settings.error_feedback = sc.error_feedback;
  rs.steps_per_epoch = sc.steps_per_epoch;
  rs.epochs = sc.epochs;
  const std::vector<testing::RankOutcome> ranks =
      testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& settings) {
        return std::make_unique<DataParallel>(comm, settings, false, nullptr);
      });
  const std::vector<at::Tensor> expected = reference(sc);
  for (size_t r = 0; r < ranks.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    ASSERT_TRUE(ranks[r].error.empty()) << ranks[r].error;
    ASSERT_EQ(ranks[r].evaluated_after_epoch.size(), expected.size());
    for (size_t e = 0; e < expected.size(); ++e) {
      // Bit for bit: the same messages decoded and added in the same order, the same Adam.
      EXPECT_TRUE(at::equal(ranks[r].evaluated_after_epoch[e], expected[e]))
          << "epoch " << e + 1 << ": " << ranks[r].evaluated_after_epoch[e] << " vs " << expected[e];
    }
    // One message per rank and step, all-gathered.
    const int64_t longest = *std::max_element(sc.steps_per_epoch.begin(), sc.steps_per_epoch.end());
    EXPECT_DOUBLE_EQ(ranks[r].stats.bytes[static_cast<int>(Traffic::gradients)],
                     static_cast<double>(sc.epochs * longest * (ranks.size() - 1) *
                                         quantized_message_bytes(wire_precision(sc.compress), kToyParams)));
  }
}

TEST(DataParallelQuantized, GradientsMatchTheReferenceLoopWithAndWithoutErrorFeedback) {
  for (const std::string precision : {"int8", "int4"}) {
    for (const bool feedback : {false, true}) {
      SCOPED_TRACE(precision + (feedback ? " with error feedback" : ""));
      expect_matches_reference({{5, 3, 4}, precision, feedback});
    }
  }
  // int4 rounds enough on this model for the feedback to change the result.
  EXPECT_FALSE(at::allclose(reference({{5, 3, 4}, "int4", true}).back(), reference({{5, 3, 4}, "int4", false}).back(),
                            0, 1e-6));
}

// Buffers (batch normalization's running statistics) move on each rank's own batches. When
// every rank evaluates, each evaluates with rank 0's; when rank 0 alone does, the others keep
// their own.
TEST(DataParallel, EveryRankEvaluatesWithRankZerosBuffers) {
  for (const bool shared : {true, false}) {
    SCOPED_TRACE(shared ? "shared evaluation" : "rank 0 evaluates");
    testing::RankScenario rs;
    rs.settings.strategy = "ddp";
    rs.steps_per_epoch = {2, 3};
    rs.epochs = 2;
    rs.share_evaluation = shared;
    const std::vector<testing::RankOutcome> ranks =
        testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& settings) {
          return std::make_unique<DataParallel>(comm, settings, false, nullptr);
        });
    ASSERT_TRUE(ranks[0].error.empty()) << ranks[0].error;
    ASSERT_TRUE(ranks[1].error.empty()) << ranks[1].error;
    // Rank 0 adds 1 per step (2 a epoch), rank 1 adds 2 (6 an epoch); shared, rank 1 starts
    // each epoch from rank 0's.
    EXPECT_TRUE(at::equal(ranks[0].buffer_evaluated_after_epoch[1], at::full({3}, 4.0f)));
    EXPECT_TRUE(at::equal(ranks[1].buffer_evaluated_after_epoch[1], at::full({3}, shared ? 4.0f : 12.0f)));
  }
}

}  // namespace
}  // namespace ripple::dist
