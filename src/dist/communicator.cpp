// The c10d process group behind Ripple's communication layer: set-up, collectives, byte
// counting, the all-or-none vote and the census. See src/dist/communicator.h; the elastic
// group's membership (regrouping, rejoining) is in membership.cpp.
#include "dist/communicator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "dist/communicator_impl.h"
#include "ripple/error.h"

namespace ripple::dist {
namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// The network device Gloo binds: the interface GLOO_SOCKET_IFNAME names (as in PyTorch), the
// loopback address when the whole group is on this machine, else this host's address.
std::shared_ptr<::gloo::transport::Device> gloo_device(const WorldInfo& w) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (is_loopback(w.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

const char* traffic_name(Traffic kind) {
  switch (kind) {
    case Traffic::gradients: return "gradients";
    case Traffic::parameters: return "parameters";
    case Traffic::features: return "features";
    case Traffic::halo: return "halo";
    case Traffic::control: return "control";
    case Traffic::diagnostics: return "diagnostics";
  }
  return "unknown";
}

double TrafficStats::total_bytes() const {
  double t = 0;
  for (int k = 0; k < kTrafficKinds; ++k) {
    if (static_cast<Traffic>(k) != Traffic::diagnostics) t += bytes[k];
  }
  return t;
}

struct PendingCollective::State {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  at::Tensor input;                              // kept alive while the work runs
  at::Tensor reduced;                            // all-reduce: the tensor summed in place
  std::vector<std::vector<at::Tensor>> gathered;  // all-gather: one tensor per rank
  Traffic kind = Traffic::control;
  double bytes = 0;
  int messages = 0;
  std::string what;
  std::chrono::steady_clock::time_point started;
  ~State() {
    for (const auto& work : works) {
      try {
        work->wait();
      } catch (const std::exception&) {  // unfinished and failed: nobody asks any more
      }
    }
  }
};

PendingCollective::PendingCollective() = default;
PendingCollective::~PendingCollective() = default;
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&&) noexcept = default;

namespace {
// The rendezvous store at MASTER_ADDR:MASTER_PORT, served by rank 0 (or the launcher's agent).
c10d::TCPStoreOptions store_options(const WorldInfo& world, std::chrono::milliseconds timeout, bool serve) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(world.master_port);
  options.isServer = serve;
  options.numWorkers = world.world_size;
  options.waitWorkers = false;
  options.timeout = timeout;
  return options;
}
}  // namespace

Communicator::Communicator(const WorldInfo& world, std::chrono::milliseconds timeout, LinkModel link)
    : world_(world), timeout_(timeout), rank_(world.rank), link_(link), impl_(std::make_unique<Impl>()) {
  MembershipChange started;
  for (int r = 0; r < world.world_size; ++r) {
    started.members.push_back(r);
    lives_[r] = 0;
  }
  membership_.push_back(started);
  const std::string where = fmt::format("{}:{}", world.master_addr, world.master_port);
  const c10d::TCPStoreOptions options = store_options(world, timeout, world.rank == 0 && !world.agent_serves_store);
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  } catch (const std::exception& e) {
    throw InputError(options.isServer
                         ? fmt::format("rank 0: cannot serve the rendezvous at {} (MASTER_ADDR:MASTER_PORT): {}; "
                                       "is the port in use, or the address not this machine's?", where,
                                       first_line(e.what()))
                         : fmt::format("rank {}: cannot reach rank 0's rendezvous at {} (MASTER_ADDR:MASTER_PORT) "
                                       "within {} s: {}", world.rank, where, timeout.count() / 1000.0,
                                       first_line(e.what())));
  }
  // A rank started again to rejoin builds its process group once admitted (await_admission).
  if (world.rejoining) {
    joining_ = true;
    return;
  }
  // A restarted group rendezvouses under its own prefix (and a regrouped one under its
  // generation's, below it).
  join_process_group(fmt::format("ripple/{}", world.restart_count));
}

