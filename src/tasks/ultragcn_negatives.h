// UltraGCN's negative term as one fused kernel with its own backward (internal).
//
// For positives b = 0..B-1 with user users[b] and n negatives items[b * n + j]:
//   loss = scale * sum_b (1/n) sum_j w(b, j) softplus(<E[u], E[num_users + i]>),
//   w(b, j) = base + degree * user_beta[u] * item_beta[i],   u = users[b], i = items[b * n + j],
// binary cross-entropy with label 0 on each negative's score, averaged over the negatives.
// The authors' Gowalla set-up draws 1500 negatives per positive (768,000 per batch of 512), so
// the ATen form (a [B, n, d] gather, a batched product, an [B, n, d] gradient and an
// index_add) moves about 200 MB a batch. Here a first pass computes each negative's score,
// loss and d loss / d score while its row is in cache, and the user rows' gradients; a second
// adds the item rows' gradients, each thread the items of its own range. The gradient of E
// (dense, like index_select's) is built in forward and handed over in backward; backward
// may run once per forward (a retained graph's second backward is refused).
//
// Deterministic and independent of the thread count: every sum runs in batch order.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ripple::tasks {

// `embedding` float32 or float64 [num_users + num_items, d]; `users` int64 [B] (< num_users);
// `items` int64 [B * n] (< num_items); `user_beta` [num_users] and `item_beta` [num_items]
// float32, all on the CPU. Differentiable in `embedding`. Throws c10::Error on another device,
// wrong shapes or ids out of range.
at::Tensor ultragcn_negative_loss(const at::Tensor& embedding, int64_t num_users, const at::Tensor& users,
                                  const at::Tensor& items, const at::Tensor& user_beta, const at::Tensor& item_beta,
                                  double base, double degree, double scale = 1.0);

}  // namespace ripple::tasks
