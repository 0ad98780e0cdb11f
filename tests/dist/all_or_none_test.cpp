// Elastic groups' all-or-none collectives (Communicator::set_all_or_none): a collective that
// finished on some ranks but not on every rank is kept by none, so the survivors of a lost
// peer stay in the same step and regroup together; and a regroup whose decider is lost.
// One thread per rank on loopback.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "dist/communicator.h"
#include "ripple/error.h"
#include "support/ports.h"

namespace ripple::dist {
namespace {

// Runs body(comm, rank) on one thread per rank, each with the Communicator of its rank in one
// group on loopback; an exception out of a thread is the test's failure.
void on_rank_threads(int ranks, const std::function<void(Communicator&, int)>& body) {
  const int port = testing::free_port();
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      WorldInfo world;
      world.rank = r;
      world.world_size = ranks;
      world.master_port = port;
      try {
        Communicator comm(world, std::chrono::seconds(30));
        body(comm, r);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "rank " << r << ": " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
}

struct RankResult {
  std::string first_error;  // the first all-reduce's DistributedError, if any
  at::Tensor kept;          // what the all-reduce left, the group's or the regrouped one's
  std::vector<int> members;  // after the regroup
};

// Rank 2 of 3 runs the all-reduce without taking part in the agreement (its Communicator is
// not all-or-none) and leaves before it: for ranks 0 and 1 the collective finished, yet a
// member never confirmed it. Both drop it, regroup without rank 2 (in the same step), and
// the all-reduce run again sums their two values only.
TEST(AllOrNone, ACollectiveThatARankNeverConfirmedIsDroppedOnEveryRankAndRunAgain) {
  std::vector<RankResult> results(3);
  on_rank_threads(3, [&](Communicator& comm, int r) {
    const auto window = std::chrono::milliseconds(1500);
    if (r != 2) comm.set_all_or_none(window);
    const at::Tensor mine = at::full({4}, static_cast<float>(1 << r), at::kFloat);
    at::Tensor sum = mine.clone();
    try {
      comm.all_reduce_sum(sum, Traffic::control, "the all-reduce under test");
    } catch (const DistributedError& e) {
      results[r].first_error = e.what();
      results[r].members = comm.regroup(e.what(), window, 1).members;
      sum = mine.clone();
      comm.all_reduce_sum(sum, Traffic::control, "the all-reduce run again");
    }
    results[r].kept = sum;
    // Rank 2 stays a moment before it leaves (its connections close with the Communicator),
    // so that its last sends of the all-reduce are surely read.
    if (r == 2) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  });
  for (const int r : {0, 1}) {
    SCOPED_TRACE(r);
    EXPECT_NE(results[r].first_error.find("the all-reduce under test failed: it finished on this rank but not on "
                                          "every rank"),
              std::string::npos)
        << results[r].first_error;
    EXPECT_EQ(results[r].members, (std::vector<int>{0, 1}));
    EXPECT_TRUE(at::equal(results[r].kept, at::full({4}, 3.0f, at::kFloat))) << results[r].kept;
  }
  // Rank 2 kept the first all-reduce: only an all-or-none rank drops an unconfirmed one.
  EXPECT_TRUE(results[2].first_error.empty()) << results[2].first_error;
  EXPECT_TRUE(at::equal(results[2].kept, at::full({4}, 7.0f, at::kFloat)));
}

// Every rank confirms: the collective is kept everywhere, and the agreement is the only
// difference from a plain group (the same sums).
TEST(AllOrNone, ACollectiveEveryRankFinishedIsKept) {
  std::vector<at::Tensor> sums(3);
  on_rank_threads(3, [&](Communicator& comm, int r) {
    comm.set_all_or_none(std::chrono::milliseconds(1500));
    for (int round = 1; round <= 5; ++round) {
      at::Tensor sum = at::full({4}, static_cast<float>(round * (r + 1)), at::kFloat);
      comm.all_reduce_sum(sum, Traffic::control, "an all-reduce");
      at::Tensor b = at::full({2}, static_cast<float>(r == 1 ? round : -1), at::kFloat);
      comm.broadcast(b, 1, Traffic::control, "a broadcast");
      sums[r] = at::cat({sum, b});
    }
  });
  const at::Tensor expected = at::cat({at::full({4}, 30.0f, at::kFloat), at::full({2}, 5.0f, at::kFloat)});
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(sums[r].defined() && at::equal(sums[r], expected)) << "rank " << r << ": " << sums[r];
  }
}

// The first survivor to check in decides the new group. Here a store client posing as
// rank 7 takes that ticket and never decides (a decider lost while regrouping): the
// survivors give up after twice the window and a margin, naming it, instead of waiting on
// the store until its timeout and blaming rank 0.
TEST(AllOrNone, ARegroupWhoseDeciderIsLostFailsNamingIt) {
  std::vector<std::string> errors(2);
  std::atomic<int> finished{0};
  on_rank_threads(2, [&](Communicator& comm, int r) {
    const auto window = std::chrono::milliseconds(200);
    comm.set_all_or_none(window);
    const at::Tensor barrier = at::zeros({1}, at::kFloat);
    comm.all_reduce_sum(barrier, Traffic::control, "a barrier");
    if (r == 0) {
      c10d::TCPStoreOptions options;
      options.port = static_cast<uint16_t>(comm.world().master_port);
      options.isServer = false;
      options.waitWorkers = false;
      c10d::TCPStore impostor("127.0.0.1", options);
      const std::string key = "ripple/0/generation-1/";
      impostor.add(key + "arrivals", 1);
      const std::string ticket = "7 5";
      impostor.set(key + "ticket-1", std::vector<uint8_t>(ticket.begin(), ticket.end()));
    }
    comm.all_reduce_sum(barrier, Traffic::control, "a second barrier");
    try {
      comm.regroup("a failure under test", window, 5);
    } catch (const DistributedError& e) {
      errors[r] = e.what();
    }
    // Rank 0's Communicator holds the store: it must outlive rank 1's regroup, which may
    // still be polling it (CI once saw rank 1 fail with "rank 0's store no longer answers").
    ++finished;
    while (finished.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(errors[r].find("regrouping after a lost peer failed: rank 7, the first to check in, which decides the "
                             "new group, did not decide within 5400 ms (lost while regrouping); the failure: a "
                             "failure under test"),
              std::string::npos)
        << "rank " << r << ": " << errors[r];
  }
}

}  // namespace
}  // namespace ripple::dist
