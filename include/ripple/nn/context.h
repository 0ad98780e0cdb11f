// ForwardContext: what a model's forward pass needs besides its inputs: whether it is
// training, and the key of the counter-based random stream used by dropout. Random numbers
// are a pure function of (seed, epoch, batch, call index, element index), so results do not depend
// on thread count and a resumed run redraws exactly what the interrupted one would have.
#pragma once

#include <cstdint>

namespace ripple::nn {

struct ForwardContext {
  bool training = false;
  uint64_t seed = 0;
  int64_t epoch = 0;
  uint64_t calls = 0;  // dropout calls so far in this forward pass
  int64_t batch = 0;   // mini-batch index within the epoch (0 for full-batch passes)

  // A fresh key for the next random draw of this forward pass.
  uint64_t next_key();
};

// SplitMix64 finaliser: a bijective mix of 64 bits, used as a counter-based generator.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace ripple::nn
