// The one training loop. See src/train/loop.h.
#include "train/loop.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "ripple/error.h"
#include "train/checkpoint.h"
#include "train/files.h"
#include "train/stats.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace ripple {
namespace {
double lookup(const Metrics& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? 0.0 : it->second;
}
}  // namespace

double EpochRecord::metric(const std::string& name) const { return lookup(metrics, name); }
double UnitResult::metric(const std::string& name) const { return lookup(metrics, name); }

}  // namespace ripple

namespace ripple::train {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

json epoch_json(const EpochRecord& r) {
  json j = {{"epoch", r.epoch}, {"loss", r.loss}, {"lr", r.lr}, {"epoch_ms", r.epoch_ms}, {"eval_ms", r.eval_ms}};
  for (const auto& [name, v] : r.metrics) j[name] = v;
  return j;
}

EpochRecord epoch_from_json(const json& j, int64_t unit) {
  EpochRecord r;
  r.unit = unit;
  for (const auto& [name, v] : j.items()) {
    if (name == "epoch") r.epoch = v.get<int64_t>();
    else if (name == "loss") r.loss = v.get<double>();
    else if (name == "lr") r.lr = v.get<double>();
    else if (name == "epoch_ms") r.epoch_ms = v.get<double>();
    else if (name == "eval_ms") r.eval_ms = v.get<double>();
    else r.metrics[name] = v.get<double>();
  }
  return r;
}

// The records of epochs <= `last_epoch` in the text of a metrics.jsonl, their lines in
// `kept`. A torn last line from a kill ends the read.
std::vector<EpochRecord> parse_history(const std::string& text, int64_t last_epoch, int64_t unit, std::string& kept) {
  std::vector<EpochRecord> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      EpochRecord r = epoch_from_json(json::parse(line), unit);
      if (r.epoch > last_epoch) break;
      out.push_back(std::move(r));
      kept += line + "\n";
    } catch (const json::exception&) {
      break;
    }
  }
  return out;
}

// The records of epochs <= `last_epoch` in `path`; the file is rewritten to hold only those
// (epochs after the checkpoint are redone).
std::vector<EpochRecord> keep_history(const fs::path& path, int64_t last_epoch, int64_t unit) {
  if (!fs::exists(path)) return {};
  std::string kept;
  std::vector<EpochRecord> out = parse_history(read_file(path), last_epoch, unit, kept);
  write_file_atomic(path, kept);
  return out;
}

// result.json's fields; the history is left to the caller.
UnitResult unit_result_fields(const std::string& text, int64_t unit, const std::string& origin) {
  UnitResult r;
  r.unit = unit;
  try {
    const json j = json::parse(text);
    for (const auto& [name, v] : j.items()) {
      if (name == "seed") r.seed = v.get<int64_t>();
      else if (name == "best_epoch") r.best_epoch = v.get<int64_t>();
      else if (name == "epochs_run") r.epochs_run = v.get<int64_t>();
      else if (name == "epoch_ms_median") r.epoch_ms_median = v.get<double>();
      else if (name == "eval_ms_median") r.eval_ms_median = v.get<double>();
      else r.metrics[name] = v.get<double>();
    }
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed result file ({}); delete it to train this unit again", origin, e.what()));
  }
  return r;
}

// Over the evaluated epochs (train.eval_every); an epoch without metrics was not evaluated.
double median_eval_ms(const std::vector<EpochRecord>& history) {
  std::vector<double> ms;
  for (const EpochRecord& r : history) {
    if (!r.metrics.empty()) ms.push_back(r.eval_ms);
  }
  return median(ms);
}

}  // namespace

json unit_result_json(const UnitResult& r) {
  json j = {{"seed", r.seed}, {"best_epoch", r.best_epoch}, {"epochs_run", r.epochs_run},
            {"epoch_ms_median", r.epoch_ms_median}, {"eval_ms_median", r.eval_ms_median}};
  for (const auto& [name, v] : r.metrics) j[name] = v;
  return j;
}

FlatAdam make_optimizer(const TrainSettings& t, torch::nn::Module& model) {
  FlatAdam optimizer(model.parameters(), t.lr, t.weight_decay, t.optimizer == "adamw");
  optimizer.set_max_grad_norm(t.clip_grad_norm);
  return optimizer;
}

EpochStats train_epoch(Task& task, FlatAdam& optimizer, int64_t epoch, Synchronizer* sync) {
  EpochStats s;
  double loss_sum = 0;
  if (sync) {
    if (const std::optional<Shard> shard = sync->new_shard()) task.reshard(*shard);
  }
  task.begin_epoch(epoch);
  for (int64_t step = 1;; ++step) {
    const auto t0 = Clock::now();
    optimizer.zero_grad();
    const std::optional<BatchLoss> batch = task.next_batch();
    if (!batch && !sync) break;
    const auto t1 = Clock::now();
    // A rank whose batches ran out keeps joining the steps of the others with a zero
    // gradient until every rank's are out (PyTorch DDP's join).
    double batch_loss_sum = 0;
    int64_t batch_examples = 0;
    if (batch) {
      batch_loss_sum = batch->loss.item<double>() * static_cast<double>(batch->examples);
      batch_examples = batch->examples;
      if (sync) sync->before_backward(optimizer, batch_examples, batch_loss_sum, epoch, step);
      batch->loss.backward();
    }
    const auto t2 = Clock::now();
    if (sync) {
      const StepTotals totals = sync->synchronize_step(optimizer, batch_examples, batch_loss_sum, epoch, step);
      if (totals.examples == 0) break;
      batch_loss_sum = totals.loss_sum;
      batch_examples = totals.examples;
    }
    optimizer.step();
    if (sync) sync->after_update(optimizer, epoch, step);
    const auto t3 = Clock::now();
    loss_sum += batch_loss_sum;
    s.examples += batch_examples;
    s.forward_ms += ms_between(t0, t1);
    s.backward_ms += ms_between(t1, t2);
    s.update_ms += ms_between(t2, t3);
  }
  s.loss = s.examples > 0 ? loss_sum / static_cast<double>(s.examples) : 0.0;
  return s;
}

