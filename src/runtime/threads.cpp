#include "ripple/threads.h"

#include <ATen/Parallel.h>
#include <sched.h>

#include <cstdlib>
#include <thread>

namespace ripple {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

int set_intra_op_threads(int64_t requested) {
  int threads = 0;
  if (requested > 0) {
    threads = static_cast<int>(requested);
  } else if (const char* env = std::getenv("OMP_NUM_THREADS"); env && std::atoi(env) > 0) {
    threads = std::atoi(env);
  } else {
    threads = available_cores();
  }
  at::set_num_threads(threads);
  return threads;
}

}  // namespace ripple
