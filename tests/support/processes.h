// Ripple processes started by the multi-process tests (tests/dist/*_test.cpp): spawned in
// the background, their launcher's rank lines read back, their exit awaited.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/gcn_runs.h"

namespace ripple::testing {

// Starts `ripple <args>` with `env` added, output to `log`; returns its pid.
inline pid_t spawn_ripple(const std::string& args, const std::vector<std::string>& env,
                          const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    const std::string cmd = fmt::format("exec {} {} > {} 2>&1", RIPPLE_BINARY, args, log.string());
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// The exit code of `pid`, or 128 + the signal that ended it. A process still running after
// `limit` is a hang: the test fails, the process gets SIGKILL (a launcher's ranks die with
// it) and the code is -1, so one hang costs the suite `limit` and not ctest's timeout.
inline int wait_exit_code(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(600)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "process " << pid << " still ran after " << limit.count() << " s: killed";
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Kills (SIGKILL) and reaps `pid` at the end of the scope unless `reaped` was set: a test
// that stops at a failed assertion leaves no process running (a launcher's ranks die with it).
struct KillUnlessReaped {
  pid_t pid;
  bool reaped = false;
  ~KillUnlessReaped() {
    if (!reaped && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
  }
};

inline bool alive(pid_t pid) { return kill(pid, 0) == 0; }

// The launcher's "rank R of N pid P" lines in `log`, by rank (waits up to 10 s for them).
inline std::map<int, pid_t> rank_pids(const std::filesystem::path& log, int ranks) {
  std::map<int, pid_t> pids;
  for (int i = 0; i < 500 && static_cast<int>(pids.size()) < ranks; ++i) {
    const std::string text = file_text(log);
    const std::regex line(R"(rank (\d+) of \d+ pid (\d+))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it) {
      pids[std::stoi((*it)[1])] = static_cast<pid_t>(std::stol((*it)[2]));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pids;
}

}  // namespace ripple::testing
