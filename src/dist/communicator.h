// Ripple's communication layer over c10d (internal): one process group per run, the
// collectives the strategies use, and a count of the bytes each rank sends, by kind.
//
// Joining: rank 0 serves a TCPStore at MASTER_ADDR:MASTER_PORT (under torchrun, its agent
// does), every rank connects to it
// and the ranks build a Gloo process group (ProcessGroupGloo, TCP) through it. The store's
// keys carry a prefix, so a later group (after a lost peer) can rendezvous on the same store.
//
// Bytes are counted per rank as what the bandwidth-optimal ring algorithms send, the ones
// Gloo's and NCCL's large collectives use: an all-reduce of S bytes over N ranks sends
// 2 (N-1)/N S, an all-gather of S bytes per rank (N-1) S, a broadcast of S bytes
// (N-1)/N S on average; a point-to-point exchange of S bytes with P peers sends P S. The TCP headers and Gloo's own handshakes are not counted.
//
// A simulated link (LinkModel, dist.link_mbps): after each collective returns (every rank
// has arrived, and the loopback transfer is done), the rank waits the time its counted bytes
// take at that rate plus the latency of each message it sends in sequence (2 (N-1) for an
// all-reduce, N-1 for an all-gather or a broadcast). Time spent waiting for a slower rank
// does not hide link time. So time over a slow link is measured on one machine (slightly
// over, by the loopback transfer).
//
// A collective can also be started and finished later (start_all_reduce_sum,
// start_all_gather, finish), so that its transfer overlaps with computation; on the simulated
// link, finish waits only for what of the link time has not passed since the start.
//
// Errors: the constructor throws InputError when rank 0 cannot serve the rendezvous (a port
// in use, an address not of this machine) or a rank cannot reach it, and DistributedError
// when a peer does not join within the timeout. A collective that fails (a peer died,
// stopped or timed out) throws DistributedError naming this rank, `what` it was doing and
// the ranks that did not answer a census through the store (within 0.5 s), with the last
// progress each reported (report_progress); the group is unusable afterwards, unless
// regroup() rebuilds it from the ranks that still answer.
//
// Elastic groups (dist.elastic, set_all_or_none): a failed collective closes this rank's
// connections at once (so a peer still waiting on it fails too, within milliseconds instead
// of the timeout), and every survivor then calls regroup(). It checks in under the next
// generation's key in the store. The first to check in decides: it waits until every member has checked in or
// `window` has passed, and names the new members, those that checked in, in their old
// order. They must all have failed in the same step (the caller's `position`, counted alike
// on every rank), else regroup throws DistributedError rather than let the models part. That
// holds because an elastic group's collectives are all or none (set_all_or_none): a
// collective can finish on some ranks and fail on others (a peer lost in its last phase;
// Gloo's broadcast is the root's sends, one by one), so each rank then tells the store
// whether its own finished, and the first rank to know decides for all: kept when every
// member's finished, dropped when one failed or did not tell within the window. A rank
// whose collective finished but was dropped throws as a failed one does. Broadcasts run as
// all-reduces there too. The new
// process group rendezvouses under the generation's own store prefix, as c10d requires. A
// rank that checks in after the decision was left out and throws. The store lives in rank
// 0's process (the first as started), so an elastic group cannot lose rank 0: the survivors
// then throw naming it.
//
// Rejoining (WorldInfo::rejoining): a rank started again after the group lost it connects
// to the store only and asks to be admitted (await_admission). At the end of an epoch the
// members ask rank 0 which ranks wait (pending_joiners) and admit them (admit): the next
// generation adds them in their old place, rank 0 hands each one the group's state (the
// strategy's text) under the joiner's ticket, and every member and joiner builds the new
// generation's process group. A rank's progress reports are kept per life (as started: 0;
// each rejoin adds one), so a lost life's last report still counts after the rank rejoined.
//
// Ending: c10d's store server (PyTorch 1.13) reads each request to its end on one thread, so
// a peer stopped or cut off in the middle of sending one blocks it for good; the other
// ranks' store calls then fail after the timeout (the store's sockets have it as their
// receive timeout), and destroying the store would wait on that thread forever. So a
// communicator destroyed while an exception is in flight, or after its group lost a rank,
// leaves the store (its thread and sockets) to the end of the process.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/world.h"

