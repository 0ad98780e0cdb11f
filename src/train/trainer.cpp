// Full-batch node-classification training loop, run directories and resume.
#include "ripple/trainer.h"
#include "ripple/threads.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include "ripple/error.h"
#include "ripple/model.h"
#include "train/checkpoint.h"
#include "train/files.h"
#include "train/minibatch.h"
#include "train/node_data.h"
#include "train/stats.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple {
namespace {

using train::NodeData;
using train::TrainState;

double learning_rate(const Config& c, int64_t epoch) {
  const double lr = c.get_float("train.lr");
  const std::string& schedule = c.get_string("train.lr_schedule");
  if (schedule == "cosine") {
    return lr * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch - 1) / c.get_int("train.epochs")));
  }
  if (schedule == "step") {
    return lr * std::pow(c.get_float("train.lr_gamma"), static_cast<double>((epoch - 1) / c.get_int("train.lr_step_size")));
  }
  return lr;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& c, NodeModel& model) {
  const double lr = c.get_float("train.lr"), wd = c.get_float("train.weight_decay");
  if (c.get_string("train.optimizer") == "adamw") {
    return std::make_unique<torch::optim::AdamW>(model->parameters(), torch::optim::AdamWOptions(lr).weight_decay(wd));
  }
  return std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(lr).weight_decay(wd));
}

void set_learning_rate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

struct Evaluation {
  double train_acc, valid_acc, test_acc, valid_loss;
};

double accuracy(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& idx) {
  if (idx.numel() == 0) return 0.0;
  return logits.index_select(0, idx).argmax(1).eq(labels.index_select(0, idx)).to(at::kDouble).mean().item<double>();
}

// Full-batch forward, or for mini-batch runs layer-wise inference over the whole graph
// (`blocks` built once per run by make_block_context).
Evaluation evaluate(const Config& c, NodeModel& model, NodeData& d, const train::BlockContext& blocks, uint64_t seed) {
  torch::NoGradGuard no_grad;
  model->eval();
  at::Tensor logits;
  if (d.minibatch) {
    logits = train::layerwise_inference(model, d.dataset.graph, d.dataset.features, blocks,
                                        c.get_int("sampler.eval_batch_size"));
  } else {
    nn::ForwardContext ctx{false, seed, 0, 0};
    logits = model->forward(*d.graph, d.features, ctx);
  }
  const NodeDataset& ds = d.dataset;
  const double valid_loss = ds.valid_idx.numel() == 0 ? 0.0
      : torch::nn::functional::cross_entropy(logits.index_select(0, ds.valid_idx), ds.labels.index_select(0, ds.valid_idx)).item<double>();
  return {accuracy(logits, ds.labels, ds.train_idx), accuracy(logits, ds.labels, ds.valid_idx),
          accuracy(logits, ds.labels, ds.test_idx), valid_loss};
}

NodeModel build_model(const Config& c, const NodeData& d, uint64_t seed) {
  torch::manual_seed(seed);
  return NodeModel(c.model(), d.dataset.num_features(), d.dataset.num_classes);
}

json result_json(const SeedResult& r) {
  return {{"seed", r.seed}, {"best_epoch", r.best_epoch}, {"epochs_run", r.epochs_run}, {"train_acc", r.train_acc},
          {"valid_acc", r.valid_acc}, {"valid_loss", r.valid_loss}, {"test_acc", r.test_acc},
          {"epoch_ms_median", r.epoch_ms_median}};
}

SeedResult result_from_json(const json& j) {
  SeedResult r;
  r.seed = j.at("seed");
  r.best_epoch = j.at("best_epoch");
  r.epochs_run = j.at("epochs_run");
  r.train_acc = j.at("train_acc");
  r.valid_acc = j.at("valid_acc");
  r.valid_loss = j.at("valid_loss");
  r.test_acc = j.at("test_acc");
  r.epoch_ms_median = j.at("epoch_ms_median");
  return r;
}

// Keeps the metrics lines of epochs <= `last_epoch` (those after the checkpoint are redone).
void truncate_metrics(const fs::path& path, int64_t last_epoch) {
  if (!fs::exists(path)) return;
  std::istringstream in(train::read_file(path));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (json::parse(line).at("epoch").get<int64_t>() <= last_epoch) kept += line + "\n";
    } catch (const std::exception&) {
      break;  // a torn last line from a kill
    }
  }
  train::write_file_atomic(path, kept);
}

