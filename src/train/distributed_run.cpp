// A run's place in a distributed group. See src/train/distributed_run.h.
#include "train/distributed_run.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "dist/data_parallel.h"
#include "dist/diloco.h"
#include "dist/gossip.h"
#include "dist/quantize.h"
#include "dist/remote_rows.h"
#include "ripple/config.h"
#include "ripple/native_dataset.h"
#include "ripple/error.h"
#include "train/files.h"
#include "train/minibatch.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple::train {

namespace {

// Every rank's hash of its resolved configuration against rank 0's. In an elastic group rank
// 0 also leaves its hash in the store, where a rank that rejoins later compares its own.
void agree_on_configuration(dist::Communicator& comm, const RunConfig& c) {
  const std::string toml = Config(c).to_toml();
  const auto hash = static_cast<int64_t>(dist::bytes_hash(toml.data(), toml.size()));
  if (comm.joining()) {
    if (comm.share_from_rank0("configuration_hash", "") != std::to_string(hash)) {
      throw InputError(fmt::format("rank {}: started again to rejoin, but its resolved configuration differs from rank "
                                   "0's; start it with the same --config, --set and --seeds", comm.world().rank));
    }
    return;
  }
  if (c.dist.elastic) comm.share_from_rank0("configuration_hash", std::to_string(hash));
  const at::Tensor mine = at::tensor({hash}, at::kLong);
  const at::Tensor all = comm.all_gather(mine, dist::Traffic::control, "all-gather of the configuration hashes");
  std::vector<int> differ;
  for (int r = 1; r < comm.world_size(); ++r) {
    if (all[r][0].item<int64_t>() != all[0][0].item<int64_t>()) differ.push_back(r);
  }
  if (!differ.empty()) {
    throw InputError(fmt::format("rank {}: the resolved configuration of rank(s) {} differs from rank 0's; every rank "
                                 "must be started with the same --config, --set and --seeds (compare `ripple config` "
                                 "on each)", comm.rank(), fmt::join(differ, ", ")));
  }
}

}  // namespace

