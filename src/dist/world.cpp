// The torchrun environment of a rank. See src/dist/world.h.
#include "dist/world.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "ripple/error.h"

namespace ripple::dist {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

int integer_variable(const char* name, long lo, long hi, std::optional<int> fallback = std::nullopt) {
  const std::optional<std::string> v = variable(name);
  if (!v) {
    if (fallback) return *fallback;
    throw InputError(fmt::format("environment: {} is not set; a distributed rank needs RANK, WORLD_SIZE, "
                                 "MASTER_ADDR and MASTER_PORT (ripple launch and torchrun set them)", name));
  }
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || x < lo || x > hi) {
    throw InputError(fmt::format("environment: {}=\"{}\": expected an integer in {}..{}", name, *v, lo, hi));
  }
  return static_cast<int>(x);
}

}  // namespace

std::optional<WorldInfo> world_from_environment() {
  if (!variable("WORLD_SIZE")) return std::nullopt;
  WorldInfo w;
  w.world_size = integer_variable("WORLD_SIZE", 1, 65536);
  w.rank = integer_variable("RANK", 0, w.world_size - 1);
  w.local_rank = integer_variable("LOCAL_RANK", 0, w.world_size - 1, w.rank);
  w.restart_count = integer_variable("TORCHELASTIC_RESTART_COUNT", 0, 1 << 30, 0);
  const std::optional<std::string> agent_store = variable("TORCHELASTIC_USE_AGENT_STORE");
  w.agent_serves_store = agent_store && (*agent_store == "True" || *agent_store == "true" || *agent_store == "1");
  w.rejoining = integer_variable("RIPPLE_REJOIN", 0, 1, 0) == 1;
  if (w.rejoining && w.rank == 0) {
    throw InputError("environment: RIPPLE_REJOIN=1 on rank 0: rank 0 serves the rendezvous, so its group ends with it "
                     "and there is no group to rejoin");
  }
  if (w.world_size > 1) {
    const std::optional<std::string> addr = variable("MASTER_ADDR");
    if (!addr || addr->empty()) {
      throw InputError("environment: MASTER_ADDR is not set; it names the host of rank 0 (ripple launch and torchrun "
                       "set it)");
    }
    w.master_addr = *addr;
    w.master_port = integer_variable("MASTER_PORT", 1, 65535);
  }
  return w;
}

}  // namespace ripple::dist
