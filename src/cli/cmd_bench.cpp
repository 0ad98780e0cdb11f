// `ripple bench`: end-to-end training epochs over a grid of settings (comma-separated values
// multiply out). With more than one configuration each runs in its own child process, so
// that every peak_rss_mb is that configuration's own.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ripple/bench.h"
#include "ripple/error.h"
#include "ripple/model.h"

extern char** environ;

namespace ripple::cli {
namespace {

using json = nlohmann::ordered_json;

struct BenchGrid {
  std::vector<std::string> datasets, models;
  std::vector<int64_t> nodes{100000}, edges{2000000}, features{128}, layers{2}, hidden{64}, heads{1}, threads{0};
  std::vector<std::string> overrides;  // --set key=v1,v2: one grid axis each
  TrainingBenchSettings base;
  std::string output = "md";
  bool in_process = false;
  // --sampler: sampling throughput instead of training epochs.
  bool sampler = false, replace = false;
  std::vector<int64_t> fanouts{15, 10, 5}, workers{1};
  int64_t batch_size = 1024, batches = 0;
};

json to_json(const SamplerBenchResult& r) {
  const SamplerBenchSettings& s = r.settings;
  json j = {{"mode", "sampler"}, {"dataset", r.dataset_name}, {"nodes", r.nodes}, {"edges", r.edges},
          {"fanouts", fmt::format("{}", fmt::join(s.fanouts, ","))}, {"replace", s.replace},
          {"batch_size", s.batch_size}, {"workers", s.workers}, {"batches", r.batches}, {"seeds", r.seeds},
          {"passes", s.data.epochs}, {"warmup", s.data.warmup}, {"pass_ms_median", r.pass_ms_median},
          {"pass_ms_min", r.pass_ms_min}, {"pass_ms_max", r.pass_ms_max}, {"seeds_per_second", r.seeds_per_second},
          {"input_nodes_per_batch", r.input_nodes_per_batch}, {"load_s", r.load_s}, {"peak_rss_mb", r.peak_rss_mb}};
  if (s.train) {
    j["model"] = s.data.model;
    j["hidden"] = s.data.hidden;
    j["threads"] = r.threads;
    j["epoch_ms_median"] = r.epoch_ms_median;
    j["epoch_ms_min"] = r.epoch_ms_min;
    j["epoch_ms_max"] = r.epoch_ms_max;
    j["last_epoch_loss"] = r.last_epoch_loss;
  }
  return j;
}

const std::vector<std::string> kSamplerColumns = {"dataset", "nodes", "edges", "fanouts", "batch_size", "workers",
                                                  "batches", "pass_ms_median", "pass_ms_min", "pass_ms_max",
                                                  "seeds_per_second", "input_nodes_per_batch", "peak_rss_mb"};

const std::vector<std::string> kMinibatchColumns = {"model", "dataset", "nodes", "edges", "fanouts", "batch_size",
                                                    "workers", "hidden", "batches", "seeds_per_second",
                                                    "epoch_ms_median", "epoch_ms_min", "epoch_ms_max", "peak_rss_mb"};

json to_json(const TrainingBenchResult& r) {
  const TrainingBenchSettings& s = r.settings;
  return {{"model", s.model}, {"dataset", r.dataset_name}, {"nodes", r.nodes}, {"edges", r.edges},
          {"features", r.features}, {"layers", s.layers}, {"hidden", s.hidden}, {"heads", s.heads},
          {"threads", r.threads}, {"dropout", s.dropout}, {"epochs", s.epochs}, {"warmup", s.warmup},
          {"epoch_ms_median", r.epoch_ms_median}, {"epoch_ms_min", r.epoch_ms_min},
          {"epoch_ms_max", r.epoch_ms_max}, {"forward_ms_median", r.forward_ms_median},
          {"backward_ms_median", r.backward_ms_median}, {"step_ms_median", r.step_ms_median},
          {"load_s", r.load_s}, {"peak_rss_mb", r.peak_rss_mb}, {"dense_gflop", r.dense_gflop},
          {"graph_gb", r.graph_gb}, {"gemm_gflops", r.gemm_gflops}, {"copy_gbps", r.copy_gbps},
          {"bound_ms", r.bound_ms}, {"of_bound", r.of_bound}, {"set", fmt::format("{}", fmt::join(s.overrides, " "))}};
}

const std::vector<std::string> kColumns = {"model", "dataset", "nodes", "edges", "features", "layers", "hidden",
                                           "heads", "threads", "epoch_ms_median", "epoch_ms_min", "epoch_ms_max",
                                           "forward_ms_median", "backward_ms_median", "step_ms_median", "peak_rss_mb",
                                           "dense_gflop", "graph_gb", "bound_ms", "of_bound", "set"};

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.2f}", v.get<double>());
  return v.dump();
}