RunGroup join_run_group(const RunConfig& c, bool& resume, fs::path& run_dir, const TrainCallbacks& cb) {
  RunGroup g;
  const std::optional<dist::WorldInfo> world = dist::world_from_environment();
  if (!world || world->world_size == 1) return g;
  if (resume) {
    throw InputError(fmt::format("rank {}: --resume names a run directory on one machine; restart a distributed run "
                                 "with the same command under ripple launch --max-restarts (or torchrun's), or "
                                 "resume it as a single process", world->rank));
  }
  if (world->rejoining && !c.dist.elastic) {
    throw InputError(fmt::format("rank {}: RIPPLE_REJOIN=1 (started again to rejoin) but dist.elastic is false: only an "
                                 "elastic group takes a lost rank back", world->rank));
  }
  if (world->rejoining && c.dist.data == "partitioned") {
    throw InputError(fmt::format("rank {}: RIPPLE_REJOIN=1: rejoining is built for replicated data; on partitioned "
                                 "data (dist.data = \"partitioned\") the group goes on without the lost part",
                                 world->rank));
  }
  g.comm = std::make_unique<dist::Communicator>(
      *world, std::chrono::milliseconds(static_cast<int64_t>(c.dist.timeout_s * 1000)),
      dist::LinkModel{c.dist.link_mbps, c.dist.link_latency_ms});
  agree_on_configuration(*g.comm, c);
  run_dir = g.comm->share_from_rank0("run_dir", run_dir.string());
  if (world->restart_count > 0) {
    // A restarted group continues the run rank 0 holds, when it holds this run unfinished.
    std::string verdict = "fresh";
    if (g.comm->rank() == 0 && fs::exists(run_dir / "config.toml") && !fs::exists(run_dir / "summary.json")) {
      verdict = read_file(run_dir / "config.toml") == Config(c).to_toml() ? "resume" : "differs";
    }
    verdict = g.comm->share_from_rank0("restart", verdict);
    if (verdict == "differs") {
      throw InputError(fmt::format("rank {}: restart {}: {} holds an unfinished run of another configuration",
                                   world->rank, world->restart_count, run_dir.string()));
    }
    resume = verdict == "resume";
  }
  const bool partitioned = c.dist.data == "partitioned";
  if (c.dist.strategy == "units") {
    g.splits_units = true;
  } else if (c.dist.strategy == "ddp") {
    g.strategy = std::make_unique<dist::DataParallel>(*g.comm, c.dist, partitioned, cb.on_message);
  } else if (c.dist.strategy == "gossip") {
    g.strategy = std::make_unique<dist::Gossip>(*g.comm, c.dist, partitioned, cb.on_message);
  } else {
    g.strategy = std::make_unique<dist::DiLoCo>(*g.comm, c.dist, partitioned, cb.on_message);
  }
  // Recommendation ranks its share of the users on every rank (RecommendationTask), graph
  // classification scores its share of the graphs (GraphFoldTask).
  if (g.strategy && (c.task.kind == "recommend" || c.task.kind == "graph")) g.strategy->share_evaluation();
  // Link prediction scores its share of the pairs and gathers the scores (LinkPredictionTask);
  // an elastic group's evaluation holds no collective, so rank 0 scores them all there.
  if (g.strategy && c.task.kind == "link" && !c.dist.elastic) g.strategy->gather_evaluation();
  // Sampled node classification on replicated data evaluates its share of the nodes layer by
  // layer, gathering the shares between layers (NodeClassificationTask); full batch, whose
  // evaluation is one forward pass, and elastic groups stay on rank 0.
  if (g.strategy && c.task.kind == "node" && !partitioned && !c.sampler.fanouts.empty() && !c.dist.elastic) {
    g.strategy->share_evaluation();
  }
  if (c.dist.elastic && g.strategy) {
    g.strategy->set_elastic(std::chrono::milliseconds(static_cast<int64_t>(c.dist.regroup_window_s * 1000)));
  }
  if (cb.on_joined_group) cb.on_joined_group(world->rank, world->world_size, run_dir);
  return g;
}

bool unit_finished(const RunGroup& group, const fs::path& dir, const std::string& key) {
  const bool done = !dir.empty() && fs::exists(dir / "result.json");
  if (!group.comm || group.splits_units) return done;
  return group.comm->share_from_rank0(key, done ? "yes" : "no") == "yes";
}

