// The rmat and uniform graphs of `ripple generate` and make_graph, produced a chunk of
// destination nodes at a time, so that a sink can stream a graph of any size to disk with
// memory for one chunk plus two ids per node (internal).
//
// The edge count is split over the destinations by sequential binomial draws (a
// multinomial: uniform weights, or R-MAT's column marginal), then each edge's source is
// drawn given its destination:
// - uniform: source uniform over the nodes;
// - rmat (Graph500 a=0.57, b=0.19, c=0.19, d=0.05 on the next power of two of ids, then
//   permuted so that hubs are spread out): destination column c has probability
//   prod over its bits of (bit ? b + d : a + c); the source row's bit at each level is 1
//   with probability c / (a + c) under a 0 column bit and d / (b + d) under a 1. Ids past
//   the node count are never drawn: columns are chosen among real nodes, rows redrawn.
// Sources come as drawn: duplicates and self loops kept, rows unsorted. Features are
// N(0, 1), labels uniform over the classes, and each node goes to train, valid or test
// with probability 0.6, 0.2, 0.2. Per-node draws are a pure function of (seed, node), so
// the output does not depend on the thread count.
#pragma once

#include "io/node_chunk.h"
#include "ripple/generate.h"

namespace ripple::io {

// Calls `sink` once per chunk, in node order. `options.kind` is rmat or uniform; options
// are checked by the caller.
void generate_random_graph(const GenerateOptions& options, const NodeChunkSink& sink);

}  // namespace ripple::io
