// The units of a run directory. See src/train/units.h.
#include "train/units.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "ripple/error.h"
#include "train/files.h"
#include "train/loop.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple::train {
namespace {

using Folder = std::map<std::string, std::string>;  // file name -> contents

// A unit's folder as one message: a JSON line of [name, size] pairs, then the contents in
// that order. Only finished files: a temporary file of an atomic write is left out.
std::string pack(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() != ".tmp") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  json header = json::array();
  std::string body;
  for (const fs::path& f : files) {
    std::string contents = read_file(f);
    header.push_back({f.filename().string(), contents.size()});
    body += contents;
  }
  return header.dump() + "\n" + body;
}

Folder unpack(const std::string& message, const std::string& origin) {
  Folder out;
  const size_t end = message.find('\n');
  try {
    if (end == std::string::npos) throw std::runtime_error("no header line");
    size_t at = end + 1;
    for (const json& entry : json::parse(message.substr(0, end))) {
      const auto name = entry.at(0).get<std::string>();
      const auto size = entry.at(1).get<size_t>();
      if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        throw std::runtime_error(fmt::format("bad file name \"{}\"", name));
      }
      if (size > message.size() - at) throw std::runtime_error(fmt::format("{} is cut short", name));
      out[name] = message.substr(at, size);
      at += size;
    }
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("{}: malformed message ({})", origin, e.what()));
  }
  return out;
}

// `owner`'s message on every rank: its size, then its bytes, each a broadcast.
std::string broadcast_message(dist::Communicator& comm, int owner, const std::string& mine, const std::string& what) {
  at::Tensor size = at::tensor({static_cast<int64_t>(mine.size())}, at::kLong);
  comm.broadcast(size, owner, dist::Traffic::control, fmt::format("broadcast of the size of {}", what));
  at::Tensor bytes = at::empty({size.item<int64_t>()}, at::kByte);
  if (comm.rank() == owner && !mine.empty()) std::memcpy(bytes.data_ptr(), mine.data(), mine.size());
  comm.broadcast(bytes, owner, dist::Traffic::control, fmt::format("broadcast of {}", what));
  if (comm.rank() == owner || bytes.numel() == 0) return mine;
  return std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel()));
}

// Writes what another rank sent into `dir`, each file atomically; files already there with
// the same contents (a file system shared with the owner) are left alone.
void write_folder(const fs::path& dir, const Folder& folder) {
  fs::create_directories(dir);
  for (const auto& [name, contents] : folder) {
    const fs::path path = dir / name;
    if (fs::is_regular_file(path) && fs::file_size(path) == contents.size() && read_file(path) == contents) continue;
    write_file_atomic(path, contents);
  }
}

}  // namespace

std::vector<UnitResult> run_units(const RunGroup& group, const fs::path& run_dir, int64_t count,
                                  const std::string& kind, const TrainCallbacks& callbacks,
                                  const TrainOneUnit& train_one) {
  TrainCallbacks cb = callbacks;
  if (group.splits_units) {
    // The ranks waiting for this one's units watch these reports (units.h).
    cb.on_epoch = [&](const EpochRecord& r) {
      group.comm->report_progress(fmt::format("{}-{}, epoch {}", kind, r.unit, r.epoch));
      if (callbacks.on_epoch) callbacks.on_epoch(r);
    };
  }
  const bool own_folders = group.writes_files() || group.splits_units;
  std::vector<std::optional<UnitResult>> results(static_cast<size_t>(count));
  int64_t epochs_this_process = 0;
  for (int64_t u = 0; u < count; ++u) {
    if (!group.trains_unit(u)) continue;
    if (group.strategy && group.strategy->skips_unit(u)) {  // a rank rejoining later: the group is past it
      UnitResult skipped;
      skipped.unit = u;
      results[static_cast<size_t>(u)] = std::move(skipped);
      continue;
    }
    const std::string name = fmt::format("{}-{}", kind, u);
    const fs::path dir = run_dir.empty() || !own_folders ? fs::path() : run_dir / name;
    UnitResult r;
    if (unit_finished(group, dir, name + "-done")) {
      if (!dir.empty()) r = read_unit_result(dir, u);  // the other ranks of a group write no summary
    } else {
      r = train_one(u, dir, cb, epochs_this_process);
    }
    if (callbacks.on_unit_done) callbacks.on_unit_done(r);
    results[static_cast<size_t>(u)] = std::move(r);
  }
  if (group.splits_units) {
    dist::Communicator& comm = *group.comm;
    comm.wait_for_ranks(kind + "s-trained", comm.timeout());
    for (int64_t u = 0; u < count; ++u) {
      const int owner = static_cast<int>(u % comm.world_size());
      const std::string name = fmt::format("{}-{}", kind, u);
      const std::string what = fmt::format("rank {}'s folder {}", owner, name);
      const std::string message = broadcast_message(comm, owner, owner == comm.rank() ? pack(run_dir / name) : "", what);
      if (owner == comm.rank()) continue;
      const Folder folder = unpack(message, what);
      if (group.writes_files()) write_folder(run_dir / name, folder);
      const auto file = [&](const std::string& f) {
        const auto it = folder.find(f);
        if (it == folder.end()) throw DistributedError(fmt::format("{}: has no {}", what, f));
        return it->second;
      };
      UnitResult r = unit_result_from_text(file("result.json"), folder.count("metrics.jsonl") ? file("metrics.jsonl") : "",
                                           u, what + "/result.json");
      if (callbacks.on_unit_done) callbacks.on_unit_done(r);
      results[static_cast<size_t>(u)] = std::move(r);
    }
  }
  std::vector<UnitResult> out;
  for (std::optional<UnitResult>& r : results) out.push_back(std::move(*r));
  return out;
}

}  // namespace ripple::train
