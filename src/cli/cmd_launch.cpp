// `ripple launch`: starts the local ranks of a distributed run (docs/distributed.md), the way
// torchrun does for Python, without Python, ssh or a shared file system.
//
//   ripple launch --nproc N [--nnodes M --node-rank R --master HOST:PORT] [--max-restarts K] -- train ...
//
// Each rank is this binary run with the command after `--`, with RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT and TORCHELASTIC_RESTART_COUNT set (and
// OMP_NUM_THREADS = cores / N unless set). On one node without --master it picks a free
// loopback port. SIGINT, SIGTERM and SIGHUP are forwarded to every rank. When a rank fails
// (a non-zero exit or a signal) the others get a grace period to notice the lost peer and
// report it themselves, then SIGKILL (which also ends a stopped process); every rank dies
// with the launcher (PR_SET_PDEATHSIG), so no rank is ever left running. The exit code is the worst of the
// ranks that ended on their own (a signal s counts as 128 + s), after every rank has exited.
// With --max-restarts K, a failed group (not one ended by a forwarded signal) is started
// again up to K times, with TORCHELASTIC_RESTART_COUNT counting the restarts; the ranks
// then resume from the run directory's last checkpoint (src/train/trainer.cpp).
// With --elastic (for runs with dist.elastic = true) a rank killed by a signal the launcher
// did not forward is reported and left out: the others are not torn down, they regroup and
// go on (src/dist/communicator.h), and its code does not count. A rank that exits with an
// error code still ends the group as above. Once rank 0 (on this node) has finished with
// code 0, the ranks still running (dropped by the group while stopped or cut off) get the
// grace period, then SIGKILL; their codes do not count either. With --max-rejoins K as well, a
// rank other than 0 lost that way is started again (at most K times in all) with RIPPLE_REJOIN=1:
// it rejoins the running group at the end of one of its epochs (src/dist/group_strategy.h). A
// rank started again that fails (the run ended before it was admitted, say) is reported, and
// its code does not count.
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "ripple/error.h"

