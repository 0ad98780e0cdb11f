// RemoteRows over the group's communicator (dist.remote = "fetch"; internal): each exchange
// is two all-to-alls, the requests and then the answers, which this rank computes for the
// others in between (src/sample/part_sampler.h). Sampled neighbour lists and evaluation
// rows count as halo bytes, input feature rows as feature bytes. A lost peer throws
// DistributedError naming this rank and the exchange, as every collective does.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "sample/part_sampler.h"

namespace ripple::dist {

class GroupRemoteRows : public RemoteRows {
 public:
  // `features`: the part's input rows (one per local node), kept by reference; `options`:
  // the fanouts and replacement every rank samples with.
  GroupRemoteRows(Communicator& comm, const PartGraph& part, at::Tensor features, SamplerOptions options);
  // Over a group of its own (Communicator::side_group), which it keeps.
  GroupRemoteRows(std::shared_ptr<Communicator> comm, const PartGraph& part, at::Tensor features,
                  SamplerOptions options);
  std::vector<at::Tensor> sampled_rows(const std::vector<at::Tensor>& requests) override;
  std::vector<at::Tensor> feature_rows(const std::vector<at::Tensor>& requests) override;
  // Fills the rows of `table` ([local nodes, width]) of the halo nodes the own nodes read
  // (PartGraph::halo_sources) from their owners' rows of it: one exchange of the group,
  // after each layer of a layer-wise evaluation. Rows travel in the table's dtype
  // (sampler.eval_dtype = "float16" halves the bytes).
  void complete_halo_rows(at::Tensor& table);

 private:
  // Sends `requests`, answers what arrives with `answer(from, request)`, returns the answers to ours.
  template <class Answer>
  std::vector<at::Tensor> round_trip(const std::vector<at::Tensor>& requests, Traffic kind, const std::string& what,
                                     const Answer& answer);
  std::shared_ptr<Communicator> owned_comm_;
  Communicator& comm_;
  const PartGraph& part_;
  at::Tensor features_;
  SamplerOptions options_;
};

}  // namespace ripple::dist
