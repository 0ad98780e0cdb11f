// The fused UltraGCN negative term against its ATen composition and a plain loop: value and
// gradient, float64 and float32, one and several threads, repeated users and items.
#include "tasks/ultragcn_negatives.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>

namespace ripple {
namespace {

struct Problem {
  int64_t num_users, num_items, negatives;
  at::Tensor users, items, user_beta, item_beta;
};

Problem make_problem(int64_t num_users, int64_t num_items, int64_t batch, int64_t negatives) {
  at::manual_seed(11);
  Problem p{num_users, num_items, negatives, at::randint(num_users, {batch}, at::kLong),
            at::randint(num_items, {batch * negatives}, at::kLong), at::rand({num_users}) + 0.1,
            at::rand({num_items}) + 0.1};
  p.users[1] = p.users[0];  // a user twice in the batch
  return p;
}

// The same term as gather, batched product and softplus under autograd.
at::Tensor aten_reference(const at::Tensor& e, const Problem& p, double base, double degree) {
  const int64_t batch = p.users.numel();
  const at::Tensor eu = e.index_select(0, p.users);
  const at::Tensor en = e.index_select(0, p.items + p.num_users).view({batch, p.negatives, -1});
  const at::Tensor score = at::bmm(en, eu.unsqueeze(2)).squeeze(2);
  const at::Tensor w = base + degree * p.user_beta.index_select(0, p.users).unsqueeze(1).to(e.scalar_type()) *
                                  p.item_beta.index_select(0, p.items).view({batch, p.negatives}).to(e.scalar_type());
  return (w * at::softplus(score)).mean(1).sum();
}

TEST(UltraGcnNegatives, LossAndGradientMatchTheAtenCompositionAndAPlainLoop) {
  const Problem p = make_problem(7, 23, 9, 13);
  const double base = 1e-3, degree = 2.0, scale = 3.0;
  at::manual_seed(3);
  // Scores stay below 20, where at::softplus switches to the identity (and its gradient to 1).
  const at::Tensor e0 = at::randn({p.num_users + p.num_items, 5}, at::kDouble);
  const int saved_threads = at::get_num_threads();
  at::Tensor first_grad;
  double first_loss = 0;
  for (const int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    const at::Tensor e = e0.clone().requires_grad_(true);
    const at::Tensor loss = tasks::ultragcn_negative_loss(e, p.num_users, p.users, p.items, p.user_beta, p.item_beta,
                                                          base, degree, scale);
    (loss * 0.5).backward();  // the incoming gradient scales the one built in forward
    const at::Tensor r = e0.clone().requires_grad_(true);
    const at::Tensor expected = scale * aten_reference(r, p, base, degree);
    (expected * 0.5).backward();
    EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-10 * std::abs(expected.item<double>()));
    EXPECT_TRUE(at::allclose(e.grad(), r.grad(), 1e-10, 1e-12)) << "threads " << threads;
    if (threads == 1) {
      first_grad = e.grad().clone();
      first_loss = loss.item<double>();
    } else {  // every sum runs in batch order: the same bits on any thread count
      EXPECT_TRUE(at::equal(e.grad(), first_grad)) << "threads " << threads;
      EXPECT_EQ(loss.item<double>(), first_loss) << "threads " << threads;
    }

    // The whole term as a plain loop.
    double plain = 0;
    for (int64_t b = 0; b < p.users.numel(); ++b) {
      const int64_t u = p.users[b].item<int64_t>();
      for (int64_t j = 0; j < p.negatives; ++j) {
        const int64_t i = p.items[b * p.negatives + j].item<int64_t>();
        const double s = at::dot(e0[u], e0[p.num_users + i]).item<double>();
        const double w = base + degree * p.user_beta[u].item<double>() * p.item_beta[i].item<double>();
        plain += scale * w * std::log1p(std::exp(s)) / static_cast<double>(p.negatives);
      }
    }
    EXPECT_NEAR(loss.item<double>(), plain, 1e-9 * plain);
  }
  at::set_num_threads(saved_threads);
}

// The gradient buffer is reused between calls only when nothing holds it; a caller that keeps
// a gradient keeps its values, and a second backward through a retained graph is refused.
TEST(UltraGcnNegatives, AKeptGradientIsNotOverwrittenAndASecondBackwardIsRefused) {
  const Problem p = make_problem(5, 11, 4, 6);
  at::manual_seed(5);
  const at::Tensor e = at::randn({16, 3}, at::kDouble).requires_grad_(true);
  auto loss_of = [&](const at::Tensor& items) {
    return tasks::ultragcn_negative_loss(e, p.num_users, p.users, items, p.user_beta, p.item_beta, 0.1, 1.0);
  };
  const at::Tensor kept = torch::autograd::grad({loss_of(p.items)}, {e})[0];
  const at::Tensor copy = kept.clone();
  const at::Tensor view = torch::autograd::grad({loss_of(p.items)}, {e})[0].narrow(0, 0, 2);
  const at::Tensor other = torch::autograd::grad({loss_of((p.items + 1).remainder(11))}, {e})[0];
  EXPECT_TRUE(at::equal(kept, copy));
  EXPECT_TRUE(at::equal(view, copy.narrow(0, 0, 2)));
  EXPECT_FALSE(at::equal(other, copy));

  const at::Tensor loss = loss_of(p.items);
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), c10::Error);
}