namespace ripple::cli {
namespace {

struct LaunchOptions {
  int nproc = 1, nnodes = 1, node_rank = 0;
  std::string master;
  int max_restarts = 0;
  double grace_s = 3;
  bool elastic = false;
  int max_rejoins = 0;
  std::vector<std::string> command;
};

volatile std::sig_atomic_t received_signal = 0;
void remember_signal(int s) { received_signal = s; }

// A loopback port nobody listens on now (the kernel's choice for port 0).
int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw InputError(fmt::format("launch: cannot open a socket to find a free port: {}", std::strerror(errno)));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(fd);
  if (!ok) throw InputError("launch: cannot find a free loopback port; give --master HOST:PORT");
  return ntohs(a.sin_port);
}

std::pair<std::string, int> parse_master(const std::string& s) {
  const size_t colon = s.rfind(':');
  int port = 0;
  if (colon != std::string::npos && colon > 0) {
    try {
      size_t used = 0;
      port = std::stoi(s.substr(colon + 1), &used);
      if (used != s.size() - colon - 1) port = 0;
    } catch (const std::exception&) {
      port = 0;
    }
  }
  if (port < 1 || port > 65535) throw InputError(fmt::format("--master \"{}\": expected HOST:PORT with a port in 1..65535", s));
  return {s.substr(0, colon), port};
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with code {}", WEXITSTATUS(status));
}

struct Outcome {
  int code = 0;              // the worst code of the ranks that ended on their own
  int forwarded_signal = 0;  // a signal the launcher received and passed on
};

// Starts this node's ranks as restart `attempt` and waits until every one has exited.
Outcome run_group(const LaunchOptions& o, char* self, int world, const std::string& master_addr, int master_port,
                  const std::string& threads, int attempt) {
  const pid_t launcher = getpid();
  std::map<pid_t, int> running;  // pid -> rank
  std::set<pid_t> rejoiners;     // started again to rejoin
  int rejoins = 0;
  // Starts rank `rank` (local index `local`); `rejoin`: started again after the group lost it.
  const auto start_rank = [&](int rank, int local, bool rejoin) {
    const pid_t pid = fork();
    if (pid < 0) {
      for (const auto& [other, r] : running) kill(other, SIGKILL);
      throw InputError(fmt::format("launch: cannot start rank {}: {}", rank, std::strerror(errno)));
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the launcher
      if (getppid() != launcher) _exit(1);
      for (const int s : {SIGINT, SIGTERM, SIGHUP}) signal(s, SIG_DFL);
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
      setenv("MASTER_ADDR", master_addr.c_str(), 1);
      setenv("MASTER_PORT", std::to_string(master_port).c_str(), 1);
      setenv("TORCHELASTIC_RESTART_COUNT", std::to_string(attempt).c_str(), 1);
      setenv("OMP_NUM_THREADS", threads.c_str(), 1);
      if (rejoin) setenv("RIPPLE_REJOIN", "1", 1);
      std::vector<char*> argv;
      argv.push_back(self);
      for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(self, argv.data());
      fmt::print(stderr, "ripple launch: rank {}: cannot execute {}: {}\n", rank, self, std::strerror(errno));
      _exit(127);
    }
    running[pid] = rank;
    if (rejoin) rejoiners.insert(pid);
    fmt::print(stderr, "ripple launch: rank {} of {} pid {} (rendezvous {}:{}, restart {}{})\n", rank, world, pid,
               master_addr, master_port, attempt, rejoin ? fmt::format(", rejoin {} of {}", rejoins, o.max_rejoins) : "");
  };
  for (int local = 0; local < o.nproc; ++local) start_rank(o.node_rank * o.nproc + local, local, false);

  using Clock = std::chrono::steady_clock;
  Outcome out;
  bool tearing_down = false;
  std::set<pid_t> killed_by_launcher;  // their codes do not count
  Clock::time_point kill_at{};
  while (!running.empty()) {
    if (received_signal != 0 && received_signal != out.forwarded_signal) {
      out.forwarded_signal = received_signal;
      for (const auto& [pid, rank] : running) kill(pid, out.forwarded_signal);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      const int rank = running[pid];
      running.erase(pid);
      const int code = status_code(status);
      if (o.elastic && WIFSIGNALED(status) && out.forwarded_signal == 0 && !tearing_down) {
        fmt::print(stderr, "ripple launch: rank {} {}; --elastic: the other ranks go on without it\n", rank,
                   describe(status));
        if (rank != 0 && rejoins < o.max_rejoins) {
          ++rejoins;
          fmt::print(stderr, "ripple launch: starting rank {} again to rejoin the group\n", rank);
          start_rank(rank, rank - o.node_rank * o.nproc, true);
        }
        continue;
      }
      if (rejoiners.count(pid) && code != 0 && !tearing_down && out.forwarded_signal == 0) {
        fmt::print(stderr, "ripple launch: rank {} (started again to rejoin) {}; the other ranks go on without it\n",
                   rank, describe(status));
        continue;
      }
      if (o.elastic && rank == 0 && code == 0 && !tearing_down && !running.empty()) {
        // Rank 0 ends last in a finished run, after every member's last collective: who
        // still runs was dropped by the group (a stopped rank, say).
        fmt::print(stderr, "ripple launch: rank 0 finished; rank(s) still running get {} s to end, then SIGKILL "
                           "(dropped by the group, their codes do not count)\n", o.grace_s);
        tearing_down = true;
        kill_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000));
        continue;
      }
      if (code != 0 && !tearing_down) {
        fmt::print(stderr, "ripple launch: rank {} {}; the other ranks get {} s to end, then SIGKILL\n", rank,
                   describe(status), o.grace_s);
        tearing_down = true;
        kill_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000));
      } else if (code != 0) {
        fmt::print(stderr, "ripple launch: rank {} {}\n", rank, describe(status));
      }
      if (!killed_by_launcher.count(pid)) out.code = std::max(out.code, code);
      continue;
    }
    if (tearing_down && Clock::now() >= kill_at) {
      for (const auto& [other, r] : running) {
        kill(other, SIGKILL);
        killed_by_launcher.insert(other);
      }
      kill_at = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return out;
}

