// Helpers for the tests of Ripple's native on-disk layouts: read and rewrite a header.json,
// and catch the InputError a loader throws.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ripple/error.h"

namespace ripple::testing {

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_json(const std::filesystem::path& p, const nlohmann::json& j) { std::ofstream(p) << j.dump(2); }

// Runs `fn` and returns the InputError message it throws ("" when it throws nothing).
template <class F>
std::string input_error_of(F&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace ripple::testing
