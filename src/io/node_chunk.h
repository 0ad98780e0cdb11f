// What the streaming generators hand their sink: a run of consecutive destination nodes
// with their incoming sources, features, labels and split parts (internal). Also the
// per-node random stream they draw from, so that each node's draws are a pure function of
// (key, node) and the output does not depend on the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "ripple/nn/context.h"

namespace ripple::io {

struct NodeChunk {
  int64_t first_node = 0;
  int64_t num_nodes = 0;
  std::vector<int64_t> row_offsets;  // num_nodes + 1 offsets into sources
  std::vector<int64_t> sources;      // incoming neighbours per node (order: see the generator)
  std::vector<float> features;       // num_nodes x F, row-major
  std::vector<int64_t> labels;
  std::vector<int8_t> split_parts;   // 0 train, 1 valid, 2 test

  // Nodes first .. first + count - 1 with `num_features` features each; rows left as they are.
  void start(int64_t first, int64_t count, int64_t num_features) {
    first_node = first;
    num_nodes = count;
    features.resize(count * num_features);
    labels.resize(count);
    split_parts.resize(count);
  }
};

using NodeChunkSink = std::function<void(const NodeChunk&)>;

// Nodes per chunk: enough work per parallel region, little memory.
constexpr int64_t kChunkNodes = 8192;

// Draw i of one node's stream is mix64(key + i * odd constant).
struct NodeRandom {
  uint64_t key;
  uint64_t i = 0;
  uint64_t bits() { return nn::mix64(key + (i++) * 0xD1B54A32D192ED03ull); }
  double unit() { return static_cast<double>((bits() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(bits()) * n) >> 64); }
  // Two standard normals (Box-Muller).
  std::pair<float, float> normals() {
    const double r = std::sqrt(-2.0 * std::log(unit()));
    const double a = 2.0 * M_PI * unit();
    return {static_cast<float>(r * std::cos(a)), static_cast<float>(r * std::sin(a))};
  }
};

}  // namespace ripple::io
