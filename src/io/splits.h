// Which split a dataset directory offers when none is named: "public" when present, else
// the first by name (what load_node_dataset picks for an empty `split`).
#pragma once

#include <string>
#include <vector>

namespace ripple::io {

std::string first_split(std::vector<std::string> names);
// The split folders of an OGB raw-layout directory (DIR/split/NAME), unsorted.
std::vector<std::string> ogb_splits(const std::string& dir);

}  // namespace ripple::io
