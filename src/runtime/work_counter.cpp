// See src/runtime/work_counter.h.
#include "runtime/work_counter.h"

#include <atomic>

namespace ripple::work {
namespace {
std::atomic<uint64_t> dense_flops{0}, graph_bytes{0};
}  // namespace

void add_dense_flops(uint64_t flops) { dense_flops.fetch_add(flops, std::memory_order_relaxed); }
void add_graph_bytes(uint64_t bytes) { graph_bytes.fetch_add(bytes, std::memory_order_relaxed); }
Totals totals() { return {dense_flops.load(std::memory_order_relaxed), graph_bytes.load(std::memory_order_relaxed)}; }

}  // namespace ripple::work
