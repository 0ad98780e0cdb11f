// An elastic group's membership (see src/dist/communicator.h): regrouping after a lost
// peer, the lost ranks' last reports, and rejoining (a restarted rank's wait, rank 0's look
// at the requests, the admission).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <thread>

#include "dist/communicator_impl.h"
#include "ripple/error.h"

namespace ripple::dist {
namespace {

// The first survivor to check in under `key` decides the next generation (see
// communicator.h): once `expected` have checked in or `window` has passed, the text
// "members R1 R2 ..." (ranks as started, in order), or "error: ..." when they stopped in
// different steps. The store's exceptions pass through.
std::string decide_members(c10d::TCPStore& store, const std::string& key, int64_t expected,
                           std::chrono::milliseconds window) {
  const auto deadline = std::chrono::steady_clock::now() + window;
  while (store.add(key + "arrivals", 0) < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int64_t arrived = store.add(key + "arrivals", 0);
  std::vector<std::pair<int, int64_t>> seen;  // (rank as started, its position)
  for (int64_t t = 1; t <= arrived; ++t) {
    const std::string entry = as_text(store.get(key + "ticket-" + std::to_string(t)));
    const size_t space = entry.find(' ');
    seen.emplace_back(std::stoi(entry.substr(0, space)), std::stoll(entry.substr(space + 1)));
  }
  std::sort(seen.begin(), seen.end());
  std::string decision = "members";
  for (const auto& [r, n] : seen) {
    if (n != seen.front().second) {
      return fmt::format("error: rank {} stopped in step {} and rank {} in step {} (a peer was lost while some ranks "
                         "finished a step the others did not; the models would part)",
                         seen.front().first, seen.front().second, r, n);
    }
    decision += ' ';
    decision += std::to_string(r);
  }
  return decision;
}

}  // namespace

const MembershipChange& Communicator::regroup(const std::string& cause, std::chrono::milliseconds window,
                                              int64_t position) {
  impl_->group.reset();  // closed already when the failure was a collective's
  const int next = membership_.back().generation + 1;
  const std::string key = fmt::format("ripple/{}/generation-{}/", world_.restart_count, next);
  std::string decision;
  try {
    c10d::TCPStore& store = *impl_->store;
    const int64_t ticket = store.add(key + "arrivals", 1);
    store.set(key + "ticket-" + std::to_string(ticket), as_bytes(fmt::format("{} {}", world_.rank, position)));
    if (ticket == 1) {
      decision = decide_members(store, key, static_cast<int64_t>(membership_.back().members.size()), window);
      store.set(key + "decision", as_bytes(decision));
    } else {
      // The decider takes at most the window; twice it and a margin, and it was lost itself.
      const auto deadline = std::chrono::steady_clock::now() + 2 * window + std::chrono::seconds(5);
      while (!store.check({key + "decision"}) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!store.check({key + "decision"})) {
        const std::string first =
            store.check({key + "ticket-1"}) ? as_text(store.get(key + "ticket-1")) : std::string("?");
        decision = fmt::format("error: rank {}, the first to check in, which decides the new group, did not decide "
                               "within {} ms (lost while regrouping)",
                               first.substr(0, first.find(' ')),
                               std::chrono::duration_cast<std::chrono::milliseconds>(2 * window).count() + 5000);
      } else {
        decision = as_text(store.get(key + "decision"));
      }
    }
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: regrouping after a lost peer failed: rank 0's store (the rendezvous) "
                                       "no longer answers, so rank 0 has ended, and an elastic group cannot go on "
                                       "without it ({}); the failure: {}", world_.rank, first_line(e.what()), cause));
  }
  if (decision.rfind("error: ", 0) == 0) {
    throw DistributedError(fmt::format("rank {}: regrouping after a lost peer failed: {}; the failure: {}", world_.rank,
                                       decision.substr(7), cause));
  }
  MembershipChange change;
  change.generation = next;
  change.cause = cause;
  std::istringstream words(decision.substr(std::string("members").size()));
  for (int r = 0; words >> r;) change.members.push_back(r);
  for (const int r : membership_.back().members) {
    if (std::find(change.members.begin(), change.members.end(), r) == change.members.end()) {
      change.lost.push_back(r);
      lost_lives_.emplace_back(r, lives_[r]);
    }
  }
  const auto me = std::find(change.members.begin(), change.members.end(), world_.rank);
  if (me == change.members.end()) {
    throw DistributedError(fmt::format("rank {}: left out of the regrouped group (ranks {}): it checked in after the "
                                       "others' window of {} ms (dist.regroup_window_s); the failure: {}", world_.rank,
                                       fmt::join(change.members, ", "), window.count(), cause));
  }
  rank_ = static_cast<int>(me - change.members.begin());
  membership_.push_back(change);
  outcomes_ = 0;
  join_process_group(fmt::format("ripple/{}/generation-{}/group", world_.restart_count, next));
  return membership_.back();
}

