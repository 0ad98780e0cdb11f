// Ranking metrics of link prediction and recommendation, with the semantics of OGB's
// evaluator and scikit-learn. Scores are float tensors of any shape, higher meaning "more
// likely an edge". Errors (InputError): empty positives or negatives, mismatched shapes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ripple {

// OGB Hits@K: the share of positives scoring strictly above the K-th highest negative
// score; 1 when there are fewer than K negatives.
double hits_at_k(const at::Tensor& pos, const at::Tensor& neg, int64_t k);

// Area under the ROC curve: the probability that a random positive outscores a random
// negative, ties counting one half (scikit-learn's roc_auc_score).
double roc_auc(const at::Tensor& pos, const at::Tensor& neg);

// Average precision, sum over distinct score thresholds of (recall step) x precision
// (scikit-learn's average_precision_score).
double average_precision(const at::Tensor& pos, const at::Tensor& neg);

// OGB MRR: each positive pos[i] ranked against its own negatives neg[i, :], ties counting
// half (rank = 1 + #greater + #equal / 2), the mean of 1 / rank. pos [n], neg [n, m].
double mean_reciprocal_rank(const at::Tensor& pos, const at::Tensor& neg);

}  // namespace ripple
