// InteractionDataset: implicit feedback (which user interacted with which item) for
// recommendation, in the LightGCN/NGCF text layout. See docs/formats.md.
//
// A directory holds train.txt and test.txt: one line per user, "USER ITEM ITEM ...",
// whitespace separated, ids 0-based; a line may hold a user alone. Optional user_list.txt
// and item_list.txt (a header line, then one line per id) declare the counts; without them
// the counts are the largest ids seen plus one.
//
// load_interactions throws InputError naming the file and line (and the token) for: a
// missing or unreadable file, a token that is not a non-negative integer, an id beyond the
// declared count, a user listed on two lines of one file, an item repeated in one line, a
// test item that is also one of the user's training items, a test user without training
// items, and a test file with no interaction at all.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>

namespace ripple {

// Each user's items as a user-major CSR: items[indptr[u] .. indptr[u+1]) ascending.
struct UserItems {
  at::Tensor indptr;  // int64 [num_users + 1]
  at::Tensor items;   // int64 [interactions]
  int64_t count(int64_t user) const;
  int64_t size() const { return items.defined() ? items.numel() : 0; }
};

struct InteractionDataset {
  int64_t num_users = 0, num_items = 0;
  UserItems train, test;
  // The training interactions as columns (user, item), user-major: int64 [2, train.size()].
  at::Tensor train_pairs() const;
};

InteractionDataset load_interactions(const std::filesystem::path& dir);

}  // namespace ripple
