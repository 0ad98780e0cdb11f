// What every distributed strategy shares. See src/dist/group_strategy.h.
#include "dist/group_strategy.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include <signal.h>
#include <unistd.h>

#include "ripple/error.h"
#include "train/checkpoint.h"
#include "train/files.h"
#include "train/task.h"

namespace ripple::dist {

uint64_t bytes_hash(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

GroupStrategy::GroupStrategy(Communicator& comm, bool reduce_metrics, std::function<void(const std::string&)> log)
    : comm_(comm), partitioned_(reduce_metrics), reduce_metrics_(reduce_metrics), log_(std::move(log)) {}

void GroupStrategy::set_elastic(std::chrono::milliseconds window) {
  regroup_window_ = window;
  comm_.set_all_or_none(window);
  // A lost peer leaves closed sockets behind: a send to one must fail with EPIPE, which the
  // regroup handles, not raise SIGPIPE and end this survivor too (seen under load in
  // DiLoCo.ElasticSurvivorsOfALostRankMatchTheReferenceLoopWithoutIt).
  ::signal(SIGPIPE, SIG_IGN);
}

void GroupStrategy::survive(const std::string& at, const std::function<void()>& step) {
  const int64_t position = ++steps_;
  // Each regroup loses a rank or gives up, except a first one that finds everybody back
  // (a failure that was no peer's loss): a bounded number of attempts.
  for (int attempt = 0;; ++attempt) {
    try {
      step();
      return;
    } catch (const DistributedError& e) {
      if (!regroup_window_ || attempt > comm_.world().world_size) throw;
      const MembershipChange& now = comm_.regroup(e.what(), *regroup_window_, position);
      if (log_) {
        log_(fmt::format("rank {}: the group lost rank(s) {} at {}; it goes on as ranks {} (generation {}, this rank "
                         "now {} of {})", comm_.world().rank, fmt::join(now.lost, ", "), at,
                         fmt::join(now.members, ", "), now.generation, comm_.rank(), comm_.world_size()));
      }
    }
  }
}

std::optional<train::Shard> GroupStrategy::new_shard() {
  // Partitioned data: each part stays with its rank. A unit's task starts with the shares
  // of the group as started, so a changed group hands out its own at each unit's start too.
  const int64_t generation = comm_.membership().back().generation;
  if (partitioned_ || generation == 0) return std::nullopt;
  if (shard_generation_ == generation && shard_unit_ == unit_) return std::nullopt;
  shard_generation_ = generation;
  shard_unit_ = unit_;
  if (log_) {
    log_(fmt::format("rank {}: trains on share {} of {} of the training examples from this epoch on",
                     comm_.world().rank, comm_.rank() + 1, comm_.world_size()));
  }
  return train::Shard{comm_.rank(), comm_.world_size()};
}

std::string GroupStrategy::where(int64_t epoch, int64_t step) const {
  return fmt::format("unit {}, epoch {}, step {}", unit_, epoch, step);
}

at::Tensor GroupStrategy::broadcast_bytes(const std::string& bytes, Traffic kind, const std::string& what) {
  const at::Tensor size = at::tensor({static_cast<int64_t>(bytes.size())}, at::kLong);
  comm_.broadcast(size, 0, Traffic::control, fmt::format("broadcast of the size of {}", what));
  at::Tensor buffer = at::empty({size.item<int64_t>()}, at::kByte);
  if (buffer.numel() == 0) return buffer;
  if (comm_.rank() == 0) std::copy(bytes.begin(), bytes.end(), buffer.data_ptr<uint8_t>());
  comm_.broadcast(buffer, 0, kind, fmt::format("broadcast of {}", what));
  return buffer;
}

void GroupStrategy::begin_unit(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state,
                              const std::filesystem::path& checkpoint, int64_t unit) {
  unit_ = unit;
  model_ = &model;
  state_ = &state;
  if (comm_.joining()) {
    rejoin(model, optimizer, state);
    return;
  }
  if (elastic()) comm_.publish_unit(unit);
  comm_.set_in_setup(true);
  // Rank 0's checkpoint as bytes (empty: a fresh start), its size first.
  const std::string bytes = comm_.rank() == 0 && !checkpoint.empty() ? train::read_file(checkpoint) : std::string();
  at::Tensor buffer;
  survive(fmt::format("the start of unit {}", unit), [&] {
    buffer = broadcast_bytes(bytes, Traffic::parameters, fmt::format("rank 0's checkpoint (unit {})", unit));
    if (buffer.numel() == 0) {
      // The model was built from the same seed on every rank; rank 0's copy makes sure
      // (rank 0 is the same process before and after a regroup).
      comm_.broadcast(optimizer.flat_params(), 0, Traffic::parameters,
                      fmt::format("broadcast of the initial parameters (unit {})", unit));
    }
  });
  comm_.set_in_setup(false);
  if (buffer.numel() > 0 && comm_.rank() != 0) load_broadcast_checkpoint(buffer, model, optimizer, state);
  start_unit(model, optimizer, state);
}

bool GroupStrategy::skips_unit(int64_t unit) { return comm_.joining() && unit < comm_.group_unit(); }

void GroupStrategy::rejoin(torch::nn::Module& model, train::FlatAdam& optimizer, train::TrainState& state) {
  if (log_) log_(fmt::format("rank {}: waits to rejoin the group in unit {}", comm_.world().rank, unit_));
  const std::string text = comm_.await_admission(unit_, comm_.timeout());
  int64_t phase = 0;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    steps_ = j.at("position").get<int64_t>();
    phase = j.at("phase").get<int64_t>();
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: rank 0's admission holds a malformed state ({})", comm_.world().rank,
                                       e.what()));
  }
  hand_over_state("", comm_.membership().back().joined, optimizer, &state, nullptr);
  start_unit(model, optimizer, state);
  set_round_phase(phase);
}

