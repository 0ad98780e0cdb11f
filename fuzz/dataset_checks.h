// Shared by the fuzz targets: the promises a loaded NodeDataset must keep whichever reader
// produced it (the kernels index with these arrays unchecked). A broken promise is a
// finding: the check prints which promise, naming `reader`, and aborts so libFuzzer saves
// the input.
#pragma once

#include "ripple/dataset.h"
#include "ripple/graph_dataset.h"

namespace ripple::fuzz {

// Checks element by element: CSC pointers start at 0, never decrease and end at the edge
// count; every index and label is in range; one feature row per node (every feature byte
// is read); every split id names a node. Aborts on the first broken promise.
void require_dataset_invariants(const NodeDataset& d, const char* reader);

// The promises of a graph-classification collection (TU or native reader): node ranges that
// start at 0, increase and end at the node count, labels below the class count, one float
// feature row per node, and edges that stay inside their graph (checked by batching every
// graph and comparing the edge count).
void require_graph_dataset_invariants(const GraphDataset& d, const char* reader);

}  // namespace ripple::fuzz