SeedResult train_seed(const Config& c, NodeData& d, int64_t seed, int64_t seed_index, const fs::path& dir,
                      const TrainCallbacks& cb, int64_t& epochs_this_process) {
  fs::create_directories(dir);
  NodeModel model = build_model(c, d, static_cast<uint64_t>(seed));
  auto optimizer = make_optimizer(c, model);
  TrainState st;
  const fs::path ckpt = dir / "checkpoint.pt", metrics_path = dir / "metrics.jsonl";
  if (fs::exists(ckpt)) {
    train::load_checkpoint(ckpt, *model, *optimizer, st);
  }
  truncate_metrics(metrics_path, st.epoch);
  std::ofstream metrics(metrics_path, std::ios::app);
  const int64_t epochs = c.get_int("train.epochs"), patience = c.get_int("train.patience");
  const int64_t every = c.get_int("train.checkpoint_every");
  const NodeDataset& ds = d.dataset;
  const at::Tensor train_labels = ds.labels.index_select(0, ds.train_idx);
  bool stopped = patience > 0 && st.bad_epochs >= patience;
  std::unique_ptr<NeighborLoader> loader;
  train::BlockContext blocks;
  if (d.minibatch) {
    train::check_minibatch_model(c, model);
    blocks = train::make_block_context(c, ds.graph);
    loader = std::make_unique<NeighborLoader>(ds.graph, ds.features, ds.labels, ds.train_idx,
                                              train::loader_options(c, static_cast<uint64_t>(seed)));
  }

  for (int64_t epoch = st.epoch + 1; epoch <= epochs && !stopped; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const double lr = learning_rate(c, epoch);
    set_learning_rate(*optimizer, lr);
    double loss_value = 0;
    if (loader) {
      loss_value = train::train_minibatch_epoch(model, *optimizer, *loader, blocks, static_cast<uint64_t>(seed), epoch).loss;
    } else {
      model->train();
      nn::ForwardContext ctx{true, static_cast<uint64_t>(seed), epoch, 0};
      optimizer->zero_grad();
      const at::Tensor logits = model->forward(*d.graph, d.features, ctx);
      const at::Tensor loss = torch::nn::functional::cross_entropy(logits.index_select(0, ds.train_idx), train_labels);
      loss.backward();
      optimizer->step();
      loss_value = loss.item<double>();
    }
    const double step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const Evaluation ev = evaluate(c, model, d, blocks, static_cast<uint64_t>(seed));

    EpochRecord rec{epoch, loss_value, ev.train_acc, ev.valid_acc, ev.valid_loss, ev.test_acc, lr, step_ms};
    st.epoch = epoch;
    st.epoch_ms.push_back(step_ms);
    if (ev.valid_acc > st.best_valid_acc || (ev.valid_acc == st.best_valid_acc && ev.valid_loss < st.best_valid_loss)) {
      st.best_epoch = epoch;
      st.best_valid_acc = ev.valid_acc;
      st.best_valid_loss = ev.valid_loss;
      st.best_test_acc = ev.test_acc;
      st.best_train_acc = ev.train_acc;
      st.best_parameters = train::snapshot_parameters(*model);
    }
    // Early stopping as in the GAT paper: patience runs out when neither validation accuracy
    // nor validation loss has improved.
    if (ev.valid_acc > st.max_valid_acc || ev.valid_loss < st.min_valid_loss) {
      st.max_valid_acc = std::max(st.max_valid_acc, ev.valid_acc);
      st.min_valid_loss = std::min(st.min_valid_loss, ev.valid_loss);
      st.bad_epochs = 0;
    } else {
      ++st.bad_epochs;
    }
    stopped = patience > 0 && st.bad_epochs >= patience;
    metrics << json{{"epoch", epoch}, {"loss", rec.loss}, {"train_acc", rec.train_acc}, {"valid_acc", rec.valid_acc},
                    {"valid_loss", rec.valid_loss}, {"test_acc", rec.test_acc}, {"lr", lr}, {"epoch_ms", step_ms}}
                   .dump()
            << "\n";
    metrics.flush();
    if (every > 0 && epoch % every == 0 && epoch < epochs && !stopped) {
      train::save_checkpoint(ckpt, *model, *optimizer, st);
    }
    if (cb.on_epoch) cb.on_epoch(seed_index, epochs, rec);
    if (cb.interrupt_after_epochs >= 0 && ++epochs_this_process >= cb.interrupt_after_epochs) {
      throw std::runtime_error("interrupted by test hook");
    }
  }
  train::save_checkpoint(ckpt, *model, *optimizer, st);
  train::save_parameters(dir / "best.pt", st.best_parameters);
  SeedResult r{seed, st.best_epoch, st.epoch, st.best_train_acc, st.best_valid_acc, st.best_valid_loss,
               st.best_test_acc, train::median(st.epoch_ms)};
  train::write_file_atomic(dir / "result.json", result_json(r).dump(2) + "\n");
  return r;
}

json metric_json(const RunSummary& s, double SeedResult::*field) {
  json per = json::array();
  for (const SeedResult& r : s.seeds) per.push_back(r.*field);
  return {{"mean", s.mean(field)}, {"std", s.std(field)}, {"per_seed", per}};
}

}  // namespace

