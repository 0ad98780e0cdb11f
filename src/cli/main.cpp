// `ripple`: the command line. Exit codes: 0 success, 2 bad input or usage, 3 a failing file
// system (disk full, permission denied), 4 a distributed run lost a peer, 1 internal error
// (docs/errors.md).
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/blas_kernels.h"
#include "cli/commands.h"
#include "ripple/error.h"
#include "ripple/memory.h"
#include "ripple/threads.h"

namespace {
// In a distributed run (WORLD_SIZE set) every error names its rank.
std::string rank_prefix(const std::string& message) {
  const char* world = std::getenv("WORLD_SIZE");
  const char* rank = std::getenv("RANK");
  if (!world || !rank || message.rfind("rank ", 0) == 0) return "";
  return fmt::format("rank {}: ", rank);
}
}  // namespace

int main(int argc, char** argv) {
  ripple::cli::prefer_avx2_blas_kernels(argc, argv);  // may re-execute this process once
  // Past a file-size limit a write then fails with EFBIG, reported like a full disk,
  // instead of the signal killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  ripple::install_huge_page_allocator();
  ripple::set_intra_op_threads();  // commands with a thread setting override it
  CLI::App app{"Ripple: message-passing graph neural networks in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ripple 0.1.0");
  ripple::cli::Action train = ripple::cli::add_train_command(app);
  ripple::cli::Action eval = ripple::cli::add_eval_command(app);
  ripple::cli::Action info = ripple::cli::add_info_command(app);
  ripple::cli::Action generate = ripple::cli::add_generate_command(app);
  ripple::cli::Action convert = ripple::cli::add_convert_command(app);
  ripple::cli::Action bench = ripple::cli::add_bench_command(app);
  ripple::cli::Action config = ripple::cli::add_config_command(app);
  ripple::cli::Action recommend = ripple::cli::add_recommend_command(app);
  ripple::cli::Action export_embeddings = ripple::cli::add_export_command(app);
  ripple::cli::Action launch = ripple::cli::add_launch_command(app);
  ripple::cli::Action partition = ripple::cli::add_partition_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (app.got_subcommand("train")) return train();
    if (app.got_subcommand("eval")) return eval();
    if (app.got_subcommand("generate")) return generate();
    if (app.got_subcommand("convert")) return convert();
    if (app.got_subcommand("bench")) return bench();
    if (app.got_subcommand("config")) return config();
    if (app.got_subcommand("recommend")) return recommend();
    if (app.got_subcommand("export")) return export_embeddings();
    if (app.got_subcommand("launch")) return launch();
    if (app.got_subcommand("partition")) return partition();
    return info();
  } catch (const ripple::InputError& e) {
    fmt::print(stderr, "\nripple: error: {}{}\n", rank_prefix(e.what()), e.what());
    return ripple::kExitInput;
  } catch (const ripple::FileSystemError& e) {
    fmt::print(stderr, "\nripple: file system error: {}{}\n", rank_prefix(e.what()), e.what());
    return ripple::kExitFileSystem;
  } catch (const ripple::DistributedError& e) {
    fmt::print(stderr, "\nripple: distributed error: {}\n", e.what());
    return ripple::kExitDistributed;
  } catch (const std::exception& e) {
    fmt::print(stderr, "\nripple: internal error: {}{}\n", rank_prefix(e.what()), e.what());
    return ripple::kExitInternal;
  }
}