Communicator::Communicator(const Communicator& parent, const std::string& name, SideTag)
    : world_(parent.world_),
      timeout_(parent.timeout_),
      rank_(parent.rank_),
      membership_(parent.membership_),
      link_(parent.link_),
      lives_(parent.lives_),
      impl_(std::make_unique<Impl>()) {
  const c10d::TCPStoreOptions options = store_options(world_, timeout_, false);
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world_.master_addr, options);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: cannot reach rank 0's rendezvous at {}:{} for the {} group: {}",
                                       rank_, world_.master_addr, world_.master_port, name, first_line(e.what())));
  }
  join_process_group(fmt::format("ripple/{}/side-{}", world_.restart_count, name));
}

std::shared_ptr<Communicator> Communicator::side_group(const std::string& name) {
  auto side = std::shared_ptr<Communicator>(new Communicator(*this, name, SideTag{}));
  sides_.push_back(side);
  return side;
}

TrafficStats Communicator::total_stats() const {
  TrafficStats total = stats_;
  for (const auto& side : sides_) {
    const TrafficStats s = side->total_stats();
    for (size_t k = 0; k < total.bytes.size(); ++k) total.bytes[k] += s.bytes[k];
    total.collectives += s.collectives;
    total.ms += s.ms;
    total.peak_bytes = std::max(total.peak_bytes, s.peak_bytes);
  }
  return total;
}

void Communicator::join_process_group(const std::string& prefix) {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(prefix, impl_->store);
  auto gloo = c10d::ProcessGroupGloo::Options::create(timeout_);
  try {
    gloo->devices.push_back(gloo_device(world_));
    gloo->threads = 2;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank(), world_size(), gloo);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {} of {}: joining the process group (generation {}) at {}:{} failed (did "
                                       "every rank start?): {}", world_.rank, world_size(),
                                       membership_.back().generation, world_.master_addr, world_.master_port,
                                       first_line(e.what())));
  }
}

Communicator::~Communicator() {
  // See "Ending" in the header: a store whose server thread may be blocked is never joined.
  const bool lost_a_rank = std::any_of(membership_.begin(), membership_.end(),
                                       [](const MembershipChange& m) { return !m.lost.empty(); });
  if (impl_ && impl_->store && (std::uncaught_exceptions() > 0 || lost_a_rank)) {
    static_cast<void>(impl_->store.release());
  }
}

void Communicator::count(Traffic kind, double bytes, int messages, std::chrono::steady_clock::time_point start,
                         std::optional<std::chrono::steady_clock::time_point> started) {
  const bool training = kind != Traffic::diagnostics;
  if (link_.mbps > 0 && training) {
    // The transfer starts once the last rank has arrived, which is about when the (fast,
    // loopback) collective returns; waiting for a slower rank does not hide link time. An
    // overlapped collective's transfer ran from its start, beside the computation.
    const double link_ms = messages * link_.latency_ms + bytes * 8 / (link_.mbps * 1e3);
    const double passed_ms =
        started ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *started).count() : 0.0;
    if (link_ms > passed_ms) {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(link_ms - passed_ms));
    }
  }
  stats_.bytes[static_cast<int>(kind)] += bytes;
  if (training && !in_setup_) stats_.peak_bytes = std::max(stats_.peak_bytes, bytes);
  stats_.collectives += 1;
  stats_.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

template <typename Run>
void Communicator::run_collective(const std::string& what, const Run& run, Outcome outcome) {
  std::string failure;
  try {
    if (!impl_->group) throw std::runtime_error("this rank's process group was closed after an earlier failure");
    for (const auto& work : run()) work->wait();
  } catch (const std::exception& e) {
    failure = first_line(e.what());
  }
  // The group is finished after a failure (c10d cannot go on). In an elastic group, closing
  // this rank's connections now makes a peer still waiting on it fail at once rather than at
  // the timeout, before the census and the regroup. (Not otherwise: closing waits for the
  // collectives still in flight, such as ddp's overlapped buckets, which would hold up the
  // census until they time out.)
  if (all_or_none_ && !failure.empty()) impl_->group.reset();
  if (all_or_none_ && outcome == Outcome::agreed && !agree_on_outcome(failure.empty()) && failure.empty()) {
    impl_->group.reset();
    failure = "it finished on this rank but not on every rank (a peer was lost before the end), so no rank keeps it";
  }
  if (!failure.empty()) {
    throw DistributedError(fmt::format("rank {}: {} failed: {}{}", world_.rank, what, failure, census()));
  }
}