double RunSummary::mean(double SeedResult::*f) const {
  if (seeds.empty()) return 0;
  double t = 0;
  for (const SeedResult& r : seeds) t += r.*f;
  return t / static_cast<double>(seeds.size());
}

double RunSummary::std(double SeedResult::*f) const {
  if (seeds.size() < 2) return 0;
  const double m = mean(f);
  double t = 0;
  for (const SeedResult& r : seeds) t += (r.*f - m) * (r.*f - m);
  return std::sqrt(t / static_cast<double>(seeds.size() - 1));
}

RunSummary run_experiment(const Config& c, const fs::path& run_dir, bool resume, const TrainCallbacks& cb,
                          const fs::path& config_dir) {
  c.validate();
  if (!resume && fs::exists(run_dir / "summary.json")) {
    throw InputError(fmt::format("{}: already holds a finished run; choose another --run-dir", run_dir.string()));
  }
  set_intra_op_threads(c.get_int("train.threads"));
  NodeData d = train::prepare_node_data(c, config_dir);  // all input errors surface before writing
  NodeModel probe = build_model(c, d, 0);               // invalid model settings too
  if (d.minibatch) train::check_minibatch_model(c, probe);
  if (!resume) {
    if (fs::exists(run_dir / "config.toml")) {
      throw InputError(fmt::format("{}: holds an unfinished run; continue it with --resume {}", run_dir.string(), run_dir.string()));
    }
    fs::create_directories(run_dir);
    Config resolved = c;
    resolved.set("dataset.path", train::resolve_dataset_path(c, config_dir).string(), "resolved path");
    train::write_file_atomic(run_dir / "config.toml", resolved.to_toml());
  }
  RunSummary summary;
  int64_t epochs_this_process = 0;
  const int64_t seeds = c.get_int("train.seeds"), base = c.get_int("train.seed");
  for (int64_t i = 0; i < seeds; ++i) {
    const fs::path dir = run_dir / fmt::format("seed-{}", i);
    SeedResult r;
    if (fs::exists(dir / "result.json")) {
      r = result_from_json(json::parse(train::read_file(dir / "result.json")));
    } else {
      r = train_seed(c, d, base + i, i, dir, cb, epochs_this_process);
    }
    summary.seeds.push_back(r);
    if (cb.on_seed_done) cb.on_seed_done(i, r);
  }
  json metrics;
  metrics["test_acc"] = metric_json(summary, &SeedResult::test_acc);
  metrics["valid_acc"] = metric_json(summary, &SeedResult::valid_acc);
  metrics["train_acc"] = metric_json(summary, &SeedResult::train_acc);
  metrics["valid_loss"] = metric_json(summary, &SeedResult::valid_loss);
  metrics["epoch_ms"] = metric_json(summary, &SeedResult::epoch_ms_median);
  json seeds_json = json::array();
  for (const SeedResult& r : summary.seeds) seeds_json.push_back(result_json(r));
  const json out = {{"model", c.get_string("model.name")},
                    {"dataset", train::resolve_dataset_path(c, config_dir).string()},
                    {"metrics", metrics},
                    {"seeds", seeds_json}};
  train::write_file_atomic(run_dir / "summary.json", out.dump(2) + "\n");
  return summary;
}

std::vector<SeedResult> evaluate_run(const fs::path& run_dir) {
  if (!fs::is_regular_file(run_dir / "config.toml")) {
    throw InputError(fmt::format("{}: not a run directory (no config.toml)", run_dir.string()));
  }
  const Config c = Config::from_file((run_dir / "config.toml").string());
  NodeData d = train::prepare_node_data(c, run_dir);
  const train::BlockContext blocks = d.minibatch ? train::make_block_context(c, d.dataset.graph) : train::BlockContext{};
  std::vector<SeedResult> out;
  for (int64_t i = 0; i < c.get_int("train.seeds"); ++i) {
    const fs::path best = run_dir / fmt::format("seed-{}", i) / "best.pt";
    if (!fs::exists(best)) continue;
    const int64_t seed = c.get_int("train.seed") + i;
    NodeModel model = build_model(c, d, static_cast<uint64_t>(seed));
    train::restore_parameters(*model, train::load_parameters(best));
    const Evaluation ev = evaluate(c, model, d, blocks, static_cast<uint64_t>(seed));
    SeedResult r;
    r.seed = seed;
    r.train_acc = ev.train_acc;
    r.valid_acc = ev.valid_acc;
    r.test_acc = ev.test_acc;
    r.valid_loss = ev.valid_loss;
    out.push_back(r);
  }
  if (out.empty()) throw InputError(fmt::format("{}: no finished seed (no seed-*/best.pt)", run_dir.string()));
  return out;
}

}  // namespace ripple