NodeData load_partition(const RunConfig& c, dist::Communicator* comm) {
  const int rank = comm ? comm->rank() : 0, world_size = comm ? comm->world_size() : 1;
  const fs::path root(c.dataset.path), book_path = root / "partition.json";
  if (!fs::is_regular_file(book_path)) {
    throw SettingError("dataset.path", fmt::format("{}: not a `ripple partition` folder (no partition.json), which "
                                                   "dist.data = \"partitioned\" needs", root.string()));
  }
  int64_t parts = 0, halo = 0, num_nodes = 0;
  try {
    const json book = json::parse(read_file(book_path));
    parts = book.at("parts").get<int64_t>();
    halo = book.at("halo").get<int64_t>();
    num_nodes = book.at("num_nodes").get<int64_t>();
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed partition book ({})", book_path.string(), e.what()));
  }
  if (parts != world_size) {
    throw InputError(fmt::format("rank {}: {} holds {} part(s) but the group has {} rank(s); partition with --parts {} "
                                 "or start {} ranks", rank, root.string(), parts, world_size, world_size, parts));
  }
  const fs::path dir = root / fmt::format("part-{}", rank);
  if (!fs::is_directory(dir)) {
    throw InputError(fmt::format("rank {}: {} is missing (the partition book lists {} parts)", rank, dir.string(), parts));
  }
  if (c.dist.remote == "fetch" && halo < 1) {
    throw SettingError("dist.remote", fmt::format("rank {}: fetching from the owners needs parts with a halo of at "
                                                  "least 1 hop (their own nodes' whole rows); {} has halo {}: "
                                                  "partition with --halo 1 or more", rank, root.string(), halo));
  }
  RunConfig part_config = c;
  part_config.dataset.path = dir.string();
  NodeData data = prepare_node_data(part_config);
  if (!data.minibatch) return data;
  const int64_t local = data.dataset.num_nodes();
  data.part = std::make_shared<PartGraph>(
      data.dataset.graph, load_native_array(dir.string(), "partition/global_id", "int64", local),
      load_native_array(dir.string(), "partition/owner", "int32", local), rank, world_size, num_nodes, dir.string());
  if (data.part->owned() == 0) {
    throw InputError(fmt::format("rank {}: {} owns no node; partition into fewer parts", rank, dir.string()));
  }
  if (c.dist.remote == "fetch") {  // the whole graph's degrees: which rows are whole, and GCN's weights
    at::Tensor degrees = data.part->own_degrees();
    if (comm) {  // set-up, like the initial broadcast: out of the peak per synchronization
      comm->set_in_setup(true);
      comm->all_reduce_sum(degrees, dist::Traffic::halo, "all-reduce of the whole graph's degrees");
      comm->set_in_setup(false);
    }
    data.part->set_whole_degrees(degrees);
  } else {  // halo only: the graph as the part holds it
    data.part->set_whole_degrees(data.part->held_degrees());
  }
  int64_t most = data.dataset.train_idx.numel();
  if (comm) {
    comm->set_in_setup(true);
    most = comm->all_gather(at::tensor({most}, at::kLong), dist::Traffic::control,
                            "all-gather of the parts' training-node counts").max().item<int64_t>();
    comm->set_in_setup(false);
  }
  data.part_steps = (most + c.sampler.batch_size - 1) / c.sampler.batch_size;
  if (c.dist.remote == "fetch" && comm) {
    data.remote = std::make_shared<dist::GroupRemoteRows>(*comm, *data.part, data.dataset.features,
                                                          loader_options(c.sampler, 0).sampler);
    if (c.sampler.workers > 0) {  // the next batch is fetched while this one trains
      data.prefetch_remote = std::make_shared<dist::GroupRemoteRows>(
          comm->side_group("fetch"), *data.part, data.dataset.features, loader_options(c.sampler, 0).sampler);
    }
  }
  return data;
}

