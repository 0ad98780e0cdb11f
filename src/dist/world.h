// Where this process stands in a distributed run (internal): its rank, the group's size and
// the rendezvous address, read from the environment torchrun and `ripple launch` set
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT), and
// RIPPLE_REJOIN=1, which `ripple launch --max-rejoins` sets on a rank it starts again to
// rejoin an elastic group that lost it.
//
// world_from_environment() returns nothing when WORLD_SIZE is unset (a single process, what
// every command is without a launcher). A variable that is set but malformed (not an
// integer, a rank outside 0..WORLD_SIZE-1, a port outside 1..65535, WORLD_SIZE without RANK,
// or RIPPLE_REJOIN=1 on rank 0) is an InputError naming the variable and its value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ripple::dist {

struct WorldInfo {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int restart_count = 0;  // how often the launcher restarted the group (TORCHELASTIC_RESTART_COUNT)
  // torchrun's agent already serves the store at MASTER_ADDR:MASTER_PORT
  // (TORCHELASTIC_USE_AGENT_STORE=True); rank 0 then connects to it like the others.
  bool agent_serves_store = false;
  // Started again after the group lost it, to rejoin the running group (RIPPLE_REJOIN=1;
  // Communicator::await_admission). Never rank 0, whose process serves the rendezvous.
  bool rejoining = false;
};

std::optional<WorldInfo> world_from_environment();

}  // namespace ripple::dist
