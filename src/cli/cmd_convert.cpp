#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "io/gz_writer.h"
#include "ripple/convert.h"
#include "ripple/dataset.h"
#include "ripple/error.h"
#include "ripple/graph_dataset.h"
#include "ripple/native_dataset.h"
#include "ripple/reorder.h"

namespace ripple::cli {
namespace {

struct ConvertOptions {
  std::string in, out, split, reorder = "none", format = "native", feature_dtype = "float32", memory_budget = "1G";
  uint64_t seed = 1;
};

}  // namespace

Action add_convert_command(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Rewrite a dataset (native or OGB raw layout) in the native memory-mapped format or the OGB "
                 "layout, optionally with nodes reordered for locality; a TU graph-classification folder becomes a "
                 "native graph collection");
  cmd->add_option("--in", o->in, "Input dataset directory")->required();
  cmd->add_option("--out", o->out, "Output directory (must not exist)")->required();
  cmd->add_option("--split", o->split, "Split to carry over (default: public, else the first)");
  cmd->add_option("--format", o->format, "Output layout: native (memory-mapped, docs/formats.md) or ogb")
      ->capture_default_str()
      ->check(CLI::IsMember({"native", "ogb"}));
  cmd->add_option("--feature-dtype", o->feature_dtype, "Stored feature type (native): float32, float16, bfloat16")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}));
  cmd->add_option("--reorder", o->reorder, "none, degree, rcm (reverse Cuthill-McKee) or random")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of --reorder random")->capture_default_str();
  cmd->add_option("--memory-budget", o->memory_budget,
                  "Bytes for the streaming conversion's buffers (OGB input to native output without --reorder or "
                  "edge features: external sort, features streamed), e.g. 512M, 4G")
      ->capture_default_str();
  return [o, cmd] {
    const auto start = std::chrono::steady_clock::now();
    if (std::filesystem::exists(o->out)) {  // before the (possibly long) load
      throw InputError(fmt::format("{}: already exists; choose a new --out", o->out));
    }
    const int64_t budget = parse_byte_size(o->memory_budget, "--memory-budget");
    const bool budget_given = cmd->count("--memory-budget") > 0;
    if (is_tu_dataset(o->in) || is_native_graph_dataset(o->in)) {
      if (o->format != "native") throw InputError("--format ogb: a graph-classification dataset converts to native only");
      if (o->reorder != "none") throw InputError("--reorder: a graph-classification dataset keeps its node order");
      if (!o->split.empty()) {
        throw InputError("--split: a graph-classification dataset has no stored split (task.folds draws the folds)");
      }
      if (budget_given) {
        fmt::print(stderr,
                   "note: --memory-budget bounds the streaming conversion of node datasets only; a graph collection "
                   "({}) is converted in memory\n",
                   o->in);
      }
      const GraphDataset data = load_graph_dataset(o->in);
      write_native_graph_dataset(data, o->out, o->feature_dtype);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("wrote {} (native graph collection, {} graphs, {} nodes, {} edges) in {:.1f} s\n", o->out,
                 data.num_graphs(), data.num_nodes(), data.graph.num_edges(), seconds);
      return 0;
    }
    if (o->format == "ogb" && o->feature_dtype != "float32") {
      throw InputError("--feature-dtype: the OGB layout stores float32 text; use --format native");
    }
    if (o->format == "native" && o->reorder == "none" && can_stream_convert(o->in)) {
      StreamingConvertOptions so;
      so.split = o->split;
      so.feature_dtype = o->feature_dtype;
      so.memory_budget = budget;
      const StreamingConvertReport r = stream_convert_ogb_to_native(o->in, o->out, so);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("wrote {} (native format, {} nodes, {} edges from {} input edges) in {:.1f} s, streaming: {} sorted "
                 "run(s) of up to {} edges (--memory-budget {})\n",
                 o->out, r.nodes, r.edges, r.input_edges, seconds, r.runs, r.run_capacity, o->memory_budget);
      return 0;
    }
    if (budget_given) {
      fmt::print(stderr,
                 "note: --memory-budget bounds the streaming conversion only (OGB input, native output, no --reorder, "
                 "no edge features); this one loads {} in memory\n",
                 o->in);
    }
    const NodeDataset data = load_node_dataset(o->in, o->split);
    const at::Tensor new_id = reorder_permutation(data.graph, o->reorder, o->seed);
    const NodeDataset out = o->reorder == "none" ? data : permute_dataset(data, new_id);
    if (o->format == "native") {
      NativeWriteOptions w;
      w.feature_dtype = o->feature_dtype;
      if (o->reorder != "none") w.extra_arrays.emplace_back("mapping/new_id", new_id);
      write_native_node_dataset(out, o->out, w);
    } else {
      write_ogb_node_dataset(out, o->out, [&](const std::filesystem::path& root) {
        // mapping/new-id.csv.gz: line i holds the new id of input node i.
        std::filesystem::create_directories(root / "mapping");
        const at::Tensor ids = new_id.contiguous();
        io::write_column(root / "mapping" / "new-id.csv.gz",
                         std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel()));
      });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("wrote {} ({} format, {} nodes, {} edges, reorder {}) in {:.1f} s\n", o->out, o->format,
               out.num_nodes(), out.graph.num_edges(), o->reorder, seconds);
    return 0;
  };
}

}  // namespace ripple::cli
