// Entry point of ripple_kernels_bench: sets the thread count as `ripple` does, measures the
// copy bandwidth once (for the copy_frac counters), then runs the selected benchmarks.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <string>

#include "bench_common.h"
#include "ripple/memory.h"
#include "ripple/threads.h"

int main(int argc, char** argv) {
  // Large buffers always come from mmap and go back on free, so peak_MB measures each
  // benchmark's own allocations rather than what glibc kept from an earlier one; those of
  // 2 MiB and more on transparent huge pages, as in the `ripple` binary
  // (RIPPLE_BENCH_SMALL_PAGES=1 keeps LibTorch's allocator, for comparison).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  if (!std::getenv("RIPPLE_BENCH_SMALL_PAGES")) ripple::install_huge_page_allocator();
  const int threads = ripple::set_intra_op_threads();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ripple::bench::measure_startup_copy_bandwidth();
  benchmark::AddCustomContext("ripple_threads", std::to_string(threads));
  benchmark::AddCustomContext("huge_pages", std::getenv("RIPPLE_BENCH_SMALL_PAGES") ? "off" : "on");
  benchmark::AddCustomContext("copy_GBps", std::to_string(ripple::bench::startup_copy_bandwidth() / 1e9));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
