// Counts the work a model does, by kind, for the roofline of `ripple bench` (internal):
// dense FLOPs (the layers' matrix products, forward and the backward products autograd
// will run for them) and graph bytes (what the graph kernels move under a no-reuse model:
// the graph arrays once, a gathered source row once per edge, edge rows once, destination
// rows and outputs once). Process-wide relaxed atomics, one add per product or kernel call.
// Elementwise work (activations, dropout, bias) is not counted, so a bound computed from
// these counts is a lower bound on the time.
#pragma once

#include <cstdint>

namespace ripple::work {

void add_dense_flops(uint64_t flops);
void add_graph_bytes(uint64_t bytes);

struct Totals {
  uint64_t dense_flops = 0, graph_bytes = 0;
};
Totals totals();

}  // namespace ripple::work