json dist_summary_json(const RunConfig& c, const RunGroup& g) {
  const dist::TrafficStats mine = g.comm->total_stats();  // the fetching group's included
  at::Tensor totals = at::zeros({dist::kTrafficKinds + 3}, at::kDouble);
  for (int k = 0; k < dist::kTrafficKinds; ++k) totals[k] = mine.bytes[k];
  totals[dist::kTrafficKinds] = static_cast<double>(mine.collectives);
  totals[dist::kTrafficKinds + 1] = mine.ms;
  totals[dist::kTrafficKinds + 2] = g.strategy ? static_cast<double>(g.strategy->synchronizations()) : 0.0;
  at::Tensor peaks;
  const at::Tensor own = totals.clone();
  const auto gather = [&] {
    totals.copy_(own);
    peaks = g.comm->all_gather(at::tensor({mine.peak_bytes}, at::kDouble), dist::Traffic::control,
                               "all-gather of the largest collectives");
    g.comm->all_reduce_sum(totals, dist::Traffic::control, "all-reduce of the traffic counters");
  };
  if (g.strategy) {
    g.strategy->survive("the summary", gather);
  } else {
    gather();
  }
  // An elastic group's lost ranks count with the bytes of their last report.
  const std::map<int, dist::LostRankReport> lost =
      c.dist.elastic ? g.comm->lost_rank_reports() : std::map<int, dist::LostRankReport>{};
  json bytes = {{"total", 0.0}};
  double total = 0;
  for (int k = 0; k < dist::kTrafficKinds; ++k) {
    const auto kind = static_cast<dist::Traffic>(k);
    double sent = totals[k].item<double>();
    for (const auto& [rank, report] : lost) sent += report.bytes[k];
    bytes[dist::traffic_name(kind)] = sent;
    if (kind != dist::Traffic::diagnostics) total += sent;
  }
  bytes["total"] = total;  // what training sends: diagnostics (gossip's reports) aside
  const int n = g.comm->world_size();  // the ranks that counted: an elastic group's survivors
  json out = {{"world_size", g.comm->world().world_size},
          {"strategy", c.dist.strategy},
          {"bytes", bytes},
          {"bytes_counted_as", "sent by all ranks together, under the ring algorithms (all-reduce 2(N-1)/N of the "
                               "tensor per rank; a point-to-point exchange the tensor per peer); total leaves out "
                               "diagnostics (what gossip sends only to report its merged model and consensus "
                               "distance); a lost rank of an elastic group counts until its last report (the end of "
                               "its last epoch's training steps)"},
          {"collectives_per_rank", totals[dist::kTrafficKinds].item<double>() / n},
          {"collective_ms_per_rank", totals[dist::kTrafficKinds + 1].item<double>() / n},
          {"synchronizations_per_rank", totals[dist::kTrafficKinds + 2].item<double>() / n},
          {"peak_collective_bytes", peaks.max().item<double>()}};
  if (g.strategy) {
    out["parameter_hash"] = g.strategy->parameter_hashes();
    out["evaluation"] = g.strategy->evaluation_shared()     ? "shared: every rank evaluates its share, the sums are added up"
                        : g.strategy->evaluation_gathered() ? "gathered: every rank scores its share, the scores are "
                                                              "gathered, rank 0's metrics broadcast"
                                                            : "rank 0, its metrics broadcast";
  } else {
    out["units_on"] = "unit u on rank u mod world_size; bytes are the units' folders sent to the other ranks at the end";
  }
  if (c.dist.strategy != "ddp" && c.dist.strategy != "units") out["sync_every"] = c.dist.sync_every;
  if (c.dist.strategy == "streaming-diloco") {
    out["streaming"] = {{"fragments", c.dist.fragments}, {"overlap_steps", c.dist.overlap_steps},
                        {"fragment_mix", c.dist.fragment_mix}};
  }
  if (c.dist.strategy == "gossip") {
    out["gossip"] = {{"topology", c.dist.gossip_topology}, {"final_merge", c.dist.final_merge}};
  }
  if (c.dist.compress == "ef21-topk") {
    out["compress"] = {{"method", c.dist.compress}, {"ratio", c.dist.compress_ratio}};
  } else if (c.dist.compress != "none") {
    out["compress"] = {{"method", c.dist.compress}};
    if (c.dist.compress != "fp16") out["compress"]["block"] = dist::kQuantBlock;
    out["compress"]["error_feedback"] = c.dist.error_feedback;
  }
  if (c.dist.elastic) {
    // Every generation of the group; the bytes above are the survivors' and the lost ranks'
    // up to their last report, the per-rank figures per survivor.
    json lost_ranks = json::object();
    for (const auto& [rank, report] : lost) {
      double sent = 0;
      for (int k = 0; k < dist::kTrafficKinds; ++k) {
        if (static_cast<dist::Traffic>(k) != dist::Traffic::diagnostics) sent += report.bytes[k];
      }
      lost_ranks[std::to_string(rank)] = {{"bytes_total", sent}, {"last_report", report.progress}};
    }
    out["lost_ranks"] = lost_ranks;
    json history = json::array();
    for (const dist::MembershipChange& m : g.comm->membership()) {
      json entry = {{"generation", m.generation}, {"ranks", m.members}};
      if (m.generation > 0) {
        entry["lost"] = m.lost;
        entry["cause"] = m.cause;
      }
      if (!m.joined.empty()) {
        entry["joined"] = m.joined;
        entry["parameter_hash"] = m.proof;  // the joiners' proof: equal to their peers'
      }
      history.push_back(entry);
    }
    out["membership"] = history;
  }
  if (c.dist.link_mbps > 0) out["link"] = {{"mbps", c.dist.link_mbps}, {"latency_ms", c.dist.link_latency_ms}};
  return out;
}

}  // namespace ripple::train
