// Shared pieces of the micro-benchmarks: the graphs they run on, the traffic model, the
// copy bandwidth measured at start-up, and a peak-memory probe.
//
// Graphs (the "graph" argument): 0 uniform random, 1 RMAT (Graph500 a=0.57 b=0.19 c=0.19,
// node ids randomly permuted), 2 RMAT with int32 indices, 3 RMAT reordered by reverse
// Cuthill-McKee, 4 RMAT reordered by in-degree, 5 uniform reordered by RCM. Sizes from
// RIPPLE_BENCH_NODES / RIPPLE_BENCH_EDGES (default 100k / 2M).
//
// Traffic model for aggregation over E edges of F float features into N rows, with index
// width b (4 or 8 bytes):
//   no reuse:      E*F*4 (every gathered row from memory) + N*F*4 (output) + E*b + N*b
//   perfect reuse: N*F*4 (each input row read once)       + N*F*4 (output) + E*b + N*b
// bytes_per_second (SetBytesProcessed) uses the no-reuse model; counters add reuse_GBps,
// GFLOPs and copy_frac, the no-reuse GB/s as a fraction of the copy bandwidth measured by
// the same process at start-up.
#pragma once

#include <ATen/core/Tensor.h>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "ripple/graph.h"

namespace ripple::bench {

const Graph& graph_for(int64_t variant);
const char* graph_name(int64_t variant);

// Copy bandwidth (bytes read + written per second) measured once at start-up.
double startup_copy_bandwidth();
void measure_startup_copy_bandwidth();

// Sets bytes (no-reuse model, `passes` aggregations of width f) and the counters.
void set_traffic(benchmark::State& state, const Graph& g, int64_t f, double passes = 1);

// Peak resident memory growth of a block of work: reset() before it, peak_mb() after.
class PeakMemory {
 public:
  void reset();
  double peak_mb() const;  // VmHWM now minus VmRSS at reset
 private:
  double base_mb_ = 0;
};

}  // namespace ripple::bench
