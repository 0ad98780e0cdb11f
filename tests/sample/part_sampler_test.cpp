// Sampling on the parts of a partitioned graph (src/sample/part_sampler.h), all parts in one
// process, each reaching the others through a RemoteRows that calls their answers directly:
// with fetching, every part's batch equals the whole-graph sampler's (nodes, blocks and
// input features); with the halo only it equals it where the halo covers the hops, and
// never leaves the part otherwise; the whole-graph degrees; a request for a node the part
// does not own.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <memory>

#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/loader.h"
#include "ripple/native_dataset.h"
#include "ripple/nn/graph_cache.h"
#include "ripple/partition.h"
#include "ripple/sample.h"
#include "sample/part_sampler.h"
#include "support/cli.h"
#include "support/cora.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

using testing::cora;

// The parts of Cora written with `halo` hops, opened as each rank opens its own.
struct OpenParts {
  std::vector<NodeDataset> data;
  std::vector<std::unique_ptr<PartGraph>> graphs;
};

OpenParts open_parts(int parts, int64_t halo, const std::string& method) {
  const fs::path dir = testing::fresh_temp_dir("part-sampler") / "parts";
  PartitionOptions o;
  o.parts = parts;
  o.halo = halo;
  o.method = method;
  write_partitions(cora(), assign_parts(cora().graph, o), o, dir.string());
  OpenParts out;
  at::Tensor degrees = at::zeros({2, cora().num_nodes()}, at::kFloat);
  for (int p = 0; p < parts; ++p) {
    const std::string part_dir = (dir / ("part-" + std::to_string(p))).string();
    out.data.push_back(load_native_node_dataset(part_dir, cora().split_name));
    const int64_t n = out.data.back().num_nodes();
    out.graphs.push_back(std::make_unique<PartGraph>(
        out.data.back().graph, load_native_array(part_dir, "partition/global_id", "int64", n),
        load_native_array(part_dir, "partition/owner", "int32", n), p, parts, cora().num_nodes(), part_dir));
    degrees += out.graphs.back()->own_degrees();  // what the group's all-reduce sums
  }
  for (auto& g : out.graphs) g->set_whole_degrees(degrees);
  return out;
}

// Part `me`'s view of the others: their answers, computed in this process.
class InProcessRows : public RemoteRows {
 public:
  InProcessRows(const OpenParts& parts, int me, SamplerOptions options) : parts_(parts), me_(me), options_(std::move(options)) {}
  std::vector<at::Tensor> sampled_rows(const std::vector<at::Tensor>& requests) override {
    std::vector<at::Tensor> out;
    for (size_t r = 0; r < requests.size(); ++r) out.push_back(answer_sampled_rows(*parts_.graphs[r], options_, requests[r], me_));
    return out;
  }
  std::vector<at::Tensor> feature_rows(const std::vector<at::Tensor>& requests) override {
    std::vector<at::Tensor> out;
    for (size_t r = 0; r < requests.size(); ++r) {
      out.push_back(answer_table_rows(*parts_.graphs[r], parts_.data[r].features, requests[r], me_));
    }
    ++exchanges;
    return out;
  }
  int exchanges = 0;

 private:
  const OpenParts& parts_;
  int me_;
  SamplerOptions options_;
};

SamplerOptions options(std::vector<int64_t> fanouts, bool replace) {
  SamplerOptions o;
  o.fanouts = std::move(fanouts);
  o.replace = replace;
  o.seed = 11;
  return o;
}

void expect_same_batch(const PartBatch& got, const SampledBatch& want, const std::string& where) {
  ASSERT_TRUE(at::equal(got.sample.seeds, want.seeds)) << where;
  ASSERT_EQ(got.sample.blocks.size(), want.blocks.size()) << where;
  for (size_t k = 0; k < want.blocks.size(); ++k) {
    const Block& a = got.sample.blocks[k];
    const Block& b = want.blocks[k];
    ASSERT_TRUE(at::equal(a.src_nodes, b.src_nodes)) << where << ", block " << k;
    EXPECT_TRUE(at::equal(a.graph.csc_indptr().to(at::kLong), b.graph.csc_indptr().to(at::kLong))) << where << ", block " << k;
    EXPECT_TRUE(at::equal(a.graph.csc_indices().to(at::kLong), b.graph.csc_indices().to(at::kLong))) << where << ", block " << k;
  }
  EXPECT_TRUE(at::equal(got.features, gather_rows(cora().features, want.input_nodes()))) << where;
}

