// Seeded synthetic graphs, for benchmarks and scale tests.
//
// make_graph: uniform random or RMAT (Graph500 parameters a=0.57, b=0.19, c=0.19, d=0.05, node
// ids permuted so that hubs are spread out); duplicates and self loops are kept as drawn.
// write_generated_dataset: the same graph with random features (standard normal) and labels,
// and a random 60/20/20 split named "random", written in the OGB raw layout the loaders read.
// The output directory appears complete or not at all (written beside it, then renamed);
// an existing directory is refused. Throws InputError for bad arguments and I/O failures.
#pragma once

#include <cstdint>
#include <string>

#include "ripple/graph.h"

namespace ripple {

Graph make_graph(const std::string& kind, int64_t nodes, int64_t edges, uint64_t seed);

struct GenerateOptions {
  std::string kind = "rmat";
  int64_t nodes = 1000;
  int64_t edges = 10000;
  int64_t features = 16;
  int64_t classes = 4;
  uint64_t seed = 1;
};

void write_generated_dataset(const GenerateOptions& options, const std::string& out_dir);

}  // namespace ripple
