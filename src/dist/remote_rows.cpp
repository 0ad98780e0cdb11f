// RemoteRows over the communicator. See src/dist/remote_rows.h.
#include "dist/remote_rows.h"

#include <ATen/ATen.h>

#include <utility>

namespace ripple::dist {

GroupRemoteRows::GroupRemoteRows(Communicator& comm, const PartGraph& part, at::Tensor features, SamplerOptions options)
    : comm_(comm), part_(part), features_(std::move(features)), options_(std::move(options)) {}

GroupRemoteRows::GroupRemoteRows(std::shared_ptr<Communicator> comm, const PartGraph& part, at::Tensor features,
                                 SamplerOptions options)
    : owned_comm_(std::move(comm)),
      comm_(*owned_comm_),
      part_(part),
      features_(std::move(features)),
      options_(std::move(options)) {}

template <class Answer>
std::vector<at::Tensor> GroupRemoteRows::round_trip(const std::vector<at::Tensor>& requests, Traffic kind,
                                                    const std::string& what, const Answer& answer) {
  const std::vector<at::Tensor> asked = comm_.all_to_all(requests, kind, "all-to-all of the requests for " + what);
  std::vector<at::Tensor> answers(asked.size());
  for (size_t r = 0; r < asked.size(); ++r) answers[r] = answer(static_cast<int>(r), asked[r]);
  return comm_.all_to_all(answers, kind, "all-to-all of the answers with " + what);
}

std::vector<at::Tensor> GroupRemoteRows::sampled_rows(const std::vector<at::Tensor>& requests) {
  return round_trip(requests, Traffic::halo, "sampled neighbours", [&](int from, const at::Tensor& request) {
    return answer_sampled_rows(part_, options_, request, from);
  });
}

std::vector<at::Tensor> GroupRemoteRows::feature_rows(const std::vector<at::Tensor>& requests) {
  return round_trip(requests, Traffic::features, "input features", [&](int from, const at::Tensor& request) {
    return answer_table_rows(part_, features_, request, from);
  });
}

void GroupRemoteRows::complete_halo_rows(at::Tensor& table) {
  const std::vector<std::vector<int64_t>>& sources = part_.halo_sources();
  const at::Tensor gid = part_.global_id();
  std::vector<at::Tensor> requests(sources.size());
  for (size_t r = 0; r < sources.size(); ++r) {
    requests[r] = gid.index_select(0, at::tensor(sources[r], at::kLong));
  }
  const at::Tensor own_rows = table.narrow(0, 0, part_.owned()).contiguous();
  const std::vector<at::Tensor> rows =
      round_trip(requests, Traffic::halo, "the halo's layer outputs",
                 [&](int from, const at::Tensor& request) {  // in the table's dtype: sampler.eval_dtype
                   return own_rows.index_select(0, own_local_ids(part_, request, from));
                 });
  for (size_t r = 0; r < sources.size(); ++r) {
    if (!sources[r].empty()) table.index_copy_(0, at::tensor(sources[r], at::kLong), rows[r]);
  }
}

}  // namespace ripple::dist
