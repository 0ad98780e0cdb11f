// NodeClassificationTask::reshard (src/tasks/node_task.h): an elastic group's survivors
// take over a lost rank's share of the training nodes from the next epoch on. Cora's 140
// public training nodes cut into shares: the epoch's examples must be the new share's, full
// batch and mini-batch, and a partition's task refuses.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <stdexcept>

#include "ripple/settings.h"
#include "support/cli.h"
#include "tasks/node_task.h"
#include "train/node_data.h"

namespace ripple {
namespace {

// Every example the task trains on in epoch `epoch`.
int64_t examples_in_epoch(tasks::NodeClassificationTask& task, int64_t epoch) {
  task.begin_epoch(epoch);
  int64_t examples = 0;
  while (const std::optional<train::BatchLoss> batch = task.next_batch()) examples += batch->examples;
  return examples;
}

RunConfig cora_config(bool minibatch) {
  RunConfig c;
  c.dataset.path = testing::source_path("data/cora");
  c.model.name = "sage";
  c.model.hidden = 8;
  if (minibatch) {
    c.sampler.fanouts = {5, 5};
    c.sampler.batch_size = 32;
  }
  return c;
}

TEST(NodeTask, ReshardTrainsOnTheNewShareFromTheNextEpoch) {
  for (const bool minibatch : {false, true}) {
    SCOPED_TRACE(minibatch ? "mini-batch" : "full batch");
    const RunConfig c = cora_config(minibatch);
    train::NodeData data = train::prepare_node_data(c);
    ASSERT_EQ(data.dataset.train_idx.numel(), 140);
    tasks::NodeClassificationTask task(c, data, train::Shard{2, 3});  // nodes 2, 5, 8, ...: 46
    task.build_model(1);
    EXPECT_EQ(examples_in_epoch(task, 1), 46);
    task.reshard(train::Shard{1, 2});  // two survivors: 70 each
    EXPECT_EQ(examples_in_epoch(task, 2), 70);
    task.reshard(train::Shard{0, 1});  // one left: all of them
    EXPECT_EQ(examples_in_epoch(task, 3), 140);
  }
}

TEST(NodeTask, PartitionTaskRefusesToReshard) {
  const RunConfig c = cora_config(false);
  train::NodeData data = train::prepare_node_data(c);
  tasks::NodeClassificationTask task(c, data, train::Shard{}, true);
  EXPECT_THROW(task.reshard(train::Shard{0, 2}), std::logic_error);
}

}  // namespace
}  // namespace ripple
