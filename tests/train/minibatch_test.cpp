// Mini-batch training on sampled blocks: the block forward and the layer-wise inference
// must reproduce the full-batch forward exactly when every neighbour is kept, GCN's block
// weights must follow their definition, training must not depend on the number of loader
// workers, and bad settings must be refused with exit code 2. Reduced-precision storage of
// the inference's layer outputs halves their memory and stays within its rounding.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "ripple/settings.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/model.h"
#include "ripple/sample.h"
#include "support/allocation_probe.h"
#include "support/cli.h"
#include "support/cora.h"
#include "train/minibatch.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

using testing::cora;

RunConfig model_config(const std::string& name) {
  RunConfig c;
  c.model.name = name;
  c.model.hidden = 8;
  c.model.heads = 2;
  c.model.norm = name == "sage" ? "layer" : "none";
  return c;
}

NodeModel build(const RunConfig& c) {
  torch::manual_seed(3);
  NodeModel m(c.model, cora().num_features(), cora().num_classes);
  m->eval();
  return m;
}

at::Tensor full_forward(NodeModel& m) {
  at::NoGradGuard no_grad;
  nn::GraphCache g(cora().graph);
  nn::ForwardContext ctx;
  return m->forward(g, nn::Features(cora().features), ctx);
}

class EveryBlockModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryBlockModel, LayerwiseInferenceEqualsTheFullBatchForward) {
  const RunConfig c = model_config(GetParam());
  NodeModel m = build(c);
  const at::Tensor expected = full_forward(m);
  const train::BlockContext context = train::make_block_context(c.model.name, false, cora().graph);
  const at::Tensor got = train::layerwise_inference(m, cora().graph, cora().features, context, 500);
  EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-5)) << (got - expected).abs().max().item<float>();
}

