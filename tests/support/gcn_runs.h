// Full-batch GCN runs on Cora (and MUTAG graph-classification folds) through the binary, as
// the distributed tests start them (tests/dist/*_test.cpp), and what they leave behind.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ripple/graph_model.h"
#include "ripple/model.h"
#include "ripple/trainer.h"
#include "support/cli.h"
#include "train/checkpoint.h"
#include "train/loop.h"

namespace ripple::testing {

inline std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Full-batch GCN on Cora for `epochs` steps, one intra-op thread per rank.
inline std::string gcn_args(int epochs, const std::string& extra = "") {
  return fmt::format("train --config {} --set dataset.path={} --set train.epochs={} --set train.patience=0 "
                     "--set train.threads=1 {}",
                     source_path("examples/cora_gcn.toml"), source_path("data/cora"), epochs, extra);
}

// The parameters after the last epoch (checkpoint.pt of seed 0), flattened in name order.
inline at::Tensor final_parameters(const std::filesystem::path& run_dir) {
  const RunConfig c = read_run_config(run_dir);
  NodeModel model(c.model, 1433, 7);
  train::FlatAdam optimizer = train::make_optimizer(c.train, *model);
  train::TrainState state;
  train::load_checkpoint(run_dir / "seed-0" / "checkpoint.pt", *model, optimizer, state);
  EXPECT_EQ(state.epoch, c.train.epochs);
  return optimizer.flat_params().clone();
}

// The parameters of a MUTAG graph-classification fold after its last epoch (its
// checkpoint.pt), flattened.
inline at::Tensor final_fold_parameters(const std::filesystem::path& run_dir, int fold) {
  const RunConfig c = read_run_config(run_dir);
  GraphModel model(c.model, 7, 2);  // MUTAG: 7 one-hot node labels, 2 classes
  train::FlatAdam optimizer = train::make_optimizer(c.train, *model);
  train::TrainState state;
  train::load_checkpoint(run_dir / fmt::format("fold-{}", fold) / "checkpoint.pt", *model, optimizer, state);
  EXPECT_EQ(state.epoch, c.train.epochs);
  return optimizer.flat_params().clone();
}

}  // namespace ripple::testing