void print_rows(const std::vector<json>& rows, const std::string& format,
                const std::vector<std::string>& kColumns = kColumns) {
  if (format == "json") {
    for (const json& r : rows) fmt::print("{}\n", r.dump());
  } else if (format == "csv") {
    for (size_t i = 0; i < kColumns.size(); ++i) fmt::print("{}{}", i ? "," : "", kColumns[i]);
    fmt::print("\n");
    for (const json& r : rows) {
      for (size_t i = 0; i < kColumns.size(); ++i) fmt::print("{}{}", i ? "," : "", cell(r.at(kColumns[i])));
      fmt::print("\n");
    }
  } else {
    fmt::print("|");
    for (const auto& c : kColumns) fmt::print(" {} |", c);
    fmt::print("\n|");
    for (size_t i = 0; i < kColumns.size(); ++i) fmt::print(" --- |");
    fmt::print("\n");
    for (const json& r : rows) {
      fmt::print("|");
      for (const auto& c : kColumns) fmt::print(" {} |", cell(r.at(c)));
      fmt::print("\n");
    }
  }
  std::fflush(stdout);
}

// Runs this binary again with `args`; returns its exit status and standard output.
std::pair<int, std::string> run_self(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error(fmt::format("cannot start a benchmark child process: {}", std::strerror(rc)));
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

std::vector<std::string> child_args(const TrainingBenchSettings& s) {
  std::vector<std::string> a{"ripple", "bench", "--in-process", "--output", "json", "--model", s.model,
                             "--layers", std::to_string(s.layers), "--hidden", std::to_string(s.hidden),
                             "--heads", std::to_string(s.heads), "--threads", std::to_string(s.threads),
                             "--epochs", std::to_string(s.epochs), "--warmup", std::to_string(s.warmup),
                             "--dropout", fmt::format("{}", s.dropout), "--seed", std::to_string(s.seed)};
  for (const std::string& o : s.overrides) a.insert(a.end(), {"--set", o});
  if (s.dataset.empty()) {
    for (const std::string& x : {std::string("--kind"), s.kind, std::string("--nodes"), std::to_string(s.nodes),
                                 std::string("--edges"), std::to_string(s.edges), std::string("--features"),
                                 std::to_string(s.features), std::string("--classes"), std::to_string(s.classes)}) {
      a.push_back(x);
    }
  } else {
    a.insert(a.end(), {"--dataset", s.dataset});
    if (!s.split.empty()) a.insert(a.end(), {"--split", s.split});
  }
  return a;
}

// "key=v1,v2,[1,2]" -> {"key=v1", "key=v2", "key=[1,2]"}: commas inside brackets or quotes
// belong to one value (a list such as sampler.fanouts).
std::vector<std::string> override_values(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) return {assignment};  // Config::set_override names the error
  const std::string key = assignment.substr(0, eq + 1);
  std::vector<std::string> out;
  std::string value;
  int depth = 0;
  bool quoted = false;
  for (const char ch : assignment.substr(eq + 1)) {
    if (ch == '"') quoted = !quoted;
    if (!quoted && ch == '[') ++depth;
    if (!quoted && ch == ']') --depth;
    if (ch == ',' && depth == 0 && !quoted) {
      out.push_back(key + value);
      value.clear();
    } else {
      value += ch;
    }
  }
  out.push_back(key + value);
  return out;
}

// Every combination of the --set axes (one list of overrides per grid point).
std::vector<std::vector<std::string>> override_grid(const std::vector<std::string>& axes) {
  std::vector<std::vector<std::string>> grid{{}};
  for (const std::string& axis : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& point : grid) {
      for (const std::string& v : override_values(axis)) {
        next.push_back(point);
        next.back().push_back(v);
      }
    }
    grid = std::move(next);
  }
  return grid;
}

