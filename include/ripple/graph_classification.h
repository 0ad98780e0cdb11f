// The graph-classification task: stratified k-fold cross-validation of a GraphModel on a
// GraphDataset, under one of two protocols.
//
//   task.protocol = "gin" (Xu et al., ICLR 2019): train on k-1 folds, record the test fold's accuracy
//     after every epoch, average those curves over the folds and report the epoch with the
//     best mean. The epoch is chosen on test data, so the figure is optimistic; summaries
//     label it so.
//   task.protocol = "errica" (Errica et al., ICLR 2020): a stratified validation split is held out of each
//     training fold; the epoch with the best validation accuracy (ties: lower validation
//     loss, then the earlier epoch) is selected and its test accuracy reported. Errica et al.
//     also select hyper-parameters on that split; here they are fixed by the configuration.
//
// Folds, shuffles and dropout are pure functions of the seed, so a run is reproducible and
// independent of the thread count. Each fold is a unit of the one training loop (a fresh
// model seeded by train.seed + fold, the train.* optimizer and schedule). Throws
// SettingError when a class has fewer graphs than folds or a setting is out of range.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "ripple/graph_dataset.h"
#include "ripple/settings.h"
#include "ripple/trainer.h"

namespace ripple {

// Seeded stratified folds: each class's graphs, shuffled, are dealt round-robin (continuing
// across classes), so fold sizes differ by at most one and class shares by at most one graph.
std::vector<at::Tensor> stratified_folds(const at::Tensor& labels, int64_t num_classes, int64_t k, uint64_t seed);

// Runs the cross-validation that `config` describes (task.*, model.*, train.*) on `data`.
// The summary's units are the folds, each with its selected epoch's metrics (test_acc;
// train_acc, the training-mode accuracy during the epoch; with the errica protocol also
// valid_acc and valid_loss) and its whole history. train.patience applies to the errica
// protocol only (the gin protocol has no validation data to stop on). With `run_dir`, each fold writes fold-<i>/ there (see ripple/trainer.h) and
// a finished fold is read back instead of trained again.
RunSummary cross_validate(const GraphDataset& data, const RunConfig& config, const TrainCallbacks& callbacks = {},
                          const std::filesystem::path& run_dir = {});

}  // namespace ripple
