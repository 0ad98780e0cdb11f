// Seeded synthetic graphs for benchmarks: uniform random and RMAT (Graph500 parameters
// a=0.57, b=0.19, c=0.19, d=0.05), node ids permuted so that hubs are spread out.
#pragma once

#include <cstdint>
#include <string>

#include "ripple/graph.h"

namespace ripple::bench {

Graph make_graph(const std::string& kind, int64_t nodes, int64_t edges, uint64_t seed);

}  // namespace ripple::bench
