#include "converters/builtin_converters.h"
#include "converters/converter_factory.h"
#include "converters/json/json_converter.h"

#include <gtest/gtest.h>

namespace rmqc::converters {
namespace {

TEST(BuiltinConvertersTest, SeedClassNamesAndAliasesResolve) {
  plugins::PluginRegistry registry;
  register_builtin_converters(registry);
  const char* names[] = {"org.apache.rocketmq.connect.runtime.converter.record.json.JsonConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.StringConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.ShortConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.LongConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.IntegerConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.FloatConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.DoubleConverter",
                         "org.apache.rocketmq.connect.runtime.converter.record.ByteArrayConverter",
                         "JsonConverter",
                         "StringConverter",
                         "ShortConverter",
                         "LongConverter",
                         "IntegerConverter",
                         "FloatConverter",
                         "DoubleConverter",
                         "ByteArrayConverter",
                         "org.apache.kafka.connect.json.JsonConverter"};
  for (const char* name : names) {
    EXPECT_TRUE(registry.create_converter(name).ok()) << name;
  }
  EXPECT_TRUE(registry.conflicts().empty());
  EXPECT_EQ(registry.list().size(), 8u);
}

TEST(ConverterFactoryTest, ReadsPrefixedConfig) {
  plugins::PluginRegistry registry;
  register_builtin_converters(registry);
  KeyValue connector{{"value.converter", "JsonConverter"},
                     {"value.converter.schemas.enable", "false"}};
  auto value = make_converter(registry, connector, /*is_key=*/false);
  ASSERT_TRUE(value.ok()) << value.error().to_string();
  // schemas.enable=false: a bare payload, no envelope.
  EXPECT_EQ(*(*value)->from_connect_data("t", schemas::string(), Value("x")), "\"x\"");
  auto key = make_converter(registry, connector, /*is_key=*/true);  // falls back to String
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*(*key)->from_connect_data("t", nullptr, Value("x")), "x");
}

TEST(ConverterFactoryTest, ClearErrors) {
  plugins::PluginRegistry registry;
  register_builtin_converters(registry);
  auto unknown = make_converter(registry, KeyValue{{"key.converter", "AvroConverter"}}, true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "key.converter: no converter plugin named 'AvroConverter'");
  auto bad = make_converter(
      registry,
      KeyValue{{"value.converter", "JsonConverter"}, {"value.converter.decimal.format", "HEX"}},
      false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad.error().message().find("decimal.format"), std::string::npos);
}

}  // namespace
}  // namespace rmqc::converters