TEST(PartSampler, FetchingFromTheOwnersGivesTheWholeGraphsBatch) {
  ASSERT_TRUE(cora().graph.flags().sorted);  // the whole graph's rows are ascending, as PartGraph orders a part's
  const OpenParts parts = open_parts(3, 1, "metis");
  for (const bool replace : {false, true}) {
    const SamplerOptions o = options({5, 4, 3}, replace);
    for (int p = 0; p < 3; ++p) {
      const PartGraph& part = *parts.graphs[static_cast<size_t>(p)];
      InProcessRows remote(parts, p, o);
      const at::Tensor seeds = at::arange(0, part.owned(), 7, at::kLong);  // local ids of own nodes
      for (const int64_t epoch : {1, 4}) {
        const PartBatch got = sample_on_part(part, parts.data[static_cast<size_t>(p)].features, seeds, o, epoch, &remote);
        const SampledBatch want = sample_neighbors(cora().graph, part.global_id().index_select(0, seeds), o, epoch);
        expect_same_batch(got, want, "part " + std::to_string(p) + (replace ? ", with replacement" : ""));
      }
      EXPECT_EQ(remote.exchanges, 2);
      // Three hops reach beyond a one-hop halo: some features came from their owners.
      const PartBatch b = sample_on_part(part, parts.data[static_cast<size_t>(p)].features, seeds, o, 1, &remote);
      int64_t beyond = 0;
      for (int64_t i = 0; i < b.sample.input_nodes().size(0); ++i) beyond += part.local_of(b.sample.input_nodes()[i].item<int64_t>()) < 0;
      EXPECT_GT(beyond, 0) << "part " << p;
    }
  }
  // A rank without seeds still takes part in every exchange.
  InProcessRows remote(parts, 0, options({5, 4, 3}, false));
  const PartBatch none = sample_on_part(*parts.graphs[0], parts.data[0].features, at::empty({0}, at::kLong),
                                        options({5, 4, 3}, false), 1, &remote);
  EXPECT_EQ(remote.exchanges, 1);
  EXPECT_EQ(none.sample.input_nodes().numel(), 0);
}

TEST(PartSampler, HaloOnlyMatchesWhereTheHaloCoversTheHopsAndStaysInThePartOtherwise) {
  const SamplerOptions o = options({6, 4}, false);
  const OpenParts deep = open_parts(2, 2, "metis");
  for (int p = 0; p < 2; ++p) {
    const PartGraph& part = *deep.graphs[static_cast<size_t>(p)];
    const at::Tensor seeds = at::arange(0, part.owned(), 5, at::kLong);
    const PartBatch got = sample_on_part(part, deep.data[static_cast<size_t>(p)].features, seeds, o, 2, nullptr);
    expect_same_batch(got, sample_neighbors(cora().graph, part.global_id().index_select(0, seeds), o, 2),
                      "halo 2, part " + std::to_string(p));
  }
  const OpenParts thin = open_parts(2, 1, "metis");
  const PartGraph& part = *thin.graphs[0];
  const PartBatch got =
      sample_on_part(part, thin.data[0].features, at::arange(0, part.owned(), 5, at::kLong), o, 2, nullptr);
  const at::Tensor nodes = got.sample.input_nodes();
  for (int64_t i = 0; i < nodes.numel(); ++i) ASSERT_GE(part.local_of(nodes[i].item<int64_t>()), 0);
}

TEST(PartSampler, WholeGraphDegreesAndWholeRows) {
  const OpenParts parts = open_parts(3, 1, "random");
  const at::Tensor whole = nn::GraphCache::full_gcn_degree(cora().graph);
  for (const auto& part : parts.graphs) {
    EXPECT_TRUE(at::equal(part->gcn_degree(), whole));
    const at::Tensor in = cora().graph.in_degrees().index_select(0, part->global_id());
    const at::Tensor here = part->graph().in_degrees();
    for (int64_t l = 0; l < part->num_local(); ++l) {
      ASSERT_EQ(part->full_row(l), here[l].item<int64_t>() == in[l].item<int64_t>()) << l;
      if (l < part->owned()) {
        ASSERT_TRUE(part->full_row(l)) << l;
      }
    }
  }
}

TEST(PartSampler, ARequestForANodeThePartDoesNotOwnIsRefused) {
  const OpenParts parts = open_parts(2, 1, "metis");
  const PartGraph& part = *parts.graphs[0];
  const int64_t foreign = parts.graphs[1]->global_id()[0].item<int64_t>();
  try {
    answer_sampled_rows(part, options({3}, false), request_sampled_rows(1, 1, 0, {foreign}), 1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("part 1 asked for node " + std::to_string(foreign) + ", which part 0 does not own"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(answer_table_rows(part, parts.data[0].features, at::tensor({foreign}, at::kLong), 1), InputError);
  EXPECT_THROW(sample_on_part(part, parts.data[0].features, at::tensor({part.owned()}, at::kLong), options({3}, false), 1,
                              nullptr),
               InputError);
}

}  // namespace
}  // namespace ripple
