#include "ops/broadcast.h"

#include <c10/util/Exception.h>

namespace ripple::ops::detail {

namespace {
int64_t product(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
}  // namespace

Broadcast compute_broadcast(const std::vector<int64_t>& lhs_in, const std::vector<int64_t>& rhs_in,
                            bool dot) {
  Broadcast b;
  std::vector<int64_t> lhs = lhs_in, rhs = rhs_in;
  if (dot) {
    TORCH_CHECK(!lhs.empty() && !rhs.empty() && lhs.back() == rhs.back(),
                "dot needs both operands to share the last feature dimension, got lhs ",
                c10::IntArrayRef(lhs_in), " and rhs ", c10::IntArrayRef(rhs_in));
    b.reduce_size = lhs.back();
    lhs.pop_back();
    rhs.pop_back();
  }
  const size_t nd = std::max(lhs.size(), rhs.size());
  std::vector<int64_t> l(nd, 1), r(nd, 1), o(nd, 1);
  std::copy(lhs.begin(), lhs.end(), l.begin() + (nd - lhs.size()));
  std::copy(rhs.begin(), rhs.end(), r.begin() + (nd - rhs.size()));
  for (size_t i = 0; i < nd; ++i) {
    TORCH_CHECK(l[i] == r[i] || l[i] == 1 || r[i] == 1,
                "feature shapes do not broadcast: lhs ", c10::IntArrayRef(lhs_in), " and rhs ",
                c10::IntArrayRef(rhs_in));
    o[i] = std::max(l[i], r[i]);
  }
  b.out_len = product(o);
  b.lhs_len = product(l) * b.reduce_size;
  b.rhs_len = product(r) * b.reduce_size;
  b.out_shape = o;
  if (dot) b.out_shape.push_back(1);
  b.use_offsets = l != r;
  if (b.use_offsets) {
    b.lhs_offset.resize(b.out_len);
    b.rhs_offset.resize(b.out_len);
    std::vector<int64_t> idx(nd, 0);
    for (int64_t k = 0; k < b.out_len; ++k) {
      int64_t lo = 0, ro = 0;
      for (size_t i = 0; i < nd; ++i) {
        lo = lo * l[i] + (l[i] == 1 ? 0 : idx[i]);
        ro = ro * r[i] + (r[i] == 1 ? 0 : idx[i]);
      }
      b.lhs_offset[k] = lo * b.reduce_size;
      b.rhs_offset[k] = ro * b.reduce_size;
      for (int64_t i = static_cast<int64_t>(nd) - 1; i >= 0; --i) {
        if (++idx[i] < o[i]) break;
        idx[i] = 0;
      }
    }
    if (!dot && b.lhs_len == b.out_len && b.out_len % b.rhs_len == 0) {
      const int64_t inner = b.out_len / b.rhs_len;
      bool trailing = true;
      for (int64_t k = 0; k < b.out_len && trailing; ++k) {
        trailing = b.lhs_offset[k] == k && b.rhs_offset[k] == k / inner;
      }
      b.rhs_trailing = trailing;
      b.rhs_inner = inner;
    }
  }
  return b;
}

}  // namespace ripple::ops::detail
