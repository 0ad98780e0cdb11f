// Helpers for the tests of Ripple's native on-disk layouts: read and rewrite a header.json,
// catch the InputError a loader throws, and run a list of header defects through a loader.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// One edit of a good header and what the loader's error must then say.
struct HeaderDefect {
  std::function<void(nlohmann::json&)> edit;
  std::string expected;
};

// For each defect: DIR/header.json becomes `good` so edited, and `load` must throw an
// InputError naming header.json and holding the expected text. Leaves the last edit behind.
inline void expect_header_defects(const std::filesystem::path& dir, const nlohmann::json& good,
                                  const std::vector<HeaderDefect>& defects, const std::function<void()>& load) {
  for (const HeaderDefect& d : defects) {
    nlohmann::json j = good;
    d.edit(j);
    write_json(dir / "header.json", j);
    const std::string err = input_error_of(load);
    EXPECT_NE(err.find(d.expected), std::string::npos) << "expected '" << d.expected << "' in: " << err;
    EXPECT_NE(err.find("header.json"), std::string::npos) << err;
  }
}

}  // namespace ripple::testing
