// Data-driven transform cases: one JSON file per case under tests/cases/<transform>/, each run
// through a TransformChain built from the case's connector config.
//   config   connector config: "transforms", "transforms.<alias>.*", "predicates", ...
//            (numbers and booleans are written as JSON strings or values; both work)
//   input    {"topic", "headers", "timestamp", "partition", "offset", "key", "value"}
//            key/value: a JsonConverter envelope {"schema", "payload"} for schema'd data, any other
//            JSON for schemaless data, absent or null for null
//   expect   {"error": "..."}         building the chain fails; the message contains this text
//            {"record_error": "..."}  apply() throws; the message contains this text
//            {"dropped": true}        the chain drops the record
//            {"topic", "headers", "timestamp", "key", "value"}  the output record; every member
//            present is compared ("headers" excludes the topic; "key"/"value" in the same
//            encoding as the input)
#include "converters/json/json_converter.h"
#include "transforms/builtin_transforms.h"
#include "transforms/transform_chain.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace rmqc::transforms {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  if (!fs::exists("tests/cases")) return files;
  for (const auto& e : fs::recursive_directory_iterator("tests/cases")) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string text_of(const json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

Value simple_value(const json& j) {
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_number_integer()) return Value(j.get<std::int64_t>());
  if (j.is_boolean()) return Value(j.get<bool>());
  return Value(j.dump());
}

bool is_envelope(const json& j) {
  return j.is_object() && j.size() == 2 && j.contains("schema") && j.contains("payload");
}

// Schemas written by JsonConverter always carry "optional"; absent means false.
void add_default_optional(json& schema) {
  if (!schema.is_object()) return;
  if (!schema.contains("optional")) schema["optional"] = false;
  for (const char* child : {"items", "keys", "values"}) {
    if (schema.contains(child)) add_default_optional(schema[child]);
  }
  if (schema.contains("fields")) {
    for (auto& f : schema["fields"]) add_default_optional(f);
  }
}

json normalise(json j) {
  if (is_envelope(j)) add_default_optional(j["schema"]);
  return j;
}

SchemaAndValue decode(const json& j) {
  if (j.is_null()) return {};
  bool envelope = is_envelope(j);
  converters::JsonConverter c;
  EXPECT_TRUE(c.configure({{"schemas.enable", envelope ? "true" : "false"}}, false).ok());
  auto r = c.to_connect_data("t", j.dump());
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? std::move(r).value() : SchemaAndValue{};
}

json encode(const SchemaPtr& schema, const Value& value) {
  if (!schema && value.is_null()) return nullptr;
  converters::JsonConverter c;
  EXPECT_TRUE(c.configure({{"schemas.enable", schema ? "true" : "false"}}, false).ok());
  auto r = c.from_connect_data("t", schema, value);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? json::parse(*r) : json("<encode failed>");
}

const plugins::PluginRegistry& registry() {
  static const plugins::PluginRegistry* r = [] {
    auto* reg = new plugins::PluginRegistry();
    register_builtin_transforms(*reg);
    return reg;
  }();
  return *r;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Case) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << GetParam();
  json c = json::parse(in);
  KeyValue config;
  for (auto& [k, v] : c.at("config").items()) config.put(k, text_of(v));
  const json& expect = c.at("expect");

  auto chain = TransformChain::build(config, registry());
  if (expect.contains("error")) {
    ASSERT_FALSE(chain.ok()) << "expected a config error";
    EXPECT_EQ(chain.error().code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(chain.error().message().find(expect["error"].get<std::string>()), std::string::npos)
        << "message: " << chain.error().message();
    return;
  }
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();

  const json& input = c.at("input");
  ConnectRecord record;
  if (input.contains("partition")) {
    RecordPartition::Map m;
    for (auto& [k, v] : input["partition"].items()) m.emplace(k, simple_value(v));
    record.position.partition = RecordPartition(std::move(m));
  }
  if (input.contains("offset")) {
    RecordOffset::Map m;
    for (auto& [k, v] : input["offset"].items()) m.emplace(k, simple_value(v));
    record.position.offset = RecordOffset(std::move(m));
  }
  if (input.contains("timestamp")) record.timestamp = input["timestamp"].get<std::int64_t>();
  if (input.contains("topic")) record.set_topic(input["topic"].get<std::string>());
  if (input.contains("headers")) {
    for (auto& [k, v] : input["headers"].items()) record.add_extension(k, text_of(v));
  }
  if (input.contains("key")) {
    auto kv = decode(input["key"]);
    record.key_schema = kv.schema;
    record.key = std::move(kv.value);
  }
  if (input.contains("value")) {
    auto vv = decode(input["value"]);
    record.value_schema = vv.schema;
    record.value = std::move(vv.value);
  }

  std::optional<ConnectRecord> out;
  if (expect.contains("record_error")) {
    try {
      out = chain->apply(std::move(record));
      FAIL() << "expected apply() to throw";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(expect["record_error"].get<std::string>()),
                std::string::npos)
          << "message: " << e.what();
    }
    return;
  }
  out = chain->apply(std::move(record));
  if (expect.value("dropped", false)) {
    EXPECT_FALSE(out.has_value()) << "expected the record to be dropped";
    return;
  }
  ASSERT_TRUE(out.has_value()) << "the record was dropped";
  if (expect.contains("topic")) {
    EXPECT_EQ(out->topic(), expect["topic"].get<std::string>());
  }
  if (expect.contains("timestamp")) {
    ASSERT_TRUE(out->timestamp.has_value());
    EXPECT_EQ(*out->timestamp, expect["timestamp"].get<std::int64_t>());
  }
  if (expect.contains("headers")) {
    json headers = json::object();
    for (const auto& [k, v] : out->extensions) {
      if (k != ConnectRecord::kTopicExtension) headers[k] = v;
    }
    EXPECT_EQ(headers, expect["headers"]);
  }
  if (expect.contains("key")) {
    EXPECT_EQ(normalise(encode(out->key_schema, out->key)), normalise(expect["key"]));
  }
  if (expect.contains("value")) {
    EXPECT_EQ(normalise(encode(out->value_schema, out->value)), normalise(expect["value"]));
  }
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).lexically_relative("tests/cases").string();
  name = name.substr(0, name.size() - 5);  // ".json"
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(case_files()), case_name);

TEST(GoldenCasesTest, Present) {
  EXPECT_GE(case_files().size(), 90u) << "golden cases missing: run from src/transforms";
}

}  // namespace
}  // namespace rmqc::transforms