UnitResult train_unit(Task& task, const TrainSettings& t, int64_t unit, uint64_t seed, const fs::path& dir,
                      const TrainCallbacks& cb, int64_t& epochs_this_process, Synchronizer* sync) {
  torch::nn::Module& model = task.build_model(seed);
  FlatAdam optimizer = make_optimizer(t, model);
  const Selection sel = task.selection();
  TrainState st;
  UnitResult result;
  result.unit = unit;
  result.seed = static_cast<int64_t>(seed);
  const bool files = !dir.empty();
  const fs::path ckpt = dir / "checkpoint.pt", metrics_path = dir / "metrics.jsonl";
  std::ofstream metrics;
  if (files) {
    fs::create_directories(dir);
    if (fs::exists(ckpt)) load_checkpoint(ckpt, model, optimizer, st);
    result.history = keep_history(metrics_path, st.epoch, unit);
    metrics.open(metrics_path, std::ios::app);
    if (!metrics) throw_file_error(metrics_path.string(), "cannot open for appending", errno);
  }
  if (sync) sync->begin_unit(model, optimizer, st, files && fs::exists(ckpt) ? ckpt : fs::path(), unit);
  const bool patient = t.patience > 0 && !sel.last_epoch;  // no selection, nothing to stop on
  bool stopped = patient && st.bad_epochs >= t.patience;
  for (int64_t epoch = st.epoch + 1; epoch <= t.epochs && !stopped; ++epoch) {
    const auto start = Clock::now();
    EpochRecord rec;
    rec.unit = unit;
    rec.epoch = epoch;
    rec.lr = scheduled_learning_rate(t, epoch);
    optimizer.set_lr(rec.lr);
    rec.loss = train_epoch(task, optimizer, epoch, sync).loss;
    rec.epoch_ms = ms_between(start, Clock::now());  // the training step, without evaluation
    // A strategy enters evaluation after every epoch, evaluated or not: the ranks agree there
    // on the model the checkpoint holds, so train.eval_every leaves training unchanged. Every
    // rank takes the same branch: the schedule depends on the epoch alone.
    const bool evaluates = epoch % t.eval_every == 0 || epoch == t.epochs;
    const auto evaluated = Clock::now();
    if (sync) sync->enter_evaluation(optimizer);
    st.epoch = epoch;
    st.epoch_ms.push_back(rec.epoch_ms);
    if (evaluates) {
      if (!sync || sync->evaluates_here()) rec.metrics = task.evaluate();
      if (sync) sync->agree_on_metrics(rec.metrics, epoch);
      rec.eval_ms = ms_between(evaluated, Clock::now());

      const double up = rec.metric(sel.maximize), down = rec.metric(sel.minimize);
      if (sel.last_epoch || up > st.best_maximize || (up == st.best_maximize && down < st.best_minimize)) {
        st.best_epoch = epoch;
        st.best_maximize = up;
        st.best_minimize = down;
        st.best_metrics = rec.metrics;
        st.best_parameters = snapshot_parameters(model);
      }
      // Early stopping as in the GAT paper: patience runs out when neither the maximized nor
      // the minimized metric has improved on its best.
      if (up > st.max_seen || down < st.min_seen) {
        st.max_seen = std::max(st.max_seen, up);
        st.min_seen = std::min(st.min_seen, down);
        st.bad_epochs = 0;
      } else {
        ++st.bad_epochs;
      }
      stopped = patient && st.bad_epochs >= t.patience;
    }
    result.history.push_back(rec);
    if (files) {
      metrics << epoch_json(rec).dump() << "\n";
      metrics.flush();
      if (!metrics) throw FileSystemError(fmt::format("{}: write failed", metrics_path.string()));
      if (t.checkpoint_every > 0 && epoch % t.checkpoint_every == 0 && epoch < t.epochs && !stopped) {
        save_checkpoint(ckpt, model, optimizer, st);
      }
    }
    if (sync) sync->leave_evaluation(optimizer);
    if (cb.on_epoch) cb.on_epoch(rec);
    if (cb.interrupt_after_epochs >= 0 && ++epochs_this_process >= cb.interrupt_after_epochs) {
      throw std::runtime_error("interrupted by test hook");
    }
  }
  if (sync) sync->end_unit(optimizer, unit);
  result.best_epoch = st.best_epoch;
  result.epochs_run = st.epoch;
  result.metrics = st.best_metrics;
  result.epoch_ms_median = median(st.epoch_ms);
  result.eval_ms_median = median_eval_ms(result.history);
  if (files) {
    save_checkpoint(ckpt, model, optimizer, st);
    save_parameters(dir / "best.pt", st.best_parameters);
    write_file_atomic(dir / "result.json", unit_result_json(result).dump(2) + "\n");
  }
  return result;
}

UnitResult read_unit_result(const fs::path& dir, int64_t unit) {
  const fs::path path = dir / "result.json";
  UnitResult r = unit_result_fields(read_file(path), unit, path.string());
  r.history = keep_history(dir / "metrics.jsonl", r.epochs_run, unit);
  return r;
}

UnitResult unit_result_from_text(const std::string& result_json, const std::string& metrics_jsonl, int64_t unit,
                                 const std::string& origin) {
  UnitResult r = unit_result_fields(result_json, unit, origin);
  std::string kept;
  r.history = parse_history(metrics_jsonl, r.epochs_run, unit, kept);
  return r;
}

}  // namespace ripple::train