bool Communicator::agree_on_outcome(bool finished_here) {
  // One key per collective of the generation; every rank runs the same ones in the same
  // order. The first rank to know the outcome takes the decider's ticket and writes it: a
  // finished rank once every member's "finished" is in (the outcome: kept), a failed rank
  // at once, a finished rank whose window passed without every member's (dropped).
  const std::string key = fmt::format("ripple/{}/outcome-{}-{}/", world_.restart_count,
                                      membership_.back().generation, ++outcomes_);
  const auto members = static_cast<int64_t>(membership_.back().members.size());
  try {
    c10d::TCPStore& store = *impl_->store;
    // The first decision written stands (compareSet on an absent key), so every rank reads
    // the same one: the decider's, or, when the decider was lost between taking its ticket
    // and writing (killed, stopped), "dropped", written by the first rank tired of waiting.
    const auto write_first = [&](bool kept) {
      return as_text(store.compareSet(key + "decision", {}, as_bytes(kept ? "kept" : "dropped"))) == "kept";
    };
    const auto decide = [&](bool kept) {
      if (store.add(key + "decider", 1) == 1) return write_first(kept);
      const auto wait_until = std::chrono::steady_clock::now() + vote_window_ + std::chrono::seconds(2);
      while (!store.check({key + "decision"})) {
        if (std::chrono::steady_clock::now() >= wait_until) return write_first(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return as_text(store.get(key + "decision")) == "kept";
    };
    if (!finished_here) return decide(false);
    if (store.add(key + "finished", 1) == members) return decide(true);
    const auto deadline = std::chrono::steady_clock::now() + vote_window_;
    for (int polls = 0;; ++polls) {
      if (store.check({key + "decision"})) return as_text(store.get(key + "decision")) == "kept";
      if (store.add(key + "finished", 0) == members) return decide(true);
      if (std::chrono::steady_clock::now() >= deadline) return decide(false);
      std::this_thread::sleep_for(std::chrono::microseconds(polls < 100 ? 200 : 5000));
    }
  } catch (const std::exception&) {
    return false;  // rank 0's store no longer answers: the census that follows says so
  }
}

std::string Communicator::census() {
  // Every survivor of a failed collective checks in under one key; who has not within the
  // window is the lost peer. The store lives in rank 0, so rank 0's loss ends the census.
  const auto window = std::chrono::milliseconds(500);
  // A generation of the group ends at its first failure: one census each.
  const std::string prefix = fmt::format("ripple/{}/census-{}/", world_.restart_count, membership_.back().generation);
  std::vector<int> missing;
  try {
    impl_->store->set(prefix + std::to_string(world_.rank), std::vector<uint8_t>{1});
    const auto deadline = std::chrono::steady_clock::now() + window;
    for (;;) {
      missing.clear();
      for (const int r : membership_.back().members) {
        if (!impl_->store->check({prefix + std::to_string(r)})) missing.push_back(r);
      }
      if (missing.empty() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const std::exception&) {
    return "; no census of the other ranks: rank 0's store (the rendezvous) no longer answers, so rank 0 has ended";
  }
  if (missing.empty()) return "";
  std::string last;
  for (const int r : missing) {
    const std::string key = progress_key(r);
    try {
      if (!impl_->store->check({key})) continue;
      const std::vector<uint8_t> got = impl_->store->get(key);
      last += fmt::format("; rank {} last reported: {}", r, std::string(got.begin(), got.end()));
    } catch (const std::exception&) {
      break;
    }
  }
  return fmt::format("; rank(s) {} did not answer within {} ms (lost: dead, stopped or cut off){}",
                     fmt::join(missing, ", "), window.count(), last);
}

std::string Communicator::store_key(const std::string& name) const {
  return fmt::format("ripple/{}/{}", world_.restart_count, name);
}

std::string Communicator::progress_key(int rank, int life) const {
  return life == 0 ? store_key(fmt::format("progress/{}", rank)) : store_key(fmt::format("progress/{}/life-{}", rank, life));
}

std::string Communicator::progress_key(int rank) const {
  const auto it = lives_.find(rank);
  return progress_key(rank, it == lives_.end() ? 0 : it->second);
}

void Communicator::report_progress(const std::string& done) {
  const auto start = std::chrono::steady_clock::now();
  // An elastic group's ranks also report the bytes they sent so far, which the survivors
  // count for a rank that is lost later (lost_rank_reports).
  const std::string sent = all_or_none_ ? fmt::format("{}", fmt::join(stats_.bytes, " ")) : std::string();
  try {
    impl_->store->set(progress_key(world_.rank), as_bytes(done));
    if (!sent.empty()) impl_->store->set(progress_key(world_.rank) + "/bytes", as_bytes(sent));
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: reporting progress ({}) to rank 0's store failed: {}", world_.rank, done,
                                       first_line(e.what())));
  }
  count(Traffic::control, static_cast<double>(done.size() + sent.size()), 1, start);
}

void Communicator::wait_for_ranks(const std::string& key, std::chrono::milliseconds silence) {
  using Clock = std::chrono::steady_clock;
  const std::string prefix = fmt::format("ripple/{}/{}/", world_.restart_count, key);
  const auto start = Clock::now();
  struct Watch {
    std::string report;
    Clock::time_point changed;
  };
  std::map<int, Watch> away;  // ranks not yet arrived: their last report and when it changed
  try {
    impl_->store->set(prefix + std::to_string(world_.rank), as_bytes("arrived"));
    for (const int r : membership_.back().members) away[r] = Watch{"", start};
    while (!away.empty()) {
      const auto now = Clock::now();
      for (auto it = away.begin(); it != away.end();) {
        if (impl_->store->check({prefix + std::to_string(it->first)})) {
          it = away.erase(it);
          continue;
        }
        const std::string report =
            impl_->store->check({progress_key(it->first)}) ? as_text(impl_->store->get(progress_key(it->first))) : "";
        if (report != it->second.report) it->second = Watch{report, now};
        if (now - it->second.changed > silence) {
          throw DistributedError(fmt::format(
              "rank {}: waiting for rank {} ({}): it has reported no progress for {} s (last report: {}); stopped, "
              "hung or cut off", world_.rank, it->first, key,
              std::chrono::duration_cast<std::chrono::seconds>(silence).count(),
              it->second.report.empty() ? "none" : it->second.report));
        }
        ++it;
      }
      if (!away.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    // A peer stopped or cut off in the middle of a request blocks the store (see "Ending" in
    // the header): the ranks still away are the suspects.
    std::vector<int> ranks;
    std::vector<std::string> reports;
    for (const auto& [r, watch] : away) {
      if (r == world_.rank) continue;  // arrived: it set its own key first
      ranks.push_back(r);
      reports.push_back(watch.report.empty() ? "none" : watch.report);
    }
    std::string whom = "the other ranks", last = "no report read";
    if (ranks.size() == 1) {
      whom = fmt::format("rank {}", ranks[0]);
      last = fmt::format("last report: {}", reports[0]);
    } else if (!ranks.empty()) {
      whom = fmt::format("ranks {}", fmt::join(ranks, ", "));
      std::vector<std::string> each;
      for (size_t k = 0; k < ranks.size(); ++k) each.push_back(fmt::format("rank {}: {}", ranks[k], reports[k]));
      last = fmt::format("last reports: {}", fmt::join(each, "; "));
    }
    throw DistributedError(fmt::format("rank {}: waiting for {} ({}): rank 0's store did not answer ({}), as when a "
                                       "rank is stopped or cut off in the middle of a request ({})",
                                       world_.rank, whom, key, first_line(e.what()), last));
  }
}

void Communicator::all_reduce_sum(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> tensors = {tensor};
  run_collective(what, [&] { return std::vector{impl_->group->allreduce(tensors)}; });
  const double n = world_size();
  count(kind, 2 * (n - 1) / n * static_cast<double>(tensor.nbytes()), 2 * (world_size() - 1), start);
}

void Communicator::broadcast(const at::Tensor& tensor, int root, Traffic kind, const std::string& what) {
  if (all_or_none_) {
    // x + 0 + ... + 0 is x, bit for bit (bytes too: nothing carries).
    if (rank() != root) tensor.zero_();
    all_reduce_sum(tensor, kind, what);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> tensors = {tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  run_collective(what, [&] { return std::vector{impl_->group->broadcast(tensors, options)}; });
  const double n = world_size();
  count(kind, (n - 1) / n * static_cast<double>(tensor.nbytes()), world_size() - 1, start);
}

at::Tensor Communicator::all_gather(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> input = {tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < world_size(); ++r) output[0].push_back(at::empty_like(input[0]));
  run_collective(what, [&] { return std::vector{impl_->group->allgather(output, input)}; });
  count(kind, (world_size() - 1) * static_cast<double>(tensor.nbytes()), world_size() - 1, start);
  return at::stack(output[0]);
}

at::Tensor Communicator::gather_rows(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  const at::Tensor counts =
      all_gather(at::tensor({tensor.size(0)}, at::kLong), Traffic::control, what + " (row counts)").view(-1);
  const int64_t longest = counts.max().item<int64_t>();
  std::vector<int64_t> padded_shape = tensor.sizes().vec();
  padded_shape[0] = longest;
  at::Tensor padded = at::zeros(padded_shape, tensor.options());
  padded.narrow(0, 0, tensor.size(0)).copy_(tensor);
  const at::Tensor all = all_gather(padded, kind, what);
  std::vector<at::Tensor> rows;
  for (int r = 0; r < world_size(); ++r) rows.push_back(all[r].narrow(0, 0, counts[r].item<int64_t>()));
  return at::cat(rows);
}

PendingCollective Communicator::start_all_reduce_sum(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  PendingCollective pending;
  auto st = std::make_unique<PendingCollective::State>();
  st->started = std::chrono::steady_clock::now();
  st->reduced = tensor;
  st->input = tensor;
  st->kind = kind;
  const double n = world_size();
  st->bytes = 2 * (n - 1) / n * static_cast<double>(tensor.nbytes());
  st->messages = 2 * (world_size() - 1);
  st->what = what;
  std::vector<at::Tensor> tensors = {tensor};
  run_collective(what, [&] {
    st->works.push_back(impl_->group->allreduce(tensors));
    return std::vector<c10::intrusive_ptr<c10d::Work>>{};  // started, not waited for
  }, Outcome::this_rank);
  pending.state_ = std::move(st);
  return pending;
}

PendingCollective Communicator::start_all_gather(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  PendingCollective pending;
  auto st = std::make_unique<PendingCollective::State>();
  st->started = std::chrono::steady_clock::now();
  st->kind = kind;
  st->bytes = (world_size() - 1) * static_cast<double>(tensor.nbytes());
  st->messages = world_size() - 1;
  st->what = what;
  st->input = tensor.contiguous();
  std::vector<at::Tensor> input = {st->input};
  st->gathered.resize(1);
  for (int r = 0; r < world_size(); ++r) st->gathered[0].push_back(at::empty_like(input[0]));
  run_collective(what, [&] {
    st->works.push_back(impl_->group->allgather(st->gathered, input));
    return std::vector<c10::intrusive_ptr<c10d::Work>>{};
  }, Outcome::this_rank);
  pending.state_ = std::move(st);
  return pending;
}

at::Tensor Communicator::finish(PendingCollective& pending) {
  if (!pending.active()) throw std::logic_error("Communicator::finish: no collective in flight");
  const std::unique_ptr<PendingCollective::State> st = std::move(pending.state_);
  const auto start = std::chrono::steady_clock::now();
  std::vector<c10::intrusive_ptr<c10d::Work>> works = std::move(st->works);
  run_collective(st->what, [&] { return works; });
  count(st->kind, st->bytes, st->messages, start, st->started);
  return st->gathered.empty() ? st->reduced : at::stack(st->gathered[0]);
}

std::vector<at::Tensor> Communicator::exchange(const at::Tensor& tensor, const std::vector<int>& peers, Traffic kind,
                                              const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> send = {tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> received;
  for (size_t i = 0; i < peers.size(); ++i) received.push_back({at::empty_like(send[0])});
  run_collective(what, [&] {
    // Every send is posted before any receive, so two peers naming each other cannot wait on
    // each other. Messages are told apart by their peer (one tag).
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (const int peer : peers) works.push_back(impl_->group->send(send, peer, 0));
    for (size_t i = 0; i < peers.size(); ++i) works.push_back(impl_->group->recv(received[i], peers[i], 0));
    return works;
  }, Outcome::this_rank);
  count(kind, static_cast<double>(peers.size()) * static_cast<double>(tensor.nbytes()), peers.empty() ? 0 : 1, start);
  std::vector<at::Tensor> out;
  for (auto& r : received) out.push_back(r[0]);
  return out;
}

std::vector<at::Tensor> Communicator::all_to_all(const std::vector<at::Tensor>& to_each, Traffic kind,
                                                const std::string& what) {
  const int n = world_size();
  if (static_cast<int>(to_each.size()) != n || to_each[0].dim() == 0) {
    throw std::invalid_argument(fmt::format("all_to_all: expected {} tensors of rows, got {}", n, to_each.size()));
  }
  at::Tensor rows = at::empty({n}, at::kLong);
  for (int r = 0; r < n; ++r) rows[r] = to_each[r].size(0);
  const at::Tensor matrix = all_gather(rows, Traffic::control, what + " (its row counts)");  // [from, to]
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<at::Tensor>> send(n), received(n);
  std::vector<at::Tensor> out(n);
  std::vector<int64_t> shape = to_each[0].sizes().vec();
  double bytes = 0;
  for (int r = 0; r < n; ++r) {
    shape[0] = matrix[r][rank()].item<int64_t>();
    out[r] = r == rank() ? to_each[r].contiguous() : at::empty(shape, to_each[0].options());
    if (r != rank() && to_each[r].numel() > 0) {
      send[r] = {to_each[r].contiguous()};
      bytes += static_cast<double>(to_each[r].nbytes());
    }
    if (r != rank() && out[r].numel() > 0) received[r] = {out[r]};
  }
  run_collective(what, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (int r = 0; r < n; ++r) {
      if (!send[r].empty()) works.push_back(impl_->group->send(send[r], r, 1));
    }
    for (int r = 0; r < n; ++r) {
      if (!received[r].empty()) works.push_back(impl_->group->recv(received[r], r, 1));
    }
    return works;
  }, Outcome::this_rank);
  count(kind, bytes, bytes > 0 ? 1 : 0, start);
  return out;
}

std::string Communicator::share_from_rank0(const std::string& key, const std::string& value) {
  const auto start = std::chrono::steady_clock::now();
  const std::string full = fmt::format("ripple/{}/{}", world_.restart_count, key);
  std::string out;
  try {
    // Stored behind one '=': never an empty value. c10d's TCPStore (PyTorch 1.13) sends a
    // value's length with MSG_MORE and then nothing for an empty one, so that request sits
    // corked in the socket for Linux's 200 ms (an elastic group's per-epoch answer to the
    // ranks waiting to rejoin, pending_joiners, once cost every epoch that).
    if (rank() == 0) {
      std::string stored(1, '=');
      stored += value;
      impl_->store->set(full, as_bytes(stored));
      out = value;
    } else {
      const std::string got = as_text(impl_->store->get(full));
      if (got.empty() || got[0] != '=') throw std::runtime_error("a value not written by share_from_rank0");
      out = got.substr(1);
    }
  } catch (const std::exception& e) {
    throw DistributedError(
        fmt::format("rank {}: sharing {} through rank 0's store failed: {}", rank(), key, first_line(e.what())));
  }
  count(Traffic::control, rank() == 0 ? static_cast<double>(value.size()) * (world_size() - 1) : 0.0, 1, start);
  return out;
}

}  // namespace ripple::dist
