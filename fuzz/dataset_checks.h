// Shared by the fuzz targets: the promises a loaded NodeDataset must keep whichever reader
// produced it (the kernels index with these arrays unchecked). A broken promise is a
// finding: the check prints which promise, naming `reader`, and aborts so libFuzzer saves
// the input.
#pragma once

#include "ripple/dataset.h"

namespace ripple::fuzz {

// Checks element by element: CSC pointers start at 0, never decrease and end at the edge
// count; every index and label is in range; one feature row per node (every feature byte
// is read); every split id names a node. Aborts on the first broken promise.
void require_dataset_invariants(const NodeDataset& d, const char* reader);

}  // namespace ripple::fuzz
