// Packed item panels, the register-blocked scoring kernel and the tiled top K. See
// ranking_kernels.h.
#include "tasks/ranking_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "ops/cpu/register_block.h"

namespace ripple::ranking_detail {
namespace {

constexpr int kVectors = static_cast<int>(kPanelItems / ops::cpu::kVectorLanes);  // vectors per panel row
static_assert(kPanelItems % ops::cpu::kVectorLanes == 0);

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int64_t kBlock = 16;  // scores tested against the threshold at once

// Tile of items scored per block of users: its panels (d x kPanelItems floats each) fit in
// about 384 KiB, so that they stay in a core's L2 cache while a chunk's users pass over them.
int64_t panels_per_tile(int64_t d) {
  constexpr int64_t kTileBytes = 384 * 1024;
  return std::max<int64_t>(1, kTileBytes / (std::max<int64_t>(d, 1) * kPanelItems * static_cast<int64_t>(sizeof(float))));
}

}  // namespace

void pack_item_panels(const float* items, int64_t n, int64_t d, float* panels) {
  at::parallel_for(0, panel_count(n), 16, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      float* panel = panels + p * d * kPanelItems;
      for (int64_t j = 0; j < kPanelItems; ++j) {
        const int64_t item = p * kPanelItems + j;
        for (int64_t k = 0; k < d; ++k) panel[k * kPanelItems + j] = item < n ? items[item * d + k] : 0.0f;
      }
    }
  });
}

void score_panel(const float* users, int64_t d, const float* panel, float* scores, int64_t ldc) {
  ops::cpu::register_block<kBlockUsers, kVectors>(d, users, d, 1, panel, kPanelItems, ops::cpu::BlockStart::kZero,
                                                  nullptr, scores, ldc);
}

void RowTopK::offer(const float* row, int64_t len, int64_t first_column) {
  for (int64_t b = 0; b < len; b += kBlock) {
    const int64_t e = std::min(b + kBlock, len);
    int any = 0;
    for (int64_t j = b; j < e; ++j) any |= row[j] > threshold_ ? 1 : 0;
    if (!any) continue;
    for (int64_t j = b; j < e; ++j) {
      const float s = row[j];
      if (!(s > threshold_)) continue;
      int64_t p = std::min(filled_, k_ - 1);  // drop the last when full
      while (p > 0 && values_[p - 1] < s) {
        values_[p] = values_[p - 1];
        items_[p] = items_[p - 1];
        --p;
      }
      values_[p] = s;
      items_[p] = first_column + j;
      if (filled_ < k_) ++filled_;
      if (filled_ == k_) threshold_ = values_[k_ - 1];
    }
  }
}

void RowTopK::finish() {
  for (int64_t p = filled_; p < k_; ++p) {
    items_[p] = -1;
    values_[p] = kNegInf;
  }
}

void rank_users(const std::vector<int64_t>& users, const float* user_rows, const float* panels, int64_t n, int64_t d,
                const UserItems& exclude, int64_t k, int64_t chunk_users, const RankedUser& ranked) {
  const auto num_users = static_cast<int64_t>(users.size());
  const int64_t chunk = std::min(chunk_users, std::max<int64_t>(num_users, 1));
  const int64_t tile_panels = panels_per_tile(d), tile_items = tile_panels * kPanelItems;
  const int64_t num_panels = panel_count(n);
  const int64_t num_chunks = (num_users + chunk - 1) / chunk;
  const int64_t* ex_ptr = exclude.indptr.data_ptr<int64_t>();
  const int64_t* ex_items = exclude.items.data_ptr<int64_t>();
  at::parallel_for(0, num_chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
    const int64_t blocks = (chunk + kBlockUsers - 1) / kBlockUsers;
    std::vector<float> block_rows(static_cast<size_t>(blocks * kBlockUsers * d));
    std::vector<float> scores(static_cast<size_t>(kBlockUsers * tile_items));
    std::vector<int64_t> top_items(static_cast<size_t>(chunk * k));
    std::vector<float> top_values(static_cast<size_t>(chunk * k));
    std::vector<int64_t> excluded, excluded_end(static_cast<size_t>(chunk)), cursor(static_cast<size_t>(chunk));
    std::vector<RowTopK> rows_top;
    for (int64_t c = chunk_begin; c < chunk_end; ++c) {
      const int64_t first = c * chunk, rows = std::min(chunk, num_users - first);
      // The chunk's user rows (zeros past the last) and sorted excluded items.
      std::fill(block_rows.begin(), block_rows.end(), 0.0f);
      std::copy(user_rows + first * d, user_rows + (first + rows) * d, block_rows.begin());
      excluded.clear();
      rows_top.clear();
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t u = users[static_cast<size_t>(first + r)];
        cursor[static_cast<size_t>(r)] = static_cast<int64_t>(excluded.size());
        excluded.insert(excluded.end(), ex_items + ex_ptr[u], ex_items + ex_ptr[u + 1]);
        std::sort(excluded.begin() + cursor[static_cast<size_t>(r)], excluded.end());
        excluded_end[static_cast<size_t>(r)] = static_cast<int64_t>(excluded.size());
        rows_top.emplace_back(k, top_items.data() + r * k, top_values.data() + r * k);
      }
      for (int64_t p0 = 0; p0 < num_panels; p0 += tile_panels) {
        const int64_t p1 = std::min(p0 + tile_panels, num_panels);
        const int64_t t0 = p0 * kPanelItems, t1 = std::min(p1 * kPanelItems, n);
        for (int64_t b0 = 0; b0 < rows; b0 += kBlockUsers) {
          for (int64_t p = p0; p < p1; ++p) {
            score_panel(block_rows.data() + b0 * d, d, panels + p * d * kPanelItems,
                        scores.data() + (p - p0) * kPanelItems, tile_items);
          }
          for (int64_t r = b0; r < std::min(b0 + kBlockUsers, rows); ++r) {
            float* row = scores.data() + (r - b0) * tile_items;
            int64_t& at = cursor[static_cast<size_t>(r)];
            for (; at < excluded_end[static_cast<size_t>(r)] && excluded[static_cast<size_t>(at)] < t1; ++at) {
              if (excluded[static_cast<size_t>(at)] >= t0) row[excluded[static_cast<size_t>(at)] - t0] = kNegInf;
            }
            rows_top[static_cast<size_t>(r)].offer(row, t1 - t0, t0);
          }
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        rows_top[static_cast<size_t>(r)].finish();
        ranked(first + r, top_items.data() + r * k);
      }
    }
  });
}

}  // namespace ripple::ranking_detail
