// Cora as the tests read it: data/cora (the embedded OGB raw layout, public split), loaded
// once per test program. Throws InputError when the files are missing or malformed.
#pragma once

#include "ripple/dataset.h"
#include "support/cli.h"

namespace ripple::testing {

inline const NodeDataset& cora() {
  static const NodeDataset d = load_ogb_node_dataset(source_path("data/cora"));
  return d;
}

}  // namespace ripple::testing