void GroupStrategy::leave_evaluation(train::FlatAdam& optimizer) {
  if (elastic()) admit_joiners(optimizer);
  resume_training(optimizer);
}

void GroupStrategy::admit_joiners(train::FlatAdam& optimizer) {
  const std::vector<Joiner> joiners =
      comm_.pending_joiners(unit_, fmt::format("rejoin/decision-unit-{}-epoch-{}-generation-{}", unit_, state_->epoch,
                                               comm_.membership().back().generation));
  if (joiners.empty()) return;
  // What the joiners take: the position in survive()'s count and the round schedule's, then
  // rank 0's checkpoint, written here as the loop writes one.
  const std::string record = nlohmann::json{{"position", steps_}, {"phase", round_phase()}}.dump();
  std::string checkpoint;
  if (comm_.rank() == 0) {
    const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                       fmt::format("ripple-{}-admission-unit-{}.pt", getpid(), unit_);
    train::save_checkpoint(path, *model_, optimizer, *state_);
    checkpoint = train::read_file(path);
    std::filesystem::remove(path);
  }
  std::vector<int> joined;
  for (const Joiner& j : joiners) joined.push_back(j.rank);
  // Admitted within the hand-over's step: a joiner lost before it connects fails the new
  // group's rendezvous (at dist.timeout_s), and the members then regroup without it.
  hand_over_state(checkpoint, joined, optimizer, nullptr, [&] {
    const MembershipChange& change = comm_.admit(joiners, record);
    if (log_) {
      log_(fmt::format("rank {}: admits rank(s) {} after epoch {} of unit {}; the group goes on as ranks {} "
                       "(generation {}, this rank now {} of {})", comm_.world().rank, fmt::join(change.joined, ", "),
                       state_->epoch, unit_, fmt::join(change.members, ", "), change.generation, comm_.rank(),
                       comm_.world_size()));
    }
  });
}

