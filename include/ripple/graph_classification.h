// The graph-classification task: stratified k-fold cross-validation of a GraphModel on a
// GraphDataset, under one of two protocols.
//
//   kGinPaper (Xu et al., ICLR 2019): train on k-1 folds, record the test fold's accuracy
//     after every epoch, average those curves over the folds and report the epoch with the
//     best mean. The epoch is chosen on test data, so the figure is optimistic; summaries
//     label it so.
//   kErrica (Errica et al., ICLR 2020): a stratified validation split is held out of each
//     training fold; the epoch with the best validation accuracy (ties: lower validation
//     loss, then the earlier epoch) is selected and its test accuracy reported. Errica et al.
//     also select hyper-parameters on that split; here they are fixed by the configuration.
//
// Folds, shuffles and dropout are pure functions of the seed, so a run is reproducible and
// independent of the thread count. Each fold trains a fresh model (seeded by seed + fold)
// with Adam and a step learning-rate schedule. Throws InputError when a class has fewer
// graphs than folds or a setting is out of range.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ripple/graph_dataset.h"
#include "ripple/graph_model.h"

namespace ripple {

enum class CvProtocol { kGinPaper, kErrica };

struct GraphTaskConfig {
  GraphModelConfig model;
  CvProtocol protocol = CvProtocol::kGinPaper;
  int64_t folds = 10;
  int64_t run_folds = 0;        // train only the first run_folds folds (0: all), for short checks
  double valid_fraction = 0.1;  // kErrica: share of each training fold held out
  int64_t epochs = 350;
  int64_t batch_size = 32;
  double lr = 0.01;
  double weight_decay = 0.0;
  int64_t lr_step_size = 50;
  double lr_gamma = 0.5;
  uint64_t seed = 0;
};

struct GraphEpochRecord {
  int64_t fold = 0, epoch = 0;
  double loss = 0, train_acc = 0, valid_acc = 0, valid_loss = 0, test_acc = 0, lr = 0, epoch_ms = 0;
};

struct FoldResult {
  int64_t fold = 0;
  std::vector<GraphEpochRecord> epochs;
  int64_t selected_epoch = 0;  // 1-based
  double test_acc = 0;
  double epoch_ms_median = 0;
};

struct CrossValidationResult {
  CvProtocol protocol = CvProtocol::kGinPaper;
  std::vector<FoldResult> folds;
  int64_t common_epoch = 0;  // kGinPaper: the epoch chosen for every fold; 0 otherwise
  double mean = 0, std = 0;  // of the folds' test accuracy (population std, as the GIN paper)
};

// Seeded stratified folds: each class's graphs, shuffled, are dealt round-robin (continuing
// across classes), so fold sizes differ by at most one and class shares by at most one graph.
std::vector<at::Tensor> stratified_folds(const at::Tensor& labels, int64_t num_classes, int64_t k, uint64_t seed);

// Runs the cross-validation; `on_epoch` (optional) sees every epoch of every fold.
CrossValidationResult cross_validate(const GraphDataset& data, const GraphTaskConfig& config,
                                     const std::function<void(const GraphEpochRecord&)>& on_epoch = {});

const char* protocol_name(CvProtocol p);

}  // namespace ripple
