// What communicator.cpp and membership.cpp share (internal): the c10d objects behind a
// Communicator and small conversions for the store. The only header that includes c10d's
// (its files compile with USE_C10D_GLOO, outside the precompiled header).
#pragma once

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace ripple::dist {

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

// The first line of a c10d/Gloo message (their messages carry a C++ backtrace after it).
inline std::string first_line(const std::string& s) {
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

inline std::vector<uint8_t> as_bytes(const std::string& t) { return std::vector<uint8_t>(t.begin(), t.end()); }
inline std::string as_text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

}  // namespace ripple::dist
