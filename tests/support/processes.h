// Ripple processes started by the multi-process tests (tests/dist/*_test.cpp): spawned in
// the background, their launcher's rank lines read back, their exit awaited.
#pragma once

#include <fmt/format.h>
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

// The exit code of `pid`, or 128 + the signal that ended it.
inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

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
