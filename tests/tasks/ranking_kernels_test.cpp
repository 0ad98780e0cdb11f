// The kernels of full-ranking evaluation (src/tasks/ranking_kernels.h) against plain loops:
// the register-blocked panel scores, and the tiled top K with each user's items excluded.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ripple/interactions.h"
#include "tasks/ranking_kernels.h"

namespace ripple {
namespace {

using ranking_detail::kBlockUsers;
using ranking_detail::kPanelItems;

std::vector<float> packed(const at::Tensor& items) {
  std::vector<float> panels(static_cast<size_t>(ranking_detail::packed_panel_floats(items.size(0), items.size(1))));
  ranking_detail::pack_item_panels(items.data_ptr<float>(), items.size(0), items.size(1), panels.data());
  return panels;
}

TEST(RankingKernels, PanelScoresEqualPlainDotProducts) {
  at::manual_seed(7);
  const int64_t d = 37, n = 100;  // 3 panels, the last one padded
  const at::Tensor users = at::randn({kBlockUsers, d}), items = at::randn({n, d});
  const std::vector<float> panels = packed(items);
  const int64_t num_panels = ranking_detail::panel_count(n), ldc = num_panels * kPanelItems + 5;
  std::vector<float> scores(static_cast<size_t>(kBlockUsers * ldc), -1.0f);
  for (int64_t p = 0; p < num_panels; ++p) {
    ranking_detail::score_panel(users.data_ptr<float>(), d, panels.data() + p * d * kPanelItems,
                                scores.data() + p * kPanelItems, ldc);
  }
  const auto u = users.accessor<float, 2>();
  const auto it = items.accessor<float, 2>();
  for (int64_t r = 0; r < kBlockUsers; ++r) {
    for (int64_t j = 0; j < num_panels * kPanelItems; ++j) {
      double expected = 0;  // zero past the last item: the padding
      for (int64_t k = 0; j < n && k < d; ++k) expected += static_cast<double>(u[r][k]) * it[j][k];
      ASSERT_NEAR(scores[static_cast<size_t>(r * ldc + j)], expected, 1e-4) << "user " << r << " item " << j;
    }
    EXPECT_EQ(scores[static_cast<size_t>(r * ldc + ldc - 1)], -1.0f);  // past the panels: untouched
  }
}

// The reference: every score by a plain loop, the user's items set to -inf, a stable sort.
std::vector<int64_t> reference_top_items(const at::Tensor& user_rows, const at::Tensor& items,
                                         const std::vector<std::vector<int64_t>>& excluded, int64_t k) {
  const int64_t d = items.size(1), n = items.size(0);
  const auto u = user_rows.accessor<float, 2>();
  const auto it = items.accessor<float, 2>();
  std::vector<int64_t> out;
  for (int64_t r = 0; r < user_rows.size(0); ++r) {
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      float s = 0;
      for (int64_t c = 0; c < d; ++c) s += u[r][c] * it[i][c];
      row[static_cast<size_t>(i)] = s;
    }
    for (const int64_t i : excluded[static_cast<size_t>(r)]) row[static_cast<size_t>(i)] = -INFINITY;
    std::vector<int64_t> cols;
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isnan(row[static_cast<size_t>(i)]) && row[static_cast<size_t>(i)] != -INFINITY) cols.push_back(i);
    }
    std::stable_sort(cols.begin(), cols.end(),
                     [&](int64_t a, int64_t b) { return row[static_cast<size_t>(a)] > row[static_cast<size_t>(b)]; });
    cols.resize(static_cast<size_t>(k), -1);
    out.insert(out.end(), cols.begin(), cols.end());
  }
  return out;
}

// With d = 1100 a tile is one panel, so 203 items make five tiles (the last one of 11 items);
// scores are small integers (entries in {-1, 0, 1}), exact in any order and full of ties.
TEST(RankingKernels, TopItemsAcrossTilesEqualAStableSortWithTheUsersItemsExcluded) {
  at::manual_seed(11);
  const int64_t d = 1100, n = 203, num_users = 21, k = 25;
  const at::Tensor all_users = at::randint(-1, 2, {num_users, d}).to(at::kFloat);
  const at::Tensor items = (at::randint(-1, 2, {n, d}) * (at::rand({n, 1}) < 0.5)).to(at::kFloat);
  all_users[9].fill_(std::nanf(""));  // every score NaN: nothing to rank
  // Excluded items, unsorted and across tiles; user 4 keeps only 3 rankable items, user 6 one
  // item twice.
  std::vector<std::vector<int64_t>> excluded(num_users);
  uint64_t state = 5;
  auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int64_t u = 0; u < num_users; ++u) {
    for (uint64_t e = 0; e < 3 + next() % 40; ++e) excluded[static_cast<size_t>(u)].push_back(static_cast<int64_t>(next() % n));
  }
  excluded[4].resize(static_cast<size_t>(n - 3));
  std::iota(excluded[4].begin(), excluded[4].end(), 0);
  std::reverse(excluded[4].begin(), excluded[4].end());
  excluded[6] = {150, 2, 150};
  std::vector<int64_t> indptr{0}, flat;
  for (const auto& e : excluded) {
    flat.insert(flat.end(), e.begin(), e.end());
    indptr.push_back(static_cast<int64_t>(flat.size()));
  }
  const UserItems exclude{at::tensor(indptr), at::tensor(flat)};
  // The users ranked, in this order: not all, not sorted.
  const std::vector<int64_t> users{4, 0, 9, 20, 6, 13, 1, 2, 3, 5, 7, 8, 10, 11, 12, 15, 17, 19};
  std::vector<std::vector<int64_t>> their_excluded;
  for (const int64_t u : users) their_excluded.push_back(excluded[static_cast<size_t>(u)]);
  const at::Tensor user_rows = all_users.index_select(0, at::tensor(users)).contiguous();
  const std::vector<int64_t> expected = reference_top_items(user_rows, items, their_excluded, k);
  EXPECT_EQ(std::count(expected.begin(), expected.begin() + k, -1), k - 3);  // user 4
  const std::vector<float> panels = packed(items);
  const int threads = at::get_num_threads();
  for (const int t : {1, 2}) {
    at::set_num_threads(t);
    for (const int64_t chunk : {int64_t{5}, int64_t{64}}) {  // 5: blocks of users padded, several chunks
      std::vector<int64_t> got(expected.size(), -2);
      std::vector<int> calls(users.size());
      ranking_detail::rank_users(users, user_rows.data_ptr<float>(), panels.data(), n, d, exclude, k, chunk,
                                 [&](int64_t i, const int64_t* items) {
                                   ++calls[static_cast<size_t>(i)];  // each index from one thread only
                                   std::copy(items, items + k, got.begin() + i * k);
                                 });
      EXPECT_EQ(std::count(calls.begin(), calls.end(), 1), static_cast<int64_t>(users.size()));
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i], expected[i]) << "user " << users[i / k] << " rank " << i % k << " chunk " << chunk
                                       << " threads " << t;
      }
    }
  }
  at::set_num_threads(threads);
}

}  // namespace
}  // namespace ripple
