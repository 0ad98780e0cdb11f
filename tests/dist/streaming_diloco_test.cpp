// Streaming DiLoCo (dist.strategy = "streaming-diloco", src/dist/diloco.h) on real Gloo
// process groups, one thread per rank, against a reference loop written out plainly: the
// global model as one tensor per fragment, each with its own torch::optim::SGD (Nesterov);
// a round every H / P steps synchronizing the fragments in turn, each weighted by the
// examples since that fragment's last round; each rank's own fragment mixed with the new
// global one after `overlap` more of its steps, or at the next round or the epoch's end if
// that comes first. One fragment without overlap or mixing must equal DiLoCo bit for bit.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/optim/sgd.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/diloco.h"
#include "dist/quantize.h"
#include "ripple/config.h"
#include "ripple/error.h"
#include "support/rank_threads.h"

namespace ripple::dist {
namespace {

using testing::kToyParams;

struct Scenario {
  std::vector<int64_t> steps_per_epoch;  // by rank
  int64_t sync_every = 6, fragments = 3, overlap = 1;
  double mix = 0.5;
  int64_t epochs = 3;
  std::string compress = "none";
  double outer_lr = 0.7, outer_momentum = 0.9;
  bool error_feedback = false;  // with compress: each rank's rounding of a fragment carried to its next message
};

DistSettings settings_of(const Scenario& sc) {
  DistSettings s;
  s.strategy = "streaming-diloco";
  s.sync_every = sc.sync_every;
  s.fragments = sc.fragments;
  s.overlap_steps = sc.overlap;
  s.fragment_mix = sc.mix;
  s.compress = sc.compress;
  s.error_feedback = sc.error_feedback;
  s.outer_lr = sc.outer_lr;
  s.outer_momentum = sc.outer_momentum;
  return s;
}

std::vector<testing::RankOutcome> run_group(const DistSettings& settings, const std::vector<int64_t>& steps,
                                            int64_t epochs) {
  testing::RankScenario rs;
  rs.settings = settings;
  rs.steps_per_epoch = steps;
  rs.epochs = epochs;
  return testing::run_rank_threads(rs, [](Communicator& comm, const DistSettings& s) {
    return std::make_unique<DiLoCo>(comm, s, false, nullptr);
  });
}

struct Reference {
  std::vector<at::Tensor> global_after_epoch;
  int64_t rounds = 0;
  double parameter_bytes_per_rank = 0;  // the fragments' collectives, the broadcast aside
};

Reference reference(const Scenario& sc) {
  const size_t n = sc.steps_per_epoch.size();
  const auto p = static_cast<size_t>(sc.fragments);
  const at::Tensor init = testing::toy_initial_parameters();
  std::vector<at::Tensor> global;
  std::vector<std::unique_ptr<torch::optim::SGD>> outer;
  std::vector<std::pair<int64_t, int64_t>> bounds;
  for (int64_t f = 0; f < sc.fragments; ++f) {
    bounds.push_back(fragment_bounds(kToyParams, sc.fragments, f));
    global.push_back(init.slice(0, bounds[f].first, bounds[f].second).clone().requires_grad_());
    outer.push_back(std::make_unique<torch::optim::SGD>(
        std::vector<at::Tensor>{global.back()},
        torch::optim::SGDOptions(sc.outer_lr).momentum(sc.outer_momentum).nesterov(sc.outer_momentum > 0)));
  }
  const auto own_fragment = [&](train::FlatAdam& opt, size_t f) {
    return opt.flat_params().detach().slice(0, bounds[f].first, bounds[f].second);
  };
  std::vector<train::FlatAdam> inner = testing::toy_inner_optimizers(n);
  std::vector<int64_t> since(n, 0), examples_since(n, 0), trained(n, 0), pending_steps(n, 0);
  std::vector<std::vector<int64_t>> marks(n, std::vector<int64_t>(p, 0));
  std::vector<bool> pending(n, false);
  size_t pending_fragment = 0;
  const auto mix_in = [&](size_t r) {
    at::NoGradGuard no_grad;
    const at::Tensor mine = own_fragment(inner[r], pending_fragment);
    mine.copy_(mine * sc.mix + global[pending_fragment].detach() * (1 - sc.mix));
    pending[r] = false;
  };
  const auto after_step = [&](size_t r) {
    trained[r] += testing::toy_examples_of(static_cast<int>(r));
    if (pending[r] && ++pending_steps[r] >= sc.overlap) mix_in(r);
  };
  Reference ref;
  const double ranks = static_cast<double>(n);
  std::vector<at::Tensor> residual;  // error feedback, per rank
  for (size_t r = 0; r < n; ++r) residual.push_back(at::zeros({kToyParams}, at::kFloat));
  for (int64_t epoch = 1; epoch <= sc.epochs; ++epoch) {
    std::vector<int64_t> done(n, 0);
    while (testing::toy_steps_until_round(inner, sc.steps_per_epoch, epoch, sc.sync_every / sc.fragments, done,
                                          since, examples_since, after_step)) {
      for (size_t r = 0; r < n; ++r) {
        if (pending[r]) mix_in(r);  // the round finishes the exchange still in flight
      }
      const size_t f = static_cast<size_t>(ref.rounds % sc.fragments);
      double total = 0;
      for (size_t r = 0; r < n; ++r) total += static_cast<double>(trained[r] - marks[r][f]);
      at::Tensor change = at::zeros({bounds[f].second - bounds[f].first}, at::kFloat);
      for (size_t r = 0; r < n; ++r) {
        const at::Tensor mine = (global[f].detach() - own_fragment(inner[r], f)) *
                                (static_cast<double>(trained[r] - marks[r][f]) / total);
        if (sc.compress == "none") {
          change += mine;
        } else {
          at::Tensor e = residual[r].narrow(0, bounds[f].first, bounds[f].second - bounds[f].first);
          testing::add_reference_message(wire_precision(sc.compress), mine, sc.error_feedback ? &e : nullptr, change);
        }
        marks[r][f] = trained[r];
        since[r] = 0;
        examples_since[r] = 0;
        pending[r] = true;
        pending_steps[r] = 0;
      }
      outer[f]->zero_grad();
      global[f].mutable_grad() = change;
      outer[f]->step();
      pending_fragment = f;
      ref.parameter_bytes_per_rank +=
          sc.compress == "none"
              ? 2 * (ranks - 1) / ranks * 4.0 * static_cast<double>(change.numel())
              : (ranks - 1) * static_cast<double>(
                                  quantized_message_bytes(wire_precision(sc.compress), change.numel()));
      ++ref.rounds;
      if (sc.overlap == 0) {
        for (size_t r = 0; r < n; ++r) mix_in(r);
      }
    }
    for (size_t r = 0; r < n; ++r) {
      if (pending[r]) mix_in(r);  // evaluation finishes it too
    }
    std::vector<at::Tensor> parts;
    for (const at::Tensor& g : global) parts.push_back(g.detach());
    ref.global_after_epoch.push_back(at::cat(parts));
  }
  return ref;
}

void expect_matches_reference(const Scenario& sc) {
  const Reference ref = reference(sc);
  ASSERT_GT(ref.rounds, sc.fragments);
  const std::vector<testing::RankOutcome> ranks = run_group(settings_of(sc), sc.steps_per_epoch, sc.epochs);
  const double n = static_cast<double>(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    testing::expect_rank_evaluated_the_global_model(ranks, r, ref.global_after_epoch);
    const testing::RankOutcome& o = ranks[r];
    EXPECT_EQ(o.synchronizations, ref.rounds);
    // The initial broadcast, then one collective of a fragment per round.
    EXPECT_NEAR(o.stats.bytes[static_cast<int>(Traffic::parameters)],
                (n - 1) / n * 4.0 * kToyParams + ref.parameter_bytes_per_rank, 1e-6);
    EXPECT_EQ(o.stats.bytes[static_cast<int>(Traffic::gradients)], 0);
  }
}

TEST(StreamingDiLoCo, OneFragmentWithoutOverlapOrMixIsDiLoCo) {
  DistSettings streaming;
  streaming.strategy = "streaming-diloco";
  streaming.sync_every = 3;
  streaming.fragments = 1;
  streaming.overlap_steps = 0;
  streaming.fragment_mix = 0;
  DistSettings diloco = streaming;
  diloco.strategy = "diloco";
  const std::vector<int64_t> steps = {4, 7, 2};
  const auto a = run_group(streaming, steps, 3), b = run_group(diloco, steps, 3);
  for (size_t r = 0; r < a.size(); ++r) {
    SCOPED_TRACE(fmt::format("rank {}", r));
    ASSERT_EQ(a[r].error, "");
    ASSERT_EQ(b[r].error, "");
    ASSERT_EQ(a[r].evaluated_after_epoch.size(), 3u);
    for (size_t e = 0; e < 3; ++e) EXPECT_TRUE(at::equal(a[r].evaluated_after_epoch[e], b[r].evaluated_after_epoch[e]));
    EXPECT_TRUE(at::equal(a[r].final_parameters, b[r].final_parameters));
    EXPECT_EQ(a[r].synchronizations, b[r].synchronizations);
    EXPECT_EQ(a[r].stats.bytes, b[r].stats.bytes);
  }
}

// Fragments in turn, exchanges overlapped with one or two steps and mixed in; ranks whose
// epochs run out first finish their exchange at the next round or the epoch's end.
TEST(StreamingDiLoCo, FragmentsInTurnMatchTheReferenceLoop) {
  expect_matches_reference({{5, 5}, 6, 3, 1, 0.5, 3});
  expect_matches_reference({{7, 4, 9}, 4, 2, 2, 0.5, 3});
  expect_matches_reference({{3, 1}, 2, 2, 1, 0.3, 4});
  expect_matches_reference({{6, 6, 6}, 3, 1, 3, 0.5, 2});  // one fragment, overlapped
  expect_matches_reference({{5, 8}, 6, 3, 0, 0.0, 3});      // no overlap, replaced as in DiLoCo
}

TEST(StreamingDiLoCo, QuantizedFragmentsMatchTheReferenceLoop) {
  for (const std::string precision : {"fp16", "int4"}) {
    for (const bool feedback : {false, true}) {
      SCOPED_TRACE(precision + (feedback ? " with error feedback" : ""));
      Scenario sc{{7, 4, 9}, 6, 3, 1, 0.5, 3, precision};
      sc.error_feedback = feedback;
      expect_matches_reference(sc);
    }
  }
}

TEST(StreamingDiLoCo, ConfigurationRefusesFragmentsThatDoNotDivideH) {
  Config c;
  c.set_override("dist.strategy=streaming-diloco");
  c.set_override("dist.sync_every=10");
  c.set_override("dist.fragments=4");
  try {
    c.validate();
    FAIL() << "4 fragments of H = 10 must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dist.fragments: 4 does not divide dist.sync_every = 10"), std::string::npos)
        << e.what();
  }
  c.set_override("dist.fragments=5");
  c.set_override("dist.overlap_steps=3");
  try {
    c.validate();
    FAIL() << "an overlap of 3 steps with rounds 2 steps apart must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dist.overlap_steps: 3 exceeds the 2 steps between"), std::string::npos)
        << e.what();
  }
  c.set_override("dist.overlap_steps=2");
  EXPECT_NO_THROW(c.validate());
  EXPECT_THROW(c.set_override("dist.fragment_mix=1"), InputError);
}

}  // namespace
}  // namespace ripple::dist