void GroupStrategy::hand_over_state(const std::string& checkpoint, const std::vector<int>& joined,
                                    train::FlatAdam& optimizer, train::TrainState* load_into,
                                    const std::function<void()>& admit) {
  const std::string names = fmt::format("{}", fmt::join(joined, ", "));
  comm_.set_in_setup(true);
  at::Tensor buffer;
  bool admitted = admit == nullptr;
  survive(fmt::format("the admission of rank(s) {}", names), [&] {
    if (!admitted) {
      admitted = true;  // once: a regroup after it has a new generation already
      admit();
    }
    // Rank 0's checkpoint to the joiners only (an all-to-all whose other pieces are empty),
    // closed by an all-reduce: point-to-point sends have no all-or-none outcome of their own.
    const std::vector<int>& members = comm_.membership().back().members;
    std::vector<at::Tensor> to_each(members.size(), at::empty({0}, at::kByte));
    if (comm_.rank() == 0) {
      const at::Tensor bytes = at::empty({static_cast<int64_t>(checkpoint.size())}, at::kByte);
      std::copy(checkpoint.begin(), checkpoint.end(), bytes.data_ptr<uint8_t>());
      for (size_t i = 0; i < members.size(); ++i) {
        if (std::find(joined.begin(), joined.end(), members[i]) != joined.end()) to_each[i] = bytes;
      }
    }
    buffer = comm_.all_to_all(to_each, Traffic::parameters,
                              fmt::format("rank 0's checkpoint to rank(s) {} (unit {})", names, unit_))[0];
    comm_.all_reduce_sum(at::zeros({1}, at::kDouble), Traffic::control,
                         fmt::format("all-reduce closing the admission of rank(s) {}", names));
  });
  if (load_into) load_broadcast_checkpoint(buffer, *model_, optimizer, *load_into);
  // The proof: every rank's hash of the parameters it holds now (the evaluated model).
  const at::Tensor& params = optimizer.flat_params();
  const uint64_t value = bytes_hash(params.data_ptr(), params.nbytes());
  at::Tensor all;
  survive(fmt::format("the parameter hashes of the admission of rank(s) {}", names), [&] {
    all = comm_.all_gather(at::tensor({static_cast<int64_t>(value)}, at::kLong), Traffic::control,
                           fmt::format("all-gather of the parameter hashes (admission of rank(s) {})", names));
  });
  comm_.set_in_setup(false);
  const std::vector<int>& members = comm_.membership().back().members;
  const auto hash_of = [&](int i) { return static_cast<uint64_t>(all[i][0].item<int64_t>()); };
  for (int i = 0; i < comm_.world_size(); ++i) {
    const bool joiner = std::find(joined.begin(), joined.end(), members[static_cast<size_t>(i)]) != joined.end();
    if ((joiner || ranks_agree_at_end()) && hash_of(i) != hash_of(0)) {
      throw DistributedError(fmt::format("rank {}: after the admission of rank(s) {} the parameters of rank {} differ "
                                         "from rank 0's (hash {:016x} vs {:016x})", comm_.world().rank, names,
                                         members[static_cast<size_t>(i)], hash_of(i), hash_of(0)));
    }
  }
  const std::string hash = fmt::format("{:016x}", hash_of(0));
  // (A joiner lost during the hand-over leaves a generation of survivors, with nothing to prove.)
  if (!comm_.membership().back().joined.empty()) comm_.set_rejoin_proof(hash);
  if (log_ && (load_into || comm_.rank() == 0)) {
    log_(fmt::format("rank {}: rank(s) {} rejoined in unit {} after epoch {} (generation {}); parameter hash {} equal "
                     "to {}", comm_.world().rank, names, unit_, state_->epoch, comm_.membership().back().generation,
                     hash, ranks_agree_at_end() ? "every peer's" : "rank 0's"));
  }
}

void GroupStrategy::load_broadcast_checkpoint(const at::Tensor& buffer, torch::nn::Module& model,
                                              train::FlatAdam& optimizer, train::TrainState& state) {
  // The other ranks load the same bytes through the same (validated) reader.
  const std::filesystem::path local = std::filesystem::temp_directory_path() /
                                      fmt::format("ripple-{}-rank-{}-unit-{}.pt", getpid(), comm_.rank(), unit_);
  const auto* p = buffer.data_ptr<uint8_t>();
  train::write_file_atomic(local, std::string(p, p + buffer.numel()));
  try {
    train::load_checkpoint(local, model, optimizer, state);
  } catch (...) {
    std::filesystem::remove(local);
    throw;
  }
  std::filesystem::remove(local);
}

void GroupStrategy::enter_evaluation(train::FlatAdam& optimizer) {
  prepare_evaluation(optimizer);
  if (reduce_metrics_ || gather_evaluation_) share_buffers();
}

