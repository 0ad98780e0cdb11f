#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <string>

namespace ripple::cli {
namespace {

// "0.8123", or "-" for a task without validation data (the GIN protocol).
std::string metric_text(const Metrics& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? "-" : fmt::format("{:.4f}", it->second);
}

}  // namespace

ShownMetrics shown_metrics(const RunConfig& c) {
  if (c.task.kind == "recommend") return {"", "", fmt::format("recall@{}", c.recommend.k.front())};
  if (c.task.kind != "link") return {};
  const std::string m = link_selection_metric(c);
  return {"", "valid_" + m, m};
}

Progress::Progress(int64_t units, int64_t log_every, std::string unit_name, ShownMetrics shown, FILE* out)
    : units_(units),
      log_every_(log_every),
      unit_name_(std::move(unit_name)),
      shown_(std::move(shown)),
      out_(out),
      tty_(isatty(fileno(out)) != 0) {}

void Progress::on_epoch(int64_t total, const EpochRecord& r) {
  const std::string train = shown_.train.empty() ? "" : fmt::format("  train {}", metric_text(r.metrics, shown_.train));
  const std::string stats = fmt::format("loss {:.4f}{}  valid {}  test {}  {:.1f} ms", r.loss, train,
                                        metric_text(r.metrics, shown_.valid), metric_text(r.metrics, shown_.test),
                                        r.epoch_ms);
  if (tty_) {
    const int width = 30;
    const int filled = static_cast<int>(width * r.epoch / std::max<int64_t>(total, 1));
    fmt::print(out_, "\r\033[2K{} {}/{} [{}{}] {:>4}/{}  {}", unit_name_, r.unit + 1, units_,
               std::string(filled, '#'), std::string(width - filled, '.'), r.epoch, total, stats);
    std::fflush(out_);
  } else if (r.epoch % log_every_ == 0 || r.epoch == 1) {
    fmt::print(out_, "{} {}/{} epoch {:>4}/{}  {}\n", unit_name_, r.unit + 1, units_, r.epoch, total, stats);
  }
}

void Progress::on_unit_done(const UnitResult& r) {
  fmt::print(out_, "{}{} {}/{} (seed {}): {} epoch {}, valid {}, test {}\n", tty_ ? "\r\033[2K" : "", unit_name_,
             r.unit + 1, units_, r.seed, r.metrics.count(shown_.valid) ? "best" : "last", r.best_epoch,
             metric_text(r.metrics, shown_.valid), metric_text(r.metrics, shown_.test));
  std::fflush(out_);
}

}  // namespace ripple::cli
