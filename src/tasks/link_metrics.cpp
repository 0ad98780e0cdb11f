// Ranking metrics of link prediction. See include/ripple/link_metrics.h.
#include "ripple/link_metrics.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "ripple/error.h"

namespace ripple {
namespace {

at::Tensor flat_scores(const at::Tensor& t, const char* what) {
  if (!t.defined() || t.numel() == 0) throw InputError(fmt::format("link metrics: no {} scores", what));
  return t.detach().reshape({-1}).to(at::kDouble).contiguous();
}

struct Labeled {
  double score;
  bool positive;
};

// Positives and negatives together, highest score first.
std::vector<Labeled> ranked(const at::Tensor& pos, const at::Tensor& neg) {
  const at::Tensor p = flat_scores(pos, "positive"), n = flat_scores(neg, "negative");
  std::vector<Labeled> all;
  all.reserve(static_cast<size_t>(p.numel() + n.numel()));
  for (int64_t i = 0; i < p.numel(); ++i) all.push_back({p.data_ptr<double>()[i], true});
  for (int64_t i = 0; i < n.numel(); ++i) all.push_back({n.data_ptr<double>()[i], false});
  std::sort(all.begin(), all.end(), [](const Labeled& a, const Labeled& b) { return a.score > b.score; });
  return all;
}

}  // namespace

double hits_at_k(const at::Tensor& pos, const at::Tensor& neg, int64_t k) {
  const at::Tensor p = flat_scores(pos, "positive"), n = flat_scores(neg, "negative");
  if (k < 1) throw InputError(fmt::format("hits_at_k: K must be at least 1, got {}", k));
  if (n.numel() < k) return 1.0;
  const double kth = std::get<0>(n.topk(k)).min().item<double>();
  return p.gt(kth).to(at::kDouble).mean().item<double>();
}

double roc_auc(const at::Tensor& pos, const at::Tensor& neg) {
  const std::vector<Labeled> all = ranked(pos, neg);
  // Walk groups of equal scores from the top: each positive beats the negatives below its
  // group and ties with half of those in it.
  double negatives_total = 0;
  for (const Labeled& x : all) negatives_total += !x.positive;
  double negatives_seen = 0, wins = 0, positives = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    double p = 0, n = 0;
    for (; j < all.size() && all[j].score == all[i].score; ++j) (all[j].positive ? p : n) += 1;
    wins += p * (negatives_total - negatives_seen - n) + 0.5 * p * n;
    positives += p;
    negatives_seen += n;
    i = j;
  }
  return wins / (positives * negatives_total);
}

double average_precision(const at::Tensor& pos, const at::Tensor& neg) {
  const std::vector<Labeled> all = ranked(pos, neg);
  double positives_total = 0;
  for (const Labeled& x : all) positives_total += x.positive;
  double tp = 0, seen = 0, ap = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    double p = 0;
    for (; j < all.size() && all[j].score == all[i].score; ++j) p += all[j].positive;
    tp += p;
    seen += static_cast<double>(j - i);
    ap += (p / positives_total) * (tp / seen);
    i = j;
  }
  return ap;
}

double mean_reciprocal_rank(const at::Tensor& pos, const at::Tensor& neg) {
  if (neg.dim() != 2 || pos.dim() != 1 || neg.size(0) != pos.size(0)) {
    throw InputError(fmt::format("mean_reciprocal_rank: expected pos [n] and neg [n, m], got [{}] and [{}]",
                                 fmt::join(pos.sizes(), ", "), fmt::join(neg.sizes(), ", ")));
  }
  if (pos.numel() == 0 || neg.size(1) == 0) throw InputError("mean_reciprocal_rank: no scores");
  const at::Tensor p = pos.detach().to(at::kDouble).unsqueeze(1), n = neg.detach().to(at::kDouble);
  const at::Tensor rank = 1 + n.gt(p).sum(1).to(at::kDouble) + 0.5 * n.eq(p).sum(1).to(at::kDouble);
  return rank.reciprocal().mean().item<double>();
}

}  // namespace ripple