namespace ripple::dist {

// What a collective carries, for the byte counters. `diagnostics` is what a strategy sends
// only to report on itself (gossip's consensus distance and its merged model's per-epoch
// evaluation): training would not need it, so it waits for no simulated link and stays out
// of peak_bytes (and out of summary.json's training total).
enum class Traffic { gradients, parameters, features, halo, control, diagnostics };
inline constexpr int kTrafficKinds = 6;
const char* traffic_name(Traffic kind);

struct TrafficStats {
  std::array<double, kTrafficKinds> bytes{};  // by Traffic
  int64_t collectives = 0;
  double ms = 0;          // wall time inside collectives, waiting included
  double peak_bytes = 0;  // the most one collective sent while training (diagnostics and set-up aside)
  double total_bytes() const;  // every kind but diagnostics
};

// A link slower than the real one, simulated by waiting (0 Mbit/s: none).
struct LinkModel {
  double mbps = 0;
  double latency_ms = 0;
};

// What a rank of an elastic group last reported before it was lost
// (Communicator::lost_rank_reports): the bytes it had sent by Traffic kind, and its progress.
struct LostRankReport {
  std::array<double, kTrafficKinds> bytes{};
  std::string progress;  // "finished the training steps of unit 0, epoch 12"
};

// One change of an elastic group's membership (Communicator::regroup).
struct MembershipChange {
  int generation = 0;        // 0: the group as started; each regroup adds one
  std::vector<int> members;  // the ranks (numbered as started) of the group from then on
  std::vector<int> lost;     // the ranks that did not check in
  std::vector<int> joined;   // the ranks admitted again after they were lost (Communicator::admit)
  std::string cause;         // what started it: a failure, or "rank(s) R rejoined" (empty for generation 0)
  std::string proof;         // a rejoin: the parameter hash the joiners showed equal to their peers' (hex)
};

// How long rank 0 watches a waiting joiner's liveness count (it counts every 50 ms).
inline constexpr std::chrono::milliseconds kJoinerLivenessWait{500};

// A rank waiting to rejoin (Communicator::pending_joiners): its rank as started and the
// ticket of its request.
struct Joiner {
  int rank = 0;
  int64_t ticket = 0;
};

class Communicator;

// A collective in flight (Communicator::start_all_reduce_sum, start_all_gather): its tensors
// must stay untouched until Communicator::finish. Move-only; one that is never finished is
// waited for when destroyed (its failure then goes unreported).
class PendingCollective {
 public:
  PendingCollective();
  ~PendingCollective();
  PendingCollective(PendingCollective&&) noexcept;
  PendingCollective& operator=(PendingCollective&&) noexcept;
  bool active() const { return state_ != nullptr; }