std::map<int, LostRankReport> Communicator::lost_rank_reports() {
  std::map<int, LostRankReport> out;
  // A rank lost in two lives counts both: the bytes add up, the progress is the last life's.
  for (const auto& [r, life] : lost_lives_) {
    try {
      const std::string key = progress_key(r, life);
      if (!impl_->store->check({key + "/bytes"})) continue;
      LostRankReport report;
      report.progress = as_text(impl_->store->get(key));
      std::istringstream words(as_text(impl_->store->get(key + "/bytes")));
      for (double& b : report.bytes) words >> b;
      if (words.fail()) continue;  // not a report this build wrote
      const auto earlier = out.find(r);
      if (earlier != out.end()) {
        for (size_t k = 0; k < report.bytes.size(); ++k) report.bytes[k] += earlier->second.bytes[k];
      }
      out[r] = report;
    } catch (const std::exception& e) {
      throw DistributedError(fmt::format("rank {}: reading lost rank {}'s last report from rank 0's store failed: {}",
                                         world_.rank, r, first_line(e.what())));
    }
  }
  return out;
}

void Communicator::publish_unit(int64_t unit) {
  if (rank() != 0) return;
  try {
    impl_->store->set(store_key("rejoin/unit"), as_bytes(std::to_string(unit)));
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank 0: recording unit {} in the store failed: {}", unit, first_line(e.what())));
  }
}

int64_t Communicator::group_unit() {
  try {
    const std::string key = store_key("rejoin/unit");
    return impl_->store->check({key}) ? std::stoll(as_text(impl_->store->get(key))) : -1;
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: reading the group's unit from rank 0's store failed (the run has "
                                       "ended?): {}", world_.rank, first_line(e.what())));
  }
}

std::string Communicator::await_admission(int64_t unit, std::chrono::milliseconds silence) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::string record;
  try {
    c10d::TCPStore& store = *impl_->store;
    const int64_t ticket = store.add(store_key("rejoin/tickets"), 1);
    store.set(store_key(fmt::format("rejoin/request-{}", world_.rank)), as_bytes(fmt::format("{} {}", unit, ticket)));
    const std::string admitted = store_key(fmt::format("rejoin/admitted-{}", ticket));
    const std::string alive = store_key(fmt::format("rejoin/alive-{}", ticket));
    std::string report;  // rank 0's last progress report, and when it changed
    auto changed = Clock::now();
    while (!store.check({admitted})) {
      store.add(alive, 1);  // rank 0 admits only a joiner whose count goes up while it looks
      const std::string now_report = store.check({progress_key(0, 0)}) ? as_text(store.get(progress_key(0, 0))) : "";
      if (now_report != report) {
        report = now_report;
        changed = Clock::now();
      }
      if (Clock::now() - changed > silence) {
        throw DistributedError(fmt::format("rank {}: waiting to rejoin the group: rank 0 has reported no progress for "
                                           "{} s (last report: {})", world_.rank,
                                           std::chrono::duration_cast<std::chrono::seconds>(silence).count(),
                                           report.empty() ? "none" : report));
      }
      const int64_t at = group_unit();
      if (at > unit) {
        throw DistributedError(fmt::format("rank {}: waiting to rejoin the group in unit {}: the group finished that "
                                           "unit first and trains unit {}; start this rank again to join that one",
                                           world_.rank, unit, at));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    record = as_text(store.get(admitted));
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: waiting to rejoin the group through rank 0's store failed: {}; the "
                                       "run has ended, or rank 0 with it", world_.rank, first_line(e.what())));
  }
  MembershipChange change;
  std::string state;
  try {
    const nlohmann::json j = nlohmann::json::parse(record);
    change.generation = j.at("generation").get<int>();
    change.members = j.at("members").get<std::vector<int>>();
    change.joined = j.at("joined").get<std::vector<int>>();
    change.cause = j.at("cause").get<std::string>();
    for (const auto& [r, life] : j.at("lives").items()) lives_[std::stoi(r)] = life.get<int>();
    state = j.at("state").get<std::string>();
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: rank 0's admission is malformed ({})", world_.rank, e.what()));
  }
  const auto me = std::find(change.members.begin(), change.members.end(), world_.rank);
  if (me == change.members.end()) {
    throw DistributedError(fmt::format("rank {}: rank 0's admission leaves this rank out", world_.rank));
  }
  rank_ = static_cast<int>(me - change.members.begin());
  membership_.push_back(change);
  outcomes_ = 0;
  joining_ = false;
  count(Traffic::control, static_cast<double>(record.size()), 1, start);
  join_process_group(store_key(fmt::format("generation-{}/group", change.generation)));
  return state;
}

