// Every model of the configuration space builds, trains a few steps on a tiny graph
// (loss goes down), and rejects invalid settings.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "ripple/error.h"
#include "ripple/model.h"
#include "ops/reference.h"

namespace ripple {
namespace {

TEST(Models, EveryModelTrainsOnATinyGraph) {
  nn::GraphCache g(testing::random_graph(60, 300, 9));
  torch::manual_seed(0);
  const at::Tensor x = at::randn({60, 12});
  const at::Tensor y = x.slice(1, 0, 3).argmax(1);  // learnable from the features
  for (const std::string name : {"gcn", "sage", "gat", "gatv2", "gin", "appnp", "sgc", "mlp"}) {
    for (const std::string norm : {"none", "batch", "layer"}) {
      ModelConfig c;
      c.name = name;
      c.hidden = 8;
      c.heads = 2;
      c.layers = 3;
      c.norm = norm;
      c.residual = true;
      c.dropout = 0.1;
      torch::manual_seed(1);
      NodeModel model(c, 12, 3);
      torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(0.01));
      double first = 0, last = 0;
      for (int step = 0; step < 50; ++step) {
        nn::ForwardContext ctx{true, 3, step, 0};
        opt.zero_grad();
        const at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(g, x, ctx), y);
        loss.backward();
        opt.step();
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
      }
      EXPECT_LT(last, first) << name << "/" << norm;
      model->eval();
      nn::ForwardContext eval;
      const at::Tensor out = model->forward(g, x, eval);
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{60, 3})) << name;
      EXPECT_FALSE(at::isnan(out).any().item<bool>()) << name;
    }
  }
}

TEST(Models, RejectsUnknownSettings) {
  ModelConfig c;
  c.name = "transformer";
  EXPECT_THROW(NodeModel(c, 4, 2), InputError);
  c.name = "sage";
  c.aggr = "median";
  EXPECT_THROW(NodeModel(c, 4, 2), InputError);
  c.aggr = "mean";
  c.norm = "group";
  EXPECT_THROW(NodeModel(c, 4, 2), InputError);
}

}  // namespace
}  // namespace ripple
