#include "converters/builtin_converters.h"

#include "converters/json/json_converter.h"
#include "converters/number_converters.h"
#include "converters/string_converter.h"

namespace rmqc::converters {
namespace {

constexpr std::string_view kPackage = "org.apache.rocketmq.connect.runtime.converter.record.";

// Class names users have in existing configs: the RocketMQ runtime's, and Kafka Connect's for
// the JSON/String/ByteArray converters so Kafka-style configs port unchanged.
PluginDescriptor describe(std::string_view simple_name, std::string_view sub_package,
                          std::string_view kafka_name, std::string doc) {
  PluginDescriptor d;
  d.class_name = std::string(kPackage) + std::string(sub_package) + std::string(simple_name);
  d.aliases.emplace_back(simple_name);
  if (!kafka_name.empty()) d.aliases.emplace_back(kafka_name);
  d.version = "1.0";
  d.doc = std::move(doc);
  return d;
}

}  // namespace

void register_builtin_converters(PluginRegistrar& registrar) {
  registrar.add_converter<JsonConverter>(describe(
      "JsonConverter", "json.", "org.apache.kafka.connect.json.JsonConverter",
      "JSON with an optional {\"schema\",\"payload\"} envelope (schemas.enable, decimal.format)"));
  registrar.add_converter<StringConverter>(describe(
      "StringConverter", "", "org.apache.kafka.connect.storage.StringConverter", "UTF-8 text"));
  registrar.add_converter<ByteArrayConverter>(
      describe("ByteArrayConverter", "", "org.apache.kafka.connect.converters.ByteArrayConverter",
               "raw bytes, passed through"));
  registrar.add_converter<ShortConverter>(
      describe("ShortConverter", "", "", "16-bit big-endian integer"));
  registrar.add_converter<IntegerConverter>(
      describe("IntegerConverter", "", "", "32-bit big-endian integer"));
  registrar.add_converter<LongConverter>(
      describe("LongConverter", "", "", "64-bit big-endian integer"));
  registrar.add_converter<FloatConverter>(
      describe("FloatConverter", "", "", "32-bit big-endian IEEE 754 float"));
  registrar.add_converter<DoubleConverter>(
      describe("DoubleConverter", "", "", "64-bit big-endian IEEE 754 double"));
}

}  // namespace rmqc::converters
