// `ripple partition`: splits a node dataset into parts for distributed training, one
// native dataset per part with its halo (include/ripple/partition.h, docs/distributed.md).
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "ripple/convert.h"
#include "ripple/dataset.h"
#include "ripple/native_dataset.h"
#include "ripple/partition.h"

namespace ripple::cli {
namespace {

struct PartitionCommandOptions {
  std::string in, out, split, memory_budget;
  PartitionOptions partition;
};

int run_partition(const PartitionCommandOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const NodeDataset data = load_node_dataset(o.in, o.split);
  // A native dataset is mapped (its pages can be evicted); the OGB layout is read into memory.
  const int64_t resident = is_native_dataset(o.in) ? 0
                                                   : static_cast<int64_t>(data.features.nbytes() + data.labels.nbytes() +
                                                                          data.graph.csc_indptr().nbytes() +
                                                                          data.graph.csc_indices().nbytes());
  check_partition_budget(data.graph, o.partition, resident);
  const auto loaded = std::chrono::steady_clock::now();
  const at::Tensor assignment = assign_parts(data.graph, o.partition);
  const double assign_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - loaded).count();
  const PartitionReport r = write_partitions(data, assignment, o.partition, o.out);
  PartitionOptions random = o.partition;
  random.method = "random";
  const int64_t random_cut = o.partition.parts > 1 ? edge_cut(data.graph, assign_parts(data.graph, random)) : 0;
  const auto pct = [&](int64_t cut) { return r.num_edges ? 100.0 * static_cast<double>(cut) / r.num_edges : 0.0; };
  fmt::print("partitioned {} ({} nodes, {} edges) into {} parts by {} with {} halo hop(s): {}\n", o.in, r.num_nodes,
             r.num_edges, o.partition.parts, o.partition.method, o.partition.halo, o.out);
  fmt::print("edge cut {} ({:.2f} % of edges; random assignment: {:.2f} %), balance {:.3f} (largest part / mean)\n",
             r.edge_cut, pct(r.edge_cut), pct(random_cut), r.balance);
  for (size_t p = 0; p < r.parts.size(); ++p) {
    fmt::print("  part-{}: {} owned nodes, {} halo nodes, {} edges\n", p, r.parts[p].owned, r.parts[p].halo_nodes,
               r.parts[p].edges);
  }
  fmt::print("assignment {:.2f} s, total {:.2f} s (load included), peak memory {:.1f} MiB\n", assign_s,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
             static_cast<double>(r.peak_rss_bytes) / (1 << 20));
  return 0;
}

}  // namespace

Action add_partition_command(CLI::App& app) {
  auto o = std::make_shared<PartitionCommandOptions>();
  CLI::App* cmd = app.add_subcommand("partition", "Split a node dataset into parts (with halos) for distributed training");
  cmd->add_option("--in", o->in, "Dataset directory (OGB raw layout or native)")->required();
  cmd->add_option("--out", o->out, "Output directory (must not exist): part-<p>/, assignment.npy, partition.json")
      ->required();
  cmd->add_option("--parts", o->partition.parts, "Number of parts")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--method", o->partition.method, "metis (min edge cut), ldg (one streaming pass) or random")
      ->check(CLI::IsMember({"metis", "ldg", "random"}));
  cmd->add_option("--halo", o->partition.halo, "Hops of upstream neighbours stored with each part (>= the model's layers "
                                               "to see every owned node's receptive field)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--seed", o->partition.seed, "Seed of the random and METIS assignments");
  cmd->add_option("--split", o->split, "Split to carry (default: public, else the first)");
  cmd->add_option("--memory-budget", o->memory_budget,
                  "Memory the partitioner may hold beyond the mapped dataset, e.g. 6G: a method that needs more is "
                  "refused before it starts (default: unchecked)");
  return [o] {
    if (!o->memory_budget.empty()) o->partition.memory_budget = parse_byte_size(o->memory_budget, "--memory-budget");
    return run_partition(*o);
  };
}

}  // namespace ripple::cli
