// The c10d process group behind Ripple's communication layer. See src/dist/communicator.h.
// This is the one file that includes c10d's headers (compiled with USE_C10D_GLOO).
#include "dist/communicator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <thread>

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

// The first line of a c10d/Gloo message (their messages carry a C++ backtrace after it).
std::string first_line(const std::string& s) {
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
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

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Communicator::Communicator(const WorldInfo& world, std::chrono::milliseconds timeout, LinkModel link)
    : world_(world), link_(link), impl_(std::make_unique<Impl>()) {
  const std::string where = fmt::format("{}:{}", world.master_addr, world.master_port);
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(world.master_port);
  options.isServer = world.rank == 0 && !world.agent_serves_store;
  options.numWorkers = world.world_size;
  options.waitWorkers = false;
  options.timeout = timeout;
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
  // A restarted group rendezvouses under its own prefix.
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(fmt::format("ripple/{}", world.restart_count), impl_->store);
  auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
  try {
    gloo->devices.push_back(gloo_device(world));
    gloo->threads = 2;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.world_size, gloo);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {} of {}: joining the process group at {} failed (did every rank "
                                       "start?): {}", world.rank, world.world_size, where, first_line(e.what())));
  }
}

Communicator::~Communicator() = default;

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
void Communicator::run_collective(const std::string& what, const Run& run) {
  try {
    for (const auto& work : run()) work->wait();
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: {} failed: {}{}", rank(), what, first_line(e.what()), census()));
  }
}

std::string Communicator::census() {
  // Every survivor of a failed collective checks in under one key; who has not within the
  // window is the lost peer. The store lives in rank 0, so rank 0's loss ends the census.
  const auto window = std::chrono::milliseconds(500);
  const std::string prefix = fmt::format("ripple/{}/census/", world_.restart_count);
  std::vector<int> missing;
  try {
    impl_->store->set(prefix + std::to_string(rank()), std::vector<uint8_t>{1});
    const auto deadline = std::chrono::steady_clock::now() + window;
    for (;;) {
      missing.clear();
      for (int r = 0; r < world_size(); ++r) {
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

std::string Communicator::progress_key(int rank) const {
  return fmt::format("ripple/{}/progress/{}", world_.restart_count, rank);
}

void Communicator::report_progress(const std::string& done) {
  const auto start = std::chrono::steady_clock::now();
  try {
    impl_->store->set(progress_key(rank()), std::vector<uint8_t>(done.begin(), done.end()));
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: reporting progress ({}) to rank 0's store failed: {}", rank(), done,
                                       first_line(e.what())));
  }
  count(Traffic::control, static_cast<double>(done.size()), 1, start);
}

void Communicator::all_reduce_sum(const at::Tensor& tensor, Traffic kind, const std::string& what) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> tensors = {tensor};
  run_collective(what, [&] { return std::vector{impl_->group->allreduce(tensors)}; });
  const double n = world_size();
  count(kind, 2 * (n - 1) / n * static_cast<double>(tensor.nbytes()), 2 * (world_size() - 1), start);
}

void Communicator::broadcast(const at::Tensor& tensor, int root, Traffic kind, const std::string& what) {
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
  });
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
  });
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
  });
  count(kind, static_cast<double>(peers.size()) * static_cast<double>(tensor.nbytes()), peers.empty() ? 0 : 1, start);
  std::vector<at::Tensor> out;
  for (auto& r : received) out.push_back(r[0]);
  return out;
}

std::string Communicator::share_from_rank0(const std::string& key, const std::string& value) {
  const auto start = std::chrono::steady_clock::now();
  const std::string full = fmt::format("ripple/{}/{}", world_.restart_count, key);
  std::string out;
  try {
    if (rank() == 0) {
      impl_->store->set(full, std::vector<uint8_t>(value.begin(), value.end()));
      out = value;
    } else {
      const std::vector<uint8_t> got = impl_->store->get(full);
      out.assign(got.begin(), got.end());
    }
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: sharing {} from rank 0 failed: {}", rank(), key, first_line(e.what())));
  }
  count(Traffic::control, rank() == 0 ? static_cast<double>(value.size()) * (world_size() - 1) : 0.0, 1, start);
  return out;
}

}  // namespace ripple::dist
