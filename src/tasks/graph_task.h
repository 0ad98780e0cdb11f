// Graph classification's cross-validation for one rank of a distributed group (internal;
// the single-process form is ripple::cross_validate, include/ripple/graph_classification.h).
//
// Every rank runs every fold. Within a fold each rank trains on its share of every epoch's
// shuffled training graphs (shard: every shard.count-th graph from shard.index, so with
// train.batch_size B per rank the ranks' step j together covers one process's batch j of
// B x ranks graphs), and the group's strategy (ddp, local-sgd, diloco, gossip) joins their
// updates through the synchronizer. Rank 0 evaluates, selects and writes the fold-<i>/
// folders; a fold rank 0 has finished is skipped by every rank. Batch normalization uses
// each rank's own batch statistics (as PyTorch's DDP without SyncBatchNorm) and the
// evaluated running statistics are rank 0's; train_acc is rank 0's share. Errors as
// cross_validate, plus DistributedError when a peer is lost.
#pragma once

#include <filesystem>

#include "ripple/graph_classification.h"
#include "train/distributed_run.h"
#include "train/task.h"

namespace ripple::tasks {

RunSummary cross_validate_in_group(const GraphDataset& data, const RunConfig& config, const TrainCallbacks& callbacks,
                                   const std::filesystem::path& run_dir, const train::RunGroup& group,
                                   train::Shard shard);

}  // namespace ripple::tasks
