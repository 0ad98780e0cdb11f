// Keeps the documentation in step with the tree (config keys are checked in
// tests/train/config_test.cpp): the README's layout names every source folder, every doc
// page is linked from the README and every link resolves, every example or source path a
// doc mentions exists, and every folder the build globs exists.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/cli.h"

namespace ripple {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& rel) {
  std::ifstream in(testing::source_path(rel));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> doc_files() {
  std::vector<std::string> out{"README.md"};
  for (const auto& e : fs::directory_iterator(testing::source_path("docs"))) {
    if (e.path().extension() == ".md") out.push_back("docs/" + e.path().filename().string());
  }
  return out;
}

TEST(Docs, ReadmeLayoutNamesEverySourceFolder) {
  const std::string readme = read("README.md");
  for (const auto& e : fs::directory_iterator(testing::source_path("src"))) {
    if (!e.is_directory()) continue;
    const std::string name = "src/" + e.path().filename().string();
    EXPECT_NE(readme.find("`" + name + "`"), std::string::npos) << name << " is missing from the README's layout";
  }
}

TEST(Docs, EveryDocPageIsLinkedAndEveryLinkResolves) {
  const std::string readme = read("README.md");
  for (const std::string& doc : doc_files()) {
    if (doc != "README.md") {
      EXPECT_NE(readme.find("](" + doc + ")"), std::string::npos) << doc << " is not linked from README.md";
    }
    const std::string text = read(doc);
    const std::regex link(R"(\]\(([^)#:]+)\))");
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
      const fs::path target = fs::path(testing::source_path(doc)).parent_path() / (*it)[1].str();
      EXPECT_TRUE(fs::exists(target)) << doc << " links to " << (*it)[1].str() << ", which does not exist";
    }
  }
}

TEST(Docs, MentionedExamplesAndSourcePathsExist) {
  const std::regex path(R"(`((?:examples|src|include/ripple|bench|scripts|tests|fuzz)/[A-Za-z0-9_./-]+?)`)");
  for (const std::string& doc : doc_files()) {
    const std::string text = read(doc);
    for (std::sregex_iterator it(text.begin(), text.end(), path), end; it != end; ++it) {
      std::string p = (*it)[1].str();
      // Globs, brace lists and the outputs of `make bench` are not files of the tree.
      if (p.find('{') != std::string::npos || p.find('*') != std::string::npos) continue;
      if (p.find("/results/") != std::string::npos) continue;
      while (!p.empty() && (p.back() == '.' || p.back() == '/')) p.pop_back();
      EXPECT_TRUE(fs::exists(testing::source_path(p))) << doc << " mentions `" << p << "`, which does not exist";
    }
  }
}

TEST(Docs, EveryFolderTheBuildGlobsExists) {
  const std::string cmake = read("CMakeLists.txt");
  const std::regex glob(R"(((?:src|tests|bench)(?:/[A-Za-z0-9_]+)*)/\*\.cpp)");
  std::set<std::string> folders;
  for (std::sregex_iterator it(cmake.begin(), cmake.end(), glob), end; it != end; ++it) folders.insert((*it)[1].str());
  EXPECT_GT(folders.size(), 5u);
  for (const std::string& f : folders) EXPECT_TRUE(fs::is_directory(testing::source_path(f))) << "CMakeLists.txt globs " << f;
}

}  // namespace
}  // namespace ripple
