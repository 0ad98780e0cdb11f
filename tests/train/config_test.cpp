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
  EXPECT_EQ(c.get_string("model.name"), "gcn");
  c.set_override("model.name=gat");
  c.set_override("model.name=\"sage\"");
  c.set_override("train.lr=0.005");
  c.set_override("train.weight_decay=0");  // an integer where a float is expected is fine
  c.set_override("model.residual=true");
  EXPECT_EQ(c.get_string("model.name"), "sage");
  EXPECT_DOUBLE_EQ(c.get_float("train.lr"), 0.005);
  EXPECT_DOUBLE_EQ(c.get_float("train.weight_decay"), 0.0);
  EXPECT_TRUE(c.get_bool("model.residual"));
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

TEST(Config, EveryKeyIsDocumented) {
  std::ifstream in(testing::source_path("docs/config.md"));
  ASSERT_TRUE(in.good()) << "docs/config.md is missing";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const ConfigKey& k : config_schema()) {
    EXPECT_NE(doc.find("`" + k.name + "`"), std::string::npos) << k.name << " is not in docs/config.md";
  }
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
