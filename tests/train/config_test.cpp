// Configuration parsing, validation, suggestions and the resolved TOML round trip.
#include <gtest/gtest.h>

#include <fstream>

#include "ripple/config.h"
#include "ripple/error.h"
#include "support/cli.h"

namespace ripple {
namespace {

TEST(Config, DefaultsOverridesAndRoundTrip) {
  Config c;
  EXPECT_EQ(c.settings().model.name, "gcn");
  c.set_override("model.name=gat");
  c.set_override("model.name=\"sage\"");
  c.set_override("train.lr=0.005");
  c.set_override("train.weight_decay=0");  // an integer where a float is expected is fine
  c.set_override("model.residual=true");
  EXPECT_EQ(c.settings().model.name, "sage");
  EXPECT_DOUBLE_EQ(c.settings().train.lr, 0.005);
  EXPECT_DOUBLE_EQ(c.settings().train.weight_decay, 0.0);
  EXPECT_TRUE(c.settings().model.residual);
  EXPECT_EQ(c.source_of("train.lr"), "--set train.lr=0.005");
  EXPECT_EQ(c.source_of("train.epochs"), "default");
  const auto dir = testing::fresh_temp_dir("config-roundtrip");
  std::ofstream(dir / "c.toml") << c.to_toml();
  const Config back = Config::from_file((dir / "c.toml").string());
  EXPECT_EQ(back.to_toml(), c.to_toml());
}

TEST(Config, SuggestsClosestKey) {
  EXPECT_EQ(closest_config_key("model.hiden"), "model.hidden");
  EXPECT_EQ(closest_config_key("train.epoch"), "train.epochs");
  EXPECT_EQ(closest_config_key("model.lr"), "train.lr");
  EXPECT_EQ(closest_config_key("completely.unrelated_thing"), "");
}

TEST(Config, RejectsInvalidValues) {
  Config c;
  EXPECT_THROW(c.set_override("model.dropout=1.0"), InputError);
  EXPECT_THROW(c.set_override("model.dropout=-0.1"), InputError);
  EXPECT_THROW(c.set_override("model.layers=0"), InputError);
  EXPECT_THROW(c.set_override("train.lr=0"), InputError);
  EXPECT_THROW(c.set_override("model.norm=group"), InputError);
  EXPECT_THROW(c.set_override("model.hidden=1.5"), InputError);
  EXPECT_THROW(c.set_override("nosection=1"), InputError);
  EXPECT_NO_THROW(c.set_override("model.dropout=0.0"));
}

TEST(Config, DefaultsAreTheSettingsStructsOwn) {
  const RunConfig defaults;
  const Config c;
  EXPECT_EQ(c.to_toml(), Config(defaults).to_toml());
  for (const ConfigKey& k : config_schema()) EXPECT_EQ(k.get(defaults), k.default_value) << k.name;
  EXPECT_EQ(find_config_key("model.hidden")->default_value, ConfigValue(defaults.model.hidden));
  // Every field reachable from a key is written and read back by it.
  RunConfig changed;
  find_config_key("sampler.fanouts")->put(changed, std::vector<int64_t>{4, 2});
  EXPECT_EQ(changed.sampler.fanouts, (std::vector<int64_t>{4, 2}));
}

TEST(Config, ValidationNamesTheFieldAndWhereItWasSet) {
  Config c;
  c.set_override("sampler.fanouts=[5, 5]");
  c.set_override("task.kind=graph");
  c.set_override("model.name=gin");
  try {
    c.validate();
    FAIL() << "fanouts with the graph task must be refused";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "--set sampler.fanouts=[5, 5]: sampler.fanouts: graph classification trains on "
                                     "whole graphs; leave it empty");
  }
  RunConfig bad;
  bad.model.dropout = 1.5;  // built by hand in C++: the library check names the field
  try {
    validate_run_config(bad);
    FAIL() << "dropout 1.5 must be refused";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.field(), "model.dropout");
  }
  EXPECT_THROW(c.set_override("sampler.fanouts=[5, 0]"), InputError);
}

TEST(Config, DocsTableIsGeneratedFromTheSchema) {
  std::ifstream in(testing::source_path("docs/config.md"));
  ASSERT_TRUE(in.good()) << "docs/config.md is missing";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(doc.find(config_markdown_table()), std::string::npos)
      << "docs/config.md's table is out of date; regenerate it with `build/ripple config --markdown`";
}

TEST(Config, EveryExampleLoads) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::source_path("examples"))) {
    if (e.path().extension() != ".toml") continue;
    EXPECT_NO_THROW(Config::from_file(e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 8);
}

}  // namespace
}  // namespace ripple
