// The contextual stochastic block model behind `ripple generate --kind csbm`: a learnable
// node-classification graph produced a chunk of destination nodes at a time, so that a
// sink can stream it to disk with memory for one chunk plus one id per node.
//
// Node v's label is its block, drawn uniformly from the classes. v receives
// edges / nodes incoming edges (the remainder spread at random), each from a node of its
// own block with probability p_in and from any node otherwise; repeated sources and self
// loops are dropped, so rows are sorted and de-duplicated. Features are
// signal * mu[label] + N(0, 1) with class means mu[c] ~ N(0, 1)^F, so one node's features
// say little about its class and the mean over its neighbours says much more. Each node
// goes to train with probability train_fraction (0.6), else to valid or test evenly. All randomness is a
// pure function of (seed, node), so the output does not depend on the thread count.
#pragma once

#include "io/node_chunk.h"
#include "ripple/generate.h"

namespace ripple::io {

// Calls `sink` once per chunk, in node order; each row's sources ascending. Options are
// checked by the caller.
void generate_csbm(const GenerateOptions& options, const NodeChunkSink& sink);

}  // namespace ripple::io