std::vector<Joiner> Communicator::pending_joiners(int64_t unit, const std::string& key) {
  std::string found;  // "rank ticket ..." of the live requests for `unit` from ranks not in the group
  if (rank() == 0) {
    const std::vector<int>& members = membership_.back().members;
    try {
      std::vector<std::pair<Joiner, int64_t>> requests;  // each with its liveness count now
      for (int r = 1; r < world_.world_size; ++r) {
        const std::string request = store_key(fmt::format("rejoin/request-{}", r));
        if (std::find(members.begin(), members.end(), r) != members.end() || !impl_->store->check({request})) continue;
        std::istringstream words(as_text(impl_->store->get(request)));
        int64_t wanted = -1, ticket = 0;
        if (!(words >> wanted >> ticket) || wanted != unit) continue;
        requests.push_back({Joiner{r, ticket}, impl_->store->add(store_key(fmt::format("rejoin/alive-{}", ticket)), 0)});
      }
      // Alive: its waiting loop counted on within kJoinerLivenessWait (a request left by a
      // joiner that died stays unanswered). Paid only at an epoch's end with a request.
      if (!requests.empty()) std::this_thread::sleep_for(kJoinerLivenessWait);
      for (const auto& [joiner, before] : requests) {
        if (impl_->store->add(store_key(fmt::format("rejoin/alive-{}", joiner.ticket)), 0) > before) {
          found += fmt::format("{}{} {}", found.empty() ? "" : " ", joiner.rank, joiner.ticket);
        }
      }
    } catch (const std::exception& e) {
      throw DistributedError(fmt::format("rank 0: reading the requests to rejoin from the store failed: {}",
                                         first_line(e.what())));
    }
  }
  std::istringstream words(share_from_rank0(key, found));
  std::vector<Joiner> out;
  for (Joiner j; words >> j.rank >> j.ticket;) out.push_back(j);
  return out;
}

const MembershipChange& Communicator::admit(const std::vector<Joiner>& joiners, const std::string& state) {
  const auto start = std::chrono::steady_clock::now();
  MembershipChange change;
  change.generation = membership_.back().generation + 1;
  change.members = membership_.back().members;
  std::vector<std::string> names;
  for (const Joiner& j : joiners) {
    change.members.push_back(j.rank);
    change.joined.push_back(j.rank);
    names.push_back(std::to_string(j.rank));
    lives_[j.rank] += 1;
  }
  std::sort(change.members.begin(), change.members.end());
  change.cause = fmt::format("rank(s) {} rejoined", fmt::join(names, ", "));
  if (rank() == 0) {
    nlohmann::json lives = nlohmann::json::object();
    for (const int r : change.members) lives[std::to_string(r)] = lives_[r];
    const std::string record = nlohmann::json{{"generation", change.generation}, {"members", change.members},
                                              {"joined", change.joined}, {"cause", change.cause}, {"lives", lives},
                                              {"state", state}}.dump();
    try {
      for (const Joiner& j : joiners) {
        impl_->store->deleteKey(store_key(fmt::format("rejoin/request-{}", j.rank)));
        impl_->store->set(store_key(fmt::format("rejoin/admitted-{}", j.ticket)), as_bytes(record));
      }
    } catch (const std::exception& e) {
      throw DistributedError(fmt::format("rank 0: admitting rank(s) {} through the store failed: {}",
                                         fmt::join(names, ", "), first_line(e.what())));
    }
    count(Traffic::control, static_cast<double>(record.size() * joiners.size()), 1, start);
  }
  rank_ = static_cast<int>(std::find(change.members.begin(), change.members.end(), world_.rank) -
                           change.members.begin());
  membership_.push_back(change);
  outcomes_ = 0;
  impl_->group.reset();
  join_process_group(store_key(fmt::format("generation-{}/group", change.generation)));
  return membership_.back();
}

}  // namespace ripple::dist
