// The round schedule of the strategies that synchronize every H steps instead of every step
// (internal): diloco, streaming-diloco and local-sgd (dist/diloco.h), gossip
// (dist/gossip.h).
//
// Each rank takes H = dist.sync_every steps of its own optimizer on its own examples, then
// joins a round. A round starts with one all-reduce of two numbers (is this rank within its
// epoch's batches; its examples since its last exchange); when some rank is going and some
// examples were trained on, the strategy's exchange() combines the ranks' models. The step
// count runs on across epochs. Within an epoch a rank whose batches ran out keeps joining
// the others' rounds (its change since its last one takes part) until every rank is out;
// then the epoch ends without an exchange, the steps since the last one carrying over.
// Failures are the Communicator's DistributedError, naming the unit, epoch and step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dist/group_strategy.h"

namespace ripple::dist {

class PeriodicStrategy : public GroupStrategy {
 public:
  PeriodicStrategy(Communicator& comm, int64_t sync_every, bool reduce_metrics,
                   std::function<void(const std::string&)> log);
  train::StepTotals synchronize_step(train::FlatAdam& optimizer, int64_t examples, double loss_sum, int64_t epoch,
                                     int64_t step) final;
  void after_update(train::FlatAdam& optimizer, int64_t epoch, int64_t step) final;

 protected:
  // Subclasses call this first from theirs: the counts start again with the unit.
  void start_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) override;
  // Combines the ranks' models; every rank calls it in the same round. `examples_here` are
  // this rank's examples_for_round, `examples_all` the sum over the ranks (> 0). `at` names
  // the round for messages. In an elastic group a failed exchange is called again after the
  // survivors regroup: change no state before its collectives have succeeded.
  virtual void exchange(train::FlatAdam& optimizer, int64_t examples_here, double examples_all,
                        const std::string& at) = 0;
  // The examples this rank reports for the coming round's exchange, given those since its
  // last exchange (the default).
  virtual int64_t examples_for_round(int64_t since_last_exchange) { return since_last_exchange; }
  // After each of this rank's optimizer steps, before the round that may follow it.
  virtual void after_inner_step(train::FlatAdam& /*optimizer*/) {}
  // The examples this rank has trained on in this unit.
  int64_t examples_trained() const { return examples_trained_; }
  int64_t round_phase() const override { return steps_since_; }
  void set_round_phase(int64_t phase) override { steps_since_ = phase; }

 private:
  // One round; `going`: this rank is within its epoch's batches. Returns whether any rank
  // still is.
  bool round(train::FlatAdam& optimizer, bool going, int64_t epoch, int64_t step);

  int64_t sync_every_;
  int64_t steps_since_ = 0, examples_since_ = 0, examples_trained_ = 0;
};

}  // namespace ripple::dist