std::vector<TrainingBenchSettings> expand(const BenchGrid& g) {
  std::vector<TrainingBenchSettings> out;
  const std::vector<std::string> datasets = g.datasets.empty() ? std::vector<std::string>{""} : g.datasets;
  const bool generated = g.datasets.empty();
  for (const std::string& ds : datasets)
    for (int64_t n : generated ? g.nodes : std::vector<int64_t>{0})
      for (int64_t e : generated ? g.edges : std::vector<int64_t>{0})
        for (int64_t f : generated ? g.features : std::vector<int64_t>{0})
          for (const std::string& m : g.models)
            for (int64_t l : g.layers)
              for (int64_t h : g.hidden)
                for (int64_t k : g.heads)
                  for (int64_t t : g.threads)
                    for (const std::vector<std::string>& overrides : override_grid(g.overrides)) {
                      TrainingBenchSettings s = g.base;
                      s.overrides = overrides;
                      s.dataset = ds;
                      if (generated) {
                        s.nodes = n;
                        s.edges = e;
                        s.features = f;
                      }
                      s.model = m;
                      s.layers = l;
                      s.hidden = h;
                      s.heads = k;
                      s.threads = t;
                      out.push_back(s);
                    }
  return out;
}

// The flag of `ripple bench` that sets a settings field ("model.layers" -> --layers); a
// field without a flag of its own was set with --set and keeps its name.
std::string bench_flag(const std::string& field) {
  static const std::map<std::string, std::string> flags = {
      {"model.name", "--model"},     {"model.layers", "--layers"},   {"model.hidden", "--hidden"},
      {"model.heads", "--heads"},    {"model.dropout", "--dropout"}, {"train.threads", "--threads"},
      {"train.seed", "--seed"},      {"sampler.fanouts", "--fanouts"}, {"sampler.batch_size", "--batch-size"},
      {"sampler.workers", "--workers"}, {"epochs", "--epochs"},    {"warmup", "--warmup"},
      {"features", "--features"},    {"classes", "--classes"},       {"batches", "--batches"}};
  const auto it = flags.find(field);
  return it == flags.end() ? "--set " + field : it->second;
}