TEST_P(EveryBlockModel, BlocksKeepingEveryNeighbourEqualTheFullBatchRows) {
  const RunConfig c = model_config(GetParam());
  NodeModel m = build(c);
  const at::Tensor expected = full_forward(m);
  SamplerOptions all;
  all.fanouts = {-1, -1};
  const at::Tensor seeds = at::arange(100, 400, 3, at::kLong);
  const SampledBatch s = sample_neighbors(cora().graph, seeds, all, 0);
  const train::BlockContext context = train::make_block_context(c.model.name, false, cora().graph);
  std::vector<nn::GraphCache> blocks;
  for (const Block& b : s.blocks) {
    blocks.push_back(context.full_degree.defined()
                         ? nn::GraphCache::for_block(b.graph, context.full_degree.index_select(0, b.src_nodes))
                         : nn::GraphCache(b.graph));
  }
  at::NoGradGuard no_grad;
  nn::ForwardContext ctx;
  const at::Tensor got = m->forward_blocks(blocks, nn::Features(cora().features.index_select(0, s.input_nodes())), ctx);
  EXPECT_TRUE(at::allclose(got, expected.index_select(0, seeds), 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Models, EveryBlockModel, ::testing::Values("gcn", "sage", "gat", "gatv2", "gin", "mlp"),
                         [](const auto& info) { return info.param; });

// On a sampled block, edge (u, v) weighs (d_v / k_v) / sqrt(d_u d_v): full-graph degrees
// with self loops d, k_v edges kept into v (its self loop included).
// float16/bfloat16 storage of the hidden layers' outputs: the per-node [N, width] tensor
// (the largest allocation here, with 10 destinations per batch) halves, and the logits stay
// float32 within the storage type's rounding of the float32 inference.
TEST(LayerwiseInference, ReducedStorageHalvesTheLayerOutputsAndStaysClose) {
  RunConfig c = model_config("sage");
  c.model.hidden = 256;
  c.model.layers = 3;
  NodeModel m = build(c);
  const train::BlockContext context = train::make_block_context("sage", false, cora().graph);
  const size_t full_rows = static_cast<size_t>(cora().num_nodes()) * 256 * sizeof(float);
  auto run = [&](at::ScalarType storage, size_t& largest) {
    testing::AllocationProbe probe;
    at::Tensor logits = train::layerwise_inference(m, cora().graph, cora().features, context, 10, storage);
    largest = probe.largest_bytes();
    return logits;
  };
  size_t largest32 = 0, largest16 = 0, largest_bf16 = 0;
  const at::Tensor f32 = run(at::kFloat, largest32);
  const at::Tensor f16 = run(at::kHalf, largest16);
  const at::Tensor bf16 = run(at::kBFloat16, largest_bf16);
  EXPECT_GE(largest32, full_rows);
  EXPECT_LT(largest16, full_rows);
  EXPECT_GE(largest16, full_rows / 2);
  EXPECT_LT(largest_bf16, full_rows);
  EXPECT_EQ(f16.scalar_type(), at::kFloat);
  EXPECT_EQ(bf16.scalar_type(), at::kFloat);
  const double scale = f32.abs().max().item<double>();
  EXPECT_LT((f16 - f32).abs().max().item<double>(), 4e-3 * scale);
  EXPECT_LT((bf16 - f32).abs().max().item<double>(), 3e-2 * scale);
  EXPECT_GT((f16 - f32).abs().max().item<double>(), 0.0);  // the storage did round
  const double agree = (f16.argmax(1) == f32.argmax(1)).to(at::kDouble).mean().item<double>();
  EXPECT_GT(agree, 0.99);
}

TEST(BlockGcnWeights, FollowTheirDefinition) {
  const Graph& g = cora().graph;
  SamplerOptions o;
  o.fanouts = {2};
  o.seed = 5;
  const SampledBatch s = sample_neighbors(g, at::arange(0, 50, at::kLong), o, 0);
  const Block& b = s.blocks.front();
  const at::Tensor full = nn::GraphCache::full_gcn_degree(g);
  nn::GraphCache cache = nn::GraphCache::for_block(b.graph, full.index_select(0, b.src_nodes));
  const Graph& loops = cache.with_self_loops();
  const at::Tensor w = cache.gcn_weights().view(-1);
  const at::Tensor ptr = loops.csc_indptr().to(at::kLong), idx = loops.csc_indices().to(at::kLong);
  const at::Tensor in_deg = g.in_degrees();
  for (int64_t v = 0; v < loops.num_dst(); ++v) {
    const int64_t begin = ptr[v].item<int64_t>(), end = ptr[v + 1].item<int64_t>();
    const int64_t gv = b.src_nodes[v].item<int64_t>();
    const double dv = static_cast<double>(in_deg[gv].item<int64_t>() + 1);
    ASSERT_EQ(end - begin, std::min<int64_t>(2, in_deg[gv].item<int64_t>()) + 1);
    for (int64_t e = begin; e < end; ++e) {
      const int64_t gu = b.src_nodes[idx[e].item<int64_t>()].item<int64_t>();
      const double du = static_cast<double>(in_deg[gu].item<int64_t>() + 1);
      EXPECT_NEAR(w[e].item<float>(), dv / static_cast<double>(end - begin) / std::sqrt(du * dv), 1e-6);
    }
  }
}

double summary_metric(const fs::path& run, const std::string& metric) {
  std::ifstream in(run / "summary.json");
  return nlohmann::json::parse(in)["metrics"][metric]["mean"].get<double>();
}

TEST(MinibatchTraining, IsIndependentOfTheWorkerCountAndLearns) {
  const fs::path tmp = testing::fresh_temp_dir("minibatch-workers");
  std::vector<std::string> logs;
  for (int workers : {1, 2, 0}) {  // 0: each batch prepared in next(), no worker thread
    const fs::path run = tmp / fmt::format("w{}", workers);
    const auto r = testing::run_ripple(fmt::format(
        "train --config {} --set dataset.path={} --set 'sampler.fanouts=[10, 5]' --set sampler.batch_size=32 "
        "--set sampler.workers={} --set train.epochs=15 --run-dir {}",
        testing::source_path("examples/cora_sage.toml"), testing::source_path("data/cora"), workers, run.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(run / "seed-0" / "metrics.jsonl");
    logs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    // The times (epoch_ms, eval_ms) differ between runs; everything else must not.
    std::string& log = logs.back();
    for (const std::string field : {"\"epoch_ms\":", "\"eval_ms\":"}) {
      for (size_t p = log.find(field); p != std::string::npos; p = log.find(field, p + 1)) {
        log.erase(p, log.find_first_of(",}", p) - p);
      }
    }
  }
  EXPECT_EQ(logs[0], logs[1]);
  EXPECT_EQ(logs[0], logs[2]);
  EXPECT_GT(summary_metric(tmp / "w1", "test_acc"), 0.7);  // 15 epochs of 5 batches
}

TEST(MinibatchTraining, RefusesSettingsItCannotHonour) {
  const fs::path tmp = testing::fresh_temp_dir("minibatch-bad");
  const std::string base = fmt::format("train --set dataset.path={} --set train.epochs=1 ",
                                       testing::source_path("data/cora"));
  auto run = [&](const std::string& extra, const std::string& expected) {
    const auto r = testing::run_ripple(base + extra + " --run-dir " + (tmp / "run").string());
    EXPECT_EQ(r.exit_code, 2) << extra << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(tmp / "run")) << extra;
  };
  run("--set 'sampler.fanouts=[10, 5, 5]'", "one fanout per layer");
  run("--set 'sampler.fanouts=[10, 0]'", "sampler.fanouts");
  run("--set 'sampler.fanouts=[10, -2]'", "sampler.fanouts");
  run("--set 'sampler.fanouts=[10, 5]' --set model.name=appnp", "mini-batch training supports");
  run("--set sampler.fanouts=10", "a list of integers");
  run("--set 'sampler.fanouts=[10, 5]' --set sampler.batch_size=0", "sampler.batch_size");
}

}  // namespace
}  // namespace ripple
