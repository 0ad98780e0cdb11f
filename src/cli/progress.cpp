#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <string>

namespace ripple::cli {

Progress::Progress(int64_t seeds, int64_t log_every, FILE* out)
    : seeds_(seeds), log_every_(log_every), out_(out), tty_(isatty(fileno(out)) != 0) {}

void Progress::on_epoch(int64_t seed_index, int64_t total, const EpochRecord& r) {
  const std::string stats = fmt::format("loss {:.4f}  train {:.3f}  valid {:.3f}  test {:.3f}  {:.1f} ms",
                                        r.loss, r.train_acc, r.valid_acc, r.test_acc, r.epoch_ms);
  if (tty_) {
    const int width = 30;
    const int filled = static_cast<int>(width * r.epoch / std::max<int64_t>(total, 1));
    fmt::print(out_, "\r\033[2Kseed {}/{} [{}{}] {:>4}/{}  {}", seed_index + 1, seeds_, std::string(filled, '#'),
               std::string(width - filled, '.'), r.epoch, total, stats);
    std::fflush(out_);
  } else if (r.epoch % log_every_ == 0 || r.epoch == 1) {
    fmt::print(out_, "seed {}/{} epoch {:>4}/{}  {}\n", seed_index + 1, seeds_, r.epoch, total, stats);
  }
}

void Progress::on_seed_done(int64_t seed_index, const SeedResult& r) {
  fmt::print(out_, "{}seed {}/{} (seed {}): best epoch {}, valid {:.4f}, test {:.4f}\n", tty_ ? "\r\033[2K" : "",
             seed_index + 1, seeds_, r.seed, r.best_epoch, r.valid_acc, r.test_acc);
  std::fflush(out_);
}

}  // namespace ripple::cli
