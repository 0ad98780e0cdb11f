// Negative sampling: uniform pairs for link prediction, items a user lacks for BPR. See
// include/ripple/sample.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>

#include "ripple/error.h"
#include "ripple/nn/context.h"
#include "ripple/sample.h"

namespace ripple {

namespace {

// Whether `target` is among the ascending `sources` of row `row`.
bool row_holds(const int64_t* indptr, const int64_t* indices, int64_t row, int64_t target) {
  return std::binary_search(indices + indptr[row], indices + indptr[row + 1], target);
}

int64_t uniform_node(uint64_t r, int64_t num_nodes) {
  return static_cast<int64_t>((static_cast<unsigned __int128>(r) * static_cast<unsigned __int128>(num_nodes)) >> 64);
}

}  // namespace

at::Tensor sample_negative_pairs(int64_t num_nodes, const at::Tensor& positives, int64_t per_positive, bool per_source,
                                 uint64_t key, const Graph* avoid) {
  if (!positives.defined() || positives.dim() != 2 || positives.size(0) != 2 || positives.scalar_type() != at::kLong) {
    throw InputError("sample_negative_pairs: positives must be an int64 [2, B] tensor");
  }
  if (num_nodes < 1 || per_positive < 1) {
    throw InputError(fmt::format("sample_negative_pairs: need num_nodes >= 1 and per_positive >= 1, got {} and {}",
                                 num_nodes, per_positive));
  }
  if (avoid != nullptr && (avoid->num_src() != num_nodes || avoid->num_dst() != num_nodes)) {
    throw InputError(fmt::format("sample_negative_pairs: the graph of edges to avoid has {} x {} nodes, expected {}",
                                 avoid->num_src(), avoid->num_dst(), num_nodes));
  }
  at::Tensor indptr_t, indices_t;
  const int64_t* indptr = nullptr;
  const int64_t* indices = nullptr;
  if (avoid != nullptr) {
    indptr_t = avoid->csc_indptr().to(at::kLong).contiguous();
    indices_t = avoid->csc_indices().to(at::kLong).contiguous();
    indptr = indptr_t.data_ptr<int64_t>();
    indices = indices_t.data_ptr<int64_t>();
  }
  const int64_t count = positives.size(1) * per_positive;
  at::Tensor out = at::empty({2, count}, at::kLong);
  const at::Tensor sources = positives[0].contiguous();
  const int64_t* source = sources.data_ptr<int64_t>();
  int64_t* u = out[0].data_ptr<int64_t>();
  int64_t* v = out[1].data_ptr<int64_t>();
  at::parallel_for(0, count, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      uint64_t r1 = nn::mix64(key + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull);
      for (int draw = 1;; ++draw) {
        v[i] = uniform_node(r1, num_nodes);
        u[i] = per_source ? source[i / per_positive] : uniform_node(nn::mix64(r1 ^ 0x5851F42D4C957F2Dull), num_nodes);
        if (indptr == nullptr || draw == kMaxNegativeRedraws) break;
        if (u[i] != v[i] && !row_holds(indptr, indices, u[i], v[i]) && !row_holds(indptr, indices, v[i], u[i])) break;
        r1 = nn::mix64(r1 ^ 0x2545F4914F6CDD1Dull);
      }
    }
  });
  return out;
}

}  // namespace ripple

namespace ripple {
namespace {

// The r-th item (0-based) of [0, num_items) that is not in the ascending list [begin, end).
int64_t nth_missing_item(const int64_t* begin, const int64_t* end, int64_t r) {
  int64_t item = r;
  for (const int64_t* p = begin; p != end && *p <= item; ++p) ++item;
  return item;
}

}  // namespace

at::Tensor sample_negative_items(const UserItems& user_items, int64_t num_items, const at::Tensor& users,
                                 uint64_t key) {
  if (!users.defined() || users.dim() != 1 || users.scalar_type() != at::kLong) {
    throw InputError("sample_negative_items: users must be an int64 [B] tensor");
  }
  const int64_t num_users = user_items.indptr.numel() - 1;
  const int64_t count = users.numel();
  const at::Tensor user_ids = users.contiguous();
  const int64_t* user = user_ids.data_ptr<int64_t>();
  const int64_t* indptr = user_items.indptr.data_ptr<int64_t>();
  const int64_t* items = user_items.items.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    if (user[i] < 0 || user[i] >= num_users) {
      throw InputError(fmt::format("sample_negative_items: users[{}] = {} is outside [0, {})", i, user[i], num_users));
    }
    if (indptr[user[i] + 1] - indptr[user[i]] >= num_items) {
      throw InputError(fmt::format("sample_negative_items: user {} has interacted with all {} items; no negative "
                                   "item exists", user[i], num_items));
    }
  }
  at::Tensor out = at::empty({count}, at::kLong);
  int64_t* neg = out.data_ptr<int64_t>();
  constexpr uint64_t kRejections = 8;  // uniform draws tried before the exact fallback
  at::parallel_for(0, count, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t* first = items + indptr[user[i]];
      const int64_t* last = items + indptr[user[i] + 1];
      uint64_t r = nn::mix64(key + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull);
      int64_t pick = -1;
      for (uint64_t attempt = 0; attempt < kRejections && pick < 0; ++attempt) {
        const auto item = static_cast<int64_t>((static_cast<unsigned __int128>(r) * static_cast<uint64_t>(num_items)) >> 64);
        if (!std::binary_search(first, last, item)) pick = item;
        r = nn::mix64(r ^ 0x5851F42D4C957F2Dull);
      }
      if (pick < 0) {  // the user holds most items: draw among the ones it lacks
        const auto missing = static_cast<uint64_t>(num_items - (last - first));
        pick = nth_missing_item(first, last, static_cast<int64_t>((static_cast<unsigned __int128>(r) * missing) >> 64));
      }
      neg[i] = pick;
    }
  });
  return out;
}

}  // namespace ripple
