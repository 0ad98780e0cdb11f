#include "bench_common.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "ripple/generate.h"
#include "ripple/reorder.h"

namespace ripple::bench {
namespace {

int64_t env_or(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

double copy_bandwidth = 0;

double status_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field)) / 1024.0;  // kB
  }
  return 0;
}

}  // namespace

const char* graph_name(int64_t variant) {
  static const char* names[] = {"uniform", "rmat", "rmat-int32", "rmat-rcm", "rmat-degree", "uniform-rcm"};
  return names[variant];
}

// Benchmarks run one after another on the main thread, so the cache needs no lock.
const Graph& graph_for(int64_t variant) {
  static std::map<int64_t, std::unique_ptr<Graph>> cache;
  if (auto it = cache.find(variant); it != cache.end()) return *it->second;
  const int64_t nodes = env_or("RIPPLE_BENCH_NODES", 100000), edges = env_or("RIPPLE_BENCH_EDGES", 2000000);
  const bool uniform = variant == 0 || variant == 5;
  std::unique_ptr<Graph> g;
  if (variant == 0 || variant == 1) {
    g = std::make_unique<Graph>(make_graph(uniform ? "uniform" : "rmat", nodes, edges, 1));
  } else {
    const Graph& base = graph_for(uniform ? 0 : 1);
    if (variant == 2) g = std::make_unique<Graph>(base.with_index_type(true));
    if (variant == 3 || variant == 5) g = std::make_unique<Graph>(relabel_nodes(base, reorder_permutation(base, "rcm")));
    if (variant == 4) g = std::make_unique<Graph>(relabel_nodes(base, reorder_permutation(base, "degree")));
  }
  g->csr();
  g->coo();
  return *(cache[variant] = std::move(g));
}

void measure_startup_copy_bandwidth() {
  const int64_t n = 64 << 20;  // 256 MiB each way
  at::Tensor a = at::ones({n}), b = at::empty({n});
  std::vector<double> rates;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const float* src = a.data_ptr<float>();
    float* dst = b.data_ptr<float>();
    at::parallel_for(0, n, 1 << 20, [&](int64_t begin, int64_t end) {
      std::memcpy(dst + begin, src + begin, (end - begin) * sizeof(float));
    });
    benchmark::DoNotOptimize(dst);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(n) * 8 / s);
  }
  std::sort(rates.begin(), rates.end());
  copy_bandwidth = rates[rates.size() / 2];
}

double startup_copy_bandwidth() { return copy_bandwidth; }

void set_traffic(benchmark::State& state, const Graph& g, int64_t f, double passes) {
  const double n = static_cast<double>(g.num_nodes()), e = static_cast<double>(g.num_edges());
  const double b = static_cast<double>(g.csc_indices().element_size());
  const double no_reuse = passes * (e * f * 4 + n * f * 4 + e * b + n * b);
  const double reuse = passes * (2 * n * f * 4 + e * b + n * b);
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(iters * no_reuse));
  state.counters["reuse_GBps"] = benchmark::Counter(iters * reuse / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOPs"] = benchmark::Counter(iters * passes * e * f / 1e9, benchmark::Counter::kIsRate);
  if (copy_bandwidth > 0) {
    state.counters["copy_frac"] = benchmark::Counter(iters * no_reuse / copy_bandwidth, benchmark::Counter::kIsRate);
  }
}

void PeakMemory::reset() {
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
  base_mb_ = status_mb("VmRSS:");
}

double PeakMemory::peak_mb() const { return status_mb("VmHWM:") - base_mb_; }

}  // namespace ripple::bench