 private:
  friend class Communicator;
  struct State;
  std::unique_ptr<State> state_;
};

class Communicator {
 public:
  Communicator(const WorldInfo& world, std::chrono::milliseconds timeout, LinkModel link = {});
  ~Communicator();
  // A second process group of the same ranks, with its own connection to the rendezvous,
  // for collectives that run in another thread beside this group's (dist.remote = "fetch"
  // fetches the next batch while this one trains). Every rank calls it at the same point
  // (it connects the ranks); not for elastic groups. total_stats() counts its bytes.
  std::shared_ptr<Communicator> side_group(const std::string& name);
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  // This rank and the group's size now: as started, until a regroup drops ranks (the
  // survivors are then numbered 0..n-1 in their old order).
  int rank() const { return rank_; }
  int world_size() const { return static_cast<int>(membership_.back().members.size()); }
  // The group as started: world().rank is this process's rank under the launcher.
  const WorldInfo& world() const { return world_; }
  std::chrono::milliseconds timeout() const { return timeout_; }  // dist.timeout_s
  // Every generation of the group, the first as started.
  const std::vector<MembershipChange>& membership() const { return membership_; }
  // Elastic groups: rebuilds the process group from the ranks that check in within `window`
  // after the failure `cause` (see the top of this file). Returns the new generation.
  // DistributedError when this rank was left out, the survivors had stopped in different
  // steps, or rank 0's store no longer answers.
  const MembershipChange& regroup(const std::string& cause, std::chrono::milliseconds window, int64_t position);
  // The rejoining rank (WorldInfo::rejoining) until it is admitted: it holds no process
  // group, so it runs no collective before await_admission.
  bool joining() const { return joining_; }
  // The joiner: asks to be admitted into unit `unit` and waits until the members admit it,
  // then joins their new generation's process group. Returns the group's state, the text
  // rank 0's admit() handed it. DistributedError when rank 0's progress report does not
  // change for `silence` (the group stopped), when the group has moved past `unit`, or when
  // rank 0's store no longer answers (the run ended first).
  std::string await_admission(int64_t unit, std::chrono::milliseconds silence);
  // Every member, at the same point: the ranks waiting to rejoin into `unit`, as rank 0
  // found them (shared through the store under `key`, new at each call): those whose
  // waiting loop counts on while rank 0 looks (kJoinerLivenessWait), so a request left by a
  // joiner that died is not answered.
  std::vector<Joiner> pending_joiners(int64_t unit, const std::string& key);
  // Every member, at the same point: the next generation adds `joiners` (from
  // pending_joiners); rank 0 hands each one `state`. Then every member builds the new
  // generation's process group, the joiners too. DistributedError as join_process_group.
  const MembershipChange& admit(const std::vector<Joiner>& joiners, const std::string& state);
  // The parameter hash the last admission's joiners proved (summary.json's membership).
  void set_rejoin_proof(const std::string& hash) { membership_.back().proof = hash; }
  // Elastic groups: rank 0 records the unit the group trains now, so that a joiner started
  // later skips the units before it (group_unit, the same through the store; -1: none yet).
  void publish_unit(int64_t unit);
  int64_t group_unit();
  // From now on every collective of the group (not exchange(), not a start) finishes on
  // every rank or on none when a peer is lost: the ranks agree on its outcome through the
  // store, a finished rank waiting up to `window` for the others'. broadcast() runs as an
  // all-reduce (the non-root ranks add zeros; counted as an all-reduce).
  void set_all_or_none(std::chrono::milliseconds window) {
    all_or_none_ = true;
    vote_window_ = window;
  }

  // In place: the element-wise sum over the ranks. `tensor` must be contiguous.
  void all_reduce_sum(const at::Tensor& tensor, Traffic kind, const std::string& what);
  // In place: rank `root`'s values on every rank.
  void broadcast(const at::Tensor& tensor, int root, Traffic kind, const std::string& what);
  // Every rank's `tensor`, stacked: [world_size, tensor.sizes()...].
  at::Tensor all_gather(const at::Tensor& tensor, Traffic kind, const std::string& what);
  // Every rank's rows, concatenated in rank order: the ranks' `tensor`s share dtype and
  // trailing shape but may differ in row count (0 included). The counts travel first (an
  // all-gather of one int64, control bytes), then the rows padded to the longest.
  at::Tensor gather_rows(const at::Tensor& tensor, Traffic kind, const std::string& what);
  // all_reduce_sum and all_gather, started now and finished by finish(): the work goes on in
  // Gloo's threads while this one computes. Collectives must still be started in the same
  // order on every rank.
  PendingCollective start_all_reduce_sum(const at::Tensor& tensor, Traffic kind, const std::string& what);
  PendingCollective start_all_gather(const at::Tensor& tensor, Traffic kind, const std::string& what);
  // Waits for `pending` (then inactive) and counts it. Returns the all-reduced tensor (the
  // one given, now summed) or the gathered [world_size, ...] stack. Throws DistributedError
  // as the blocking collectives do.
  at::Tensor finish(PendingCollective& pending);
  // Point to point: sends `tensor` to each of `peers` (distinct ranks, not this one) and
  // receives from each a tensor of the same shape and type, returned in the order of
  // `peers`. Every peer must call exchange naming this rank at the same point. The sends
  // run side by side: one message's latency on the simulated link.
  std::vector<at::Tensor> exchange(const at::Tensor& tensor, const std::vector<int>& peers, Traffic kind,
                                   const std::string& what);
  // Personalized all-to-all: sends `to_each[r]` to rank r (one entry per rank, this rank's
  // own included, which is not sent) and returns what each rank sent this one, in rank
  // order. The entries may differ in their first dimension (and be empty) but share dtype
  // and trailing shape across every rank. The row counts travel first (an all-gather of
  // one int64 per pair, control bytes), then the non-empty pieces point to point, side by
  // side: each piece counted as its bytes, one message's latency on the simulated link.
  std::vector<at::Tensor> all_to_all(const std::vector<at::Tensor>& to_each, Traffic kind, const std::string& what);
  // Rank 0's `value` on every rank (through the store; control bytes).
  std::string share_from_rank0(const std::string& key, const std::string& value);
  // Records in the store what this rank last finished ("unit 0, epoch 12"); a failure's
  // census names it for each rank that no longer answers. In an elastic group also the
  // bytes this rank has sent so far, by kind.
  void report_progress(const std::string& done);
  // Waits until every rank has called wait_for_ranks with this `key` (through the store, no
  // collective: ranks may arrive hours apart). A rank still away must keep reporting
  // progress: DistributedError naming it and its last report when its report has not
  // changed for `silence` (a stopped or hung rank), or when rank 0's store stops answering.
  void wait_for_ranks(const std::string& key, std::chrono::milliseconds silence);
  // Elastic groups: the last report of each rank lost so far (as started), for those that
  // reported; what a lost rank sent after its last report is not known. DistributedError
  // when rank 0's store no longer answers.
  std::map<int, LostRankReport> lost_rank_reports();