void GroupStrategy::share_buffers() {
  std::vector<at::Tensor> buffers;
  for (const at::Tensor& b : model_->buffers()) {
    if (b.is_floating_point()) buffers.push_back(b);
  }
  if (buffers.empty()) return;  // the same model on every rank: all skip alike
  at::NoGradGuard no_grad;
  survive(fmt::format("the buffers of unit {}", unit_), [&] {
    std::vector<at::Tensor> flat;
    for (const at::Tensor& b : buffers) flat.push_back(b.reshape(-1).to(at::kFloat));
    const at::Tensor all = at::cat(flat);
    comm_.broadcast(all, 0, Traffic::parameters, fmt::format("broadcast of rank 0's buffers (unit {})", unit_));
    int64_t offset = 0;
    for (const at::Tensor& b : buffers) {
      b.copy_(all.narrow(0, offset, b.numel()).view(b.sizes()));
      offset += b.numel();
    }
  });
}

void GroupStrategy::agree_on_metrics(Metrics& metrics, int64_t epoch) {
  comm_.report_progress(fmt::format("finished the training steps of unit {}, epoch {}", unit_, epoch));
  const std::string at = fmt::format("unit {}, epoch {}", unit_, epoch);
  const Metrics own = metrics;
  survive(fmt::format("the metrics of {}", at), [&] {
    metrics = own;
    agree_on_task_metrics(metrics, at);
  });
  add_metrics(metrics);
}

void GroupStrategy::agree_on_task_metrics(Metrics& metrics, const std::string& where) {
  if (reduce_metrics_) {
    // Every rank holds the same names (the same task); sum the values in name order.
    std::vector<double> values;
    for (const auto& [name, v] : metrics) values.push_back(v);
    const at::Tensor sums = at::tensor(values, at::kDouble);
    comm_.all_reduce_sum(sums, Traffic::control, fmt::format("all-reduce of the ranks' metric sums ({})", where));
    Metrics summed;
    size_t i = 0;
    for (const auto& [name, v] : metrics) summed[name] = sums[static_cast<int64_t>(i++)].item<double>();
    metrics.clear();
    const std::string suffix = train::kMetricWeightSuffix;
    for (const auto& [name, v] : summed) {
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) continue;
      const auto weight = summed.find(name + suffix);
      metrics[name] = weight == summed.end() ? v : (weight->second > 0 ? v / weight->second : 0.0);
    }
    return;
  }
  std::string text;
  if (comm_.rank() == 0) text = nlohmann::json(metrics).dump();
  const at::Tensor size = at::tensor({static_cast<int64_t>(text.size())}, at::kLong);
  comm_.broadcast(size, 0, Traffic::control, fmt::format("broadcast of rank 0's metrics ({})", where));
  const at::Tensor bytes = at::empty({size.item<int64_t>()}, at::kByte);
  if (comm_.rank() == 0) std::copy(text.begin(), text.end(), bytes.data_ptr<uint8_t>());
  comm_.broadcast(bytes, 0, Traffic::control, fmt::format("broadcast of rank 0's metrics ({})", where));
  const auto* p = bytes.data_ptr<uint8_t>();
  metrics = nlohmann::json::parse(p, p + bytes.numel()).get<Metrics>();
}

void GroupStrategy::end_unit(train::FlatAdam& optimizer, int64_t unit) {
  finish_unit(optimizer);
  const at::Tensor& params = optimizer.flat_params();  // contiguous: FlatAdam's one buffer
  const uint64_t value = bytes_hash(params.data_ptr(), params.nbytes());
  const std::string hash = fmt::format("{:016x}", value);
  if (log_) log_(fmt::format("rank {}: unit {} parameters hash {}", comm_.world().rank, unit, hash));
  hashes_.push_back(hash);
  if (!ranks_agree_at_end()) return;
  const at::Tensor mine = at::tensor({static_cast<int64_t>(value)}, at::kLong);
  at::Tensor all;
  survive(fmt::format("the end of unit {}", unit), [&] {
    all = comm_.all_gather(mine, Traffic::control, fmt::format("all-gather of the parameter hashes (unit {})", unit));
  });
  for (int r = 1; r < comm_.world_size(); ++r) {
    if (all[r][0].item<int64_t>() != all[0][0].item<int64_t>()) {
      throw DistributedError(fmt::format("rank {}: after unit {} the parameters of rank {} differ from rank 0's "
                                         "(hash {:016x} vs {:016x})", comm_.rank(), unit, r,
                                         static_cast<uint64_t>(all[r][0].item<int64_t>()),
                                         static_cast<uint64_t>(all[0][0].item<int64_t>())));
    }
  }
}

}  // namespace ripple::dist
