// Seeded synthetic graphs, for benchmarks and scale tests.
//
// make_graph: uniform random or RMAT (Graph500 parameters a=0.57, b=0.19, c=0.19, d=0.05, node
// ids permuted so that hubs are spread out); duplicates and self loops are kept as drawn.
// write_generated_dataset: the same graph with random features (standard normal) and labels,
// and a random split named "random" (each node train, valid or test with probability 0.6,
// 0.2, 0.2), written in the OGB raw layout the loaders read or in the native format.
// Kind "csbm" is a learnable graph instead (a contextual stochastic block model, see
// src/io/csbm.h): labels are blocks, each node's incoming edges come from its own block
// with probability `p_in`, and features are signal * mu[label] + N(0, 1) noise, so that
// neighbours carry label information that a model without edges cannot see.
// Every kind is generated destination by destination (src/io/random_graph.h,
// src/io/csbm.h) and streams to disk with memory for a chunk of nodes plus one or two ids
// per node, whatever the edge count.
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
  std::string format = "ogb";             // ogb or native
  std::string feature_dtype = "float32";  // native only: float32, float16 or bfloat16
  double p_in = 0.8;                      // csbm: probability that an edge stays within its block
  double signal = 0.1;                    // csbm: weight of the class mean in the features
  double train_fraction = 0.6;            // csbm: share of nodes in train; valid and test halve the rest
};

void write_generated_dataset(const GenerateOptions& options, const std::string& out_dir);

}  // namespace ripple