  const TrafficStats& stats() const { return stats_; }
  // stats() with those of the side groups added (call while they are idle).
  TrafficStats total_stats() const;
  // While true, collectives are set-up (the start of a unit: the initial parameters or a
  // checkpoint sent to every rank): counted in bytes, left out of peak_bytes, which is
  // meant as the largest message of training itself (Streaming DiLoCo's peak per sync).
  void set_in_setup(bool in_setup) { in_setup_ = in_setup; }

 private:
  struct Impl;
  WorldInfo world_;
  std::chrono::milliseconds timeout_;
  int rank_ = 0;
  std::vector<MembershipChange> membership_;
  TrafficStats stats_;
  LinkModel link_;
  bool in_setup_ = false;
  bool all_or_none_ = false;
  bool joining_ = false;
  std::map<int, int> lives_;                 // rank as started -> its life (0 as started; +1 per rejoin)
  std::vector<std::pair<int, int>> lost_lives_;  // (rank, life) of every loss, in order
  std::chrono::milliseconds vote_window_{0};
  int64_t outcomes_ = 0;  // collectives of this generation whose outcome the ranks agreed on
  std::unique_ptr<Impl> impl_;
  std::vector<std::shared_ptr<Communicator>> sides_;
  struct SideTag {};
  Communicator(const Communicator& parent, const std::string& name, SideTag);
  // Counts a finished collective that sent `bytes` in `messages` sequential messages, first
  // waiting out what the simulated link would still take.
  // `started`: when an overlapped collective was started; the link time already passed since
  // then is not waited again.
  void count(Traffic kind, double bytes, int messages, std::chrono::steady_clock::time_point start,
             std::optional<std::chrono::steady_clock::time_point> started = std::nullopt);
  // Whether run_collective settles the outcome with the other ranks (all_or_none_): a
  // collective every rank runs, or one whose outcome is this rank's own (point-to-point
  // sends, a collective only started).
  enum class Outcome { agreed, this_rank };
  // Runs c10d collectives (or sends and receives) and waits for them all; a failure becomes a
  // DistributedError naming `what`.
  template <typename Run>
  void run_collective(const std::string& what, const Run& run, Outcome outcome = Outcome::agreed);
  // All-or-none groups: tells the store whether the collective finished here and returns
  // whether it is kept, the same answer on every rank (kept only when it finished on all).
  bool agree_on_outcome(bool finished_here);
  // After a failed collective: which ranks no longer answer and what they last reported,
  // as a clause for the message.
  std::string census();
  std::string progress_key(int rank) const;  // `rank` as started, in its present life
  std::string progress_key(int rank, int life) const;
  std::string store_key(const std::string& name) const;  // "ripple/<restart>/<name>"
  // Builds the process group of generation membership_.back() through the store.
  void join_process_group(const std::string& prefix);
};

}  // namespace ripple::dist
