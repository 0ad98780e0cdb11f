// Intra-op thread count for the kernels and LibTorch.
//
// Debian's LibTorch can default to one thread on a multi-core virtual machine (its core
// detection fails there and OMP_NUM_THREADS is usually unset), which silently halves the
// speed of every memory-bound kernel on a 2-core machine. Ripple therefore sets the count
// itself: an explicit request wins, then OMP_NUM_THREADS, then the cores this process may
// run on (its CPU affinity mask). Never fails; a request below 1 means "choose".
#pragma once

#include <cstdint>

namespace ripple {

// Cores in this process's CPU affinity mask (at least 1).
int available_cores();

// Sets LibTorch's intra-op thread count as described above and returns it.
int set_intra_op_threads(int64_t requested = 0);

}  // namespace ripple