TEST(UltraGcnNegatives, Float32AgreesWithFloat64AndLargeScoresStayFinite) {
  const Problem p = make_problem(50, 300, 40, 64);
  at::manual_seed(4);
  const at::Tensor e64 = at::randn({p.num_users + p.num_items, 64}, at::kDouble) * 0.5;  // scores up to ~ +-10
  const at::Tensor a = e64.clone().requires_grad_(true);
  const at::Tensor b = e64.to(at::kFloat).requires_grad_(true);
  const at::Tensor la = tasks::ultragcn_negative_loss(a, p.num_users, p.users, p.items, p.user_beta, p.item_beta,
                                                      1e-6, 1.0);
  const at::Tensor lb = tasks::ultragcn_negative_loss(b, p.num_users, p.users, p.items, p.user_beta, p.item_beta,
                                                      1e-6, 1.0);
  la.backward();
  lb.backward();
  EXPECT_EQ(lb.scalar_type(), at::kFloat);
  EXPECT_NEAR(lb.item<double>(), la.item<double>(), 1e-5 * la.item<double>());
  EXPECT_TRUE(at::allclose(b.grad().to(at::kDouble), a.grad(), 1e-4, 1e-6));
  EXPECT_TRUE(at::isfinite(b.grad()).all().item<bool>());

  // Without gradient mode nothing is kept and the value is the same.
  at::NoGradGuard no_grad;
  EXPECT_DOUBLE_EQ(tasks::ultragcn_negative_loss(b, p.num_users, p.users, p.items, p.user_beta, p.item_beta, 1e-6, 1.0)
                       .item<double>(),
                   lb.item<double>());
}

TEST(UltraGcnNegatives, RejectsIdsOutsideTheTableAndWrongShapes) {
  const Problem p = make_problem(4, 6, 3, 2);
  const at::Tensor e = at::randn({10, 3});
  const at::Tensor bad_item = p.items.clone().index_fill_(0, at::tensor({0}, at::kLong), 6);
  EXPECT_THROW(tasks::ultragcn_negative_loss(e, 4, p.users, bad_item, p.user_beta, p.item_beta, 0, 1), c10::Error);
  const at::Tensor bad_user = p.users.clone().index_fill_(0, at::tensor({2}, at::kLong), -1);
  EXPECT_THROW(tasks::ultragcn_negative_loss(e, 4, bad_user, p.items, p.user_beta, p.item_beta, 0, 1), c10::Error);
  EXPECT_THROW(tasks::ultragcn_negative_loss(e, 4, p.users, p.items.narrow(0, 0, 5), p.user_beta, p.item_beta, 0, 1),
               c10::Error);
  EXPECT_THROW(tasks::ultragcn_negative_loss(e, 4, p.users, p.items, p.item_beta, p.item_beta, 0, 1), c10::Error);
  EXPECT_NO_THROW(tasks::ultragcn_negative_loss(e, 4, p.users, p.items, p.user_beta, p.item_beta, 0, 1));
}

}  // namespace
}  // namespace ripple