// Runs the grid; `train`: --model was given (the sampler bench then also trains).
int run_bench(const BenchGrid& g, bool train) {
  if (g.sampler) {
    for (const std::string& m : g.models) {
      if (!is_known_model(m)) throw InputError(fmt::format("--model: unknown model '{}'", m));
    }
    std::vector<json> rows;
    const std::vector<std::string> datasets = g.datasets.empty() ? std::vector<std::string>{""} : g.datasets;
    const std::vector<std::string> models = train ? g.models : std::vector<std::string>{""};
    for (const std::string& ds : datasets) {
      for (const std::string& m : models) {
        for (int64_t w : g.workers) {
          SamplerBenchSettings s;
          s.data = g.base;
          s.data.dataset = ds;
          s.data.nodes = g.nodes.front();
          s.data.edges = g.edges.front();
          s.data.features = g.features.front();
          s.data.model = m;
          s.data.hidden = g.hidden.front();
          s.data.heads = g.heads.front();
          s.data.threads = g.threads.front();
          s.fanouts = g.fanouts;
          s.batch_size = g.batch_size;
          s.workers = w;
          s.batches = g.batches;
          s.replace = g.replace;
          s.train = train;
          rows.push_back(to_json(run_sampler_bench(s)));
          if (g.output == "json") print_rows({rows.back()}, "json");
        }
      }
    }
    if (g.output != "json") print_rows(rows, g.output, train ? kMinibatchColumns : kSamplerColumns);
    return 0;
  }
  for (const std::string& m : g.models) {  // refuse a bad grid before running any of it
    if (!is_known_model(m)) throw InputError(fmt::format("--model: unknown model '{}'", m));
  }
  const std::vector<TrainingBenchSettings> grid = expand(g);
  std::vector<json> rows;
  if (grid.size() == 1 || g.in_process) {
    for (const TrainingBenchSettings& s : grid) {
      rows.push_back(to_json(run_training_bench(s)));
      if (g.output == "json") {  // stream lines as they finish
        print_rows({rows.back()}, "json");
      }
    }
    if (g.output != "json") print_rows(rows, g.output);
    return 0;
  }
  for (const TrainingBenchSettings& s : grid) {
    const auto [status, out] = run_self(child_args(s));
    if (status != 0) {
      if (status == 2) throw InputError("a benchmark configuration was refused (see the message above)");
      throw std::runtime_error(fmt::format("benchmark child exited with status {}", status));
    }
    rows.push_back(json::parse(out));
    if (g.output == "json") print_rows({rows.back()}, "json");
  }
  if (g.output != "json") print_rows(rows, g.output);
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto g = std::make_shared<BenchGrid>();
  g->models = {"gcn"};
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time full-batch training epochs (median, min, max, peak memory) over a grid of settings");
  cmd->footer("Comma-separated values form a grid: --model gcn,sage,gat --hidden 64,256 runs 6 configurations.\n"
                "Without --dataset a graph is generated in memory (--kind, --nodes, --edges, --features).");
  cmd->add_option("--dataset", g->datasets, "Dataset directories (OGB raw layout)")->delimiter(',');
  cmd->add_option("--split", g->base.split, "Split of the dataset (default: public, else the first)");
  cmd->add_option("--kind", g->base.kind, "Generated graph: rmat or uniform")->capture_default_str();
  cmd->add_option("--nodes", g->nodes, "Generated graph nodes")->delimiter(',')->capture_default_str();
  cmd->add_option("--edges", g->edges, "Generated graph edges")->delimiter(',')->capture_default_str();
  cmd->add_option("--features", g->features, "Generated features per node")->delimiter(',')->capture_default_str();
  cmd->add_option("--classes", g->base.classes, "Generated label classes")->capture_default_str();
  cmd->add_option("--model", g->models, "Models: gcn, sage, gat, ...")->delimiter(',')->capture_default_str();
  cmd->add_option("--layers", g->layers, "Layers")->delimiter(',')->capture_default_str();
  cmd->add_option("--hidden", g->hidden, "Hidden width (per head for GAT)")->delimiter(',')->capture_default_str();
  cmd->add_option("--heads", g->heads, "GAT heads")->delimiter(',')->capture_default_str();
  cmd->add_option("--threads", g->threads, "Intra-op threads (0: all cores)")->delimiter(',')->capture_default_str();
  cmd->add_option("--dropout", g->base.dropout, "Dropout probability")->capture_default_str();
  cmd->add_option("--set", g->overrides,
                  "Override a run setting as `ripple train --set` does: section.key=value; comma-separated values "
                  "(outside brackets) form a grid axis, e.g. --set model.aggr=mean,max (repeatable)");
  cmd->add_option("--epochs", g->base.epochs, "Timed epochs")->capture_default_str();
  cmd->add_option("--warmup", g->base.warmup, "Untimed epochs first")->capture_default_str();
  cmd->add_option("--seed", g->base.seed, "Seed (graph, features, weights)")->capture_default_str();
  cmd->add_option("--output", g->output, "md, csv or json (one object per line)")
      ->check(CLI::IsMember({"md", "csv", "json"}))
      ->capture_default_str();
  cmd->add_flag("--in-process", g->in_process, "Run every configuration in this process");
  cmd->add_flag("--sampler", g->sampler,
                "Measure neighbour sampling and feature gathering over the training seeds (seeds_per_second) "
                "instead of training epochs; --epochs/--warmup count passes. With --model, also time mini-batch training "
                "epochs (one layer per fanout, --hidden wide; epoch_ms_median)");
  cmd->add_option("--fanouts", g->fanouts, "Sampler: neighbours per hop from the seeds (-1: all)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--batch-size", g->batch_size, "Sampler: seeds per batch")->capture_default_str();
  cmd->add_option("--workers", g->workers, "Sampler: worker threads")->delimiter(',')->capture_default_str();
  cmd->add_option("--batches", g->batches, "Sampler: batches per pass (0: all training seeds)")->capture_default_str();
  cmd->add_flag("--replace", g->replace, "Sampler: sample with replacement");
  return [g, cmd] {
    try {
      return run_bench(*g, cmd->count("--model") > 0);
    } catch (const SettingError& e) {  // the library names the field; the user wrote a flag
      throw InputError(fmt::format("{}: {}", bench_flag(e.field()), e.detail()));
    }
  };
}

}  // namespace ripple::cli
