// The kernels of full-ranking evaluation (ranking.cpp): dot-product scores of users against
// every item, and a streaming top K that masks each user's excluded items on the way.
//
// Items are packed once into panels of kPanelItems items, each panel [d][kPanelItems] and
// zero-padded past the last item, so that the scoring kernel reads a panel front to back; a
// block of kBlockUsers users is scored against one panel with all kBlockUsers x kPanelItems
// partial sums held in registers (GCC/Clang vector extensions sized to the build's
// registers, ops/cpu/register_block.h). Each score is the sum over k = 0..d-1 in that order,
// whatever the vector width.
//
// Internal: raw float arrays in, and UserItems for the exclusions. Callers check shapes and
// sizes; nothing here throws.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "ops/cpu/register_block.h"
#include "ripple/interactions.h"

namespace ripple::ranking_detail {

// 8 x 48 scores in 24 AVX-512 registers, or 6 x 2 vectors (16 items with AVX2) in 12.
inline constexpr int64_t kBlockUsers = ops::cpu::kVectorLanes == 16 ? 8 : 6;
inline constexpr int64_t kPanelItems = ops::cpu::kVectorLanes == 16 ? 48 : 2 * ops::cpu::kVectorLanes;

// Panels that hold n items (the last one zero-padded).
inline int64_t panel_count(int64_t n) { return (n + kPanelItems - 1) / kPanelItems; }

// Floats that pack_item_panels writes for n items of dimension d.
inline int64_t packed_panel_floats(int64_t n, int64_t d) { return panel_count(n) * d * kPanelItems; }

// Packs items (row-major [n, d]) into panels: panel p, row k, column j holds
// items[(p * kPanelItems + j) * d + k], or 0 past the last item.
void pack_item_panels(const float* items, int64_t n, int64_t d, float* panels);

// scores[r * ldc + j] = sum over k of users[r * d + k] * panel[k * kPanelItems + j], for
// r < kBlockUsers and j < kPanelItems. users holds kBlockUsers rows (pad with zeros).
void score_panel(const float* users, int64_t d, const float* panel, float* scores, int64_t ldc);

// The k best entries of one row seen so far, best first, ties to the lower column; -inf and
// NaN never enter. offer() takes the row's columns in increasing order, in as many pieces as
// the caller likes; finish() marks the places no column filled (item -1, score -inf).
// Writes into the caller's items[k] and values[k].
class RowTopK {
 public:
  RowTopK(int64_t k, int64_t* items, float* values) : k_(k), items_(items), values_(values) {}
  // Columns first_column, first_column + 1, ... with scores row[0..len).
  void offer(const float* row, int64_t len, int64_t first_column);
  void finish();

 private:
  int64_t k_;
  int64_t* items_;
  float* values_;
  int64_t filled_ = 0;
  float threshold_ = -std::numeric_limits<float>::infinity();  // a score must beat this to enter
};

// Ranks each user in `users` (ids into `exclude`; embeddings the rows of `user_rows`,
// [users.size(), d]) against the n items packed in `panels`, each user's `exclude` items
// left out, and calls ranked(i, items) with the k best items of users[i], best first, -1 past
// its rankable items. The call comes from the thread that ranked the user, once per user,
// concurrently with other threads' calls; `items` lasts until it returns.
// One parallel region: each thread takes whole chunks of `chunk` users and goes through the
// items a tile at a time (panels that fit in L2), scoring each block of kBlockUsers users
// against the tile's panels, then masking and merging that piece of each row into the row's
// top k while it is in cache; no more than a block x tile piece of the score matrix exists,
// and a thread holds chunk x k entries of top lists.
using RankedUser = std::function<void(int64_t index, const int64_t* items)>;
void rank_users(const std::vector<int64_t>& users, const float* user_rows, const float* panels, int64_t n, int64_t d,
                const UserItems& exclude, int64_t k, int64_t chunk, const RankedUser& ranked);

}  // namespace ripple::ranking_detail
