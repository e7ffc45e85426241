#include "rmqc/api/config_def.h"

#include "rmqc/api/errors.h"

#include <gtest/gtest.h>

namespace rmqc {
namespace {

ConfigDef file_def() {
  ConfigDef def;
  def.define("file", ConfigDef::Type::kString, std::nullopt, ConfigDef::Importance::kHigh,
             "Path to read", validators::non_empty())
      .define("batch.size", ConfigDef::Type::kInt, "100", ConfigDef::Importance::kLow,
              "Records per poll", validators::between(1, 10000))
      .define("mode", ConfigDef::Type::kString, "append", ConfigDef::Importance::kMedium, "Mode",
              validators::one_of({"append", "overwrite"}))
      .define("secret", ConfigDef::Type::kPassword, "", ConfigDef::Importance::kLow, "A secret");
  return def;
}

TEST(ConfigDefTest, ValidateReportsPerKeyErrors) {
  auto results = file_def().validate(KeyValue{{"batch.size", "abc"}, {"mode", "Overwrite"}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].name, "file");
  ASSERT_EQ(results[0].errors.size(), 1u);
  EXPECT_EQ(results[0].errors[0],
            "Missing required configuration \"file\" which has no default value.");
  ASSERT_EQ(results[1].errors.size(), 1u);
  EXPECT_NE(results[1].errors[0].find("expected a 32-bit integer"), std::string::npos);
  EXPECT_TRUE(results[2].errors.empty());  // case-insensitive one_of
  EXPECT_EQ(results[3].value, "[hidden]");
}

TEST(ConfigDefTest, ParseAppliesDefaultsOrListsEveryProblem) {
  auto ok = file_def().parse(KeyValue{{"file", "/tmp/x"}});
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->get_int("batch.size"), 100);
  EXPECT_EQ(ok->get_string("mode"), "append");
  auto bad = file_def().parse(KeyValue{{"file", " "}, {"batch.size", "0"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad.error().message().find("file"), std::string::npos);
  EXPECT_NE(bad.error().message().find("batch.size"), std::string::npos);
}

TEST(KeyValueTest, TypedGettersAndPrefix) {
  KeyValue kv{{"a", "12"}, {"b", "x"}, {"c", "true"}, {"value.converter.schemas.enable", "false"}};
  EXPECT_EQ(kv.get_long("a"), 12);
  EXPECT_EQ(kv.get_int("missing", 3), 3);
  EXPECT_TRUE(kv.get_bool("c"));
  EXPECT_THROW(kv.get_long("b"), DataException);
  auto sub = kv.with_prefix_stripped("value.converter.");
  EXPECT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub.get_string("schemas.enable"), "false");
  kv.put("d", std::int64_t{5}).put("e", 2.5).put("f", false);
  EXPECT_EQ(kv.get_string("d"), "5");
  EXPECT_DOUBLE_EQ(kv.get_double("e"), 2.5);
  EXPECT_FALSE(kv.get_bool("f", true));
}

TEST(ConfigDefTest, SplitList) {
  EXPECT_EQ(split_list("a, b;c,,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
}

}  // namespace
}  // namespace rmqc