int run_launch(const LaunchOptions& o) {
  if (o.command.empty()) throw InputError("launch: give the command to run after --, e.g. -- train --config x.toml");
  if (o.node_rank >= o.nnodes) {
    throw InputError(fmt::format("--node-rank {} must be below --nnodes {}", o.node_rank, o.nnodes));
  }
  if (o.max_rejoins > 0 && !o.elastic) throw InputError("--max-rejoins needs --elastic (a group that drops lost ranks)");
  if (o.nnodes > 1 && o.master.empty()) throw InputError("--nnodes > 1 needs --master HOST:PORT (node 0's address)");
  const int world = o.nnodes * o.nproc;
  const std::string threads = std::getenv("OMP_NUM_THREADS")
                                  ? std::string(std::getenv("OMP_NUM_THREADS"))
                                  : std::to_string(std::max(1u, std::thread::hardware_concurrency() / o.nproc));
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw InputError(fmt::format("launch: cannot find this executable: {}", std::strerror(errno)));
  self[n] = '\0';

  struct sigaction sa{};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);

  for (int attempt = 0;; ++attempt) {
    // One node without --master: a fresh port each attempt (the last one may linger).
    const auto [master_addr, master_port] =
        o.master.empty() ? std::pair<std::string, int>{"127.0.0.1", free_loopback_port()} : parse_master(o.master);
    const Outcome outcome = run_group(o, self, world, master_addr, master_port, threads, attempt);
    if (outcome.code == 0 || outcome.forwarded_signal != 0 || attempt >= o.max_restarts) {
      return outcome.forwarded_signal != 0 ? 128 + outcome.forwarded_signal : outcome.code;
    }
    fmt::print(stderr, "ripple launch: restarting every rank (restart {} of {})\n", attempt + 1, o.max_restarts);
  }
}

}  // namespace

Action add_launch_command(CLI::App& app) {
  auto o = std::make_shared<LaunchOptions>();
  CLI::App* cmd = app.add_subcommand("launch", "Run a training command as N local ranks of a distributed group "
                                               "(docs/distributed.md)");
  cmd->add_option("--nproc", o->nproc, "Ranks to start on this node")->required()->check(CLI::Range(1, 1024));
  cmd->add_option("--nnodes", o->nnodes, "Nodes of the group (each runs its own launcher)")->check(CLI::Range(1, 65536));
  cmd->add_option("--node-rank", o->node_rank, "This node's index, 0..nnodes-1")->check(CLI::NonNegativeNumber);
  cmd->add_option("--master", o->master, "HOST:PORT of rank 0's rendezvous (default: a free loopback port, one node)");
  cmd->add_option("--max-restarts", o->max_restarts,
                  "Restart every rank this many times after a failure; the ranks resume from the last checkpoint "
                  "(train.checkpoint_every) when the command names its --run-dir")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--grace", o->grace_s, "Seconds the other ranks get to end after one fails, before SIGKILL")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_flag("--elastic", o->elastic,
                "A rank killed by a signal is dropped instead of ending the group: the others regroup and go on "
                "(for runs with dist.elastic = true)");
  cmd->add_option("--max-rejoins", o->max_rejoins,
                  "With --elastic: start a rank the group lost (other than rank 0) again to rejoin it, at most this "
                  "many times in all")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("command", o->command, "The ripple command each rank runs, after --")->required();
  return [o] { return run_launch(*o); };
}

}  // namespace ripple::cli
