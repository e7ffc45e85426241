// Data-driven converter cases: one JSON file per case in tests/golden/, read by one runner.
//   config      converter config (value.converter.* keys without the prefix)
//   input       the message, as JSON (or input_text: raw bytes, for malformed input)
//   expect      {"error": "..."}                  decoding fails with exactly this message, or
//               {"values": "...", "schema_name": "...", "reencoded": "same"}
//                 the decoded value renders as given, and encoding it again gives JSON equal to
//                 the input (key order and number spelling aside)
#include "converters/json/json_converter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rmqc::converters {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator("tests/golden")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Schemas written by JsonConverter always carry "optional"; the Java writer's absent "optional"
// means false. Normalise both sides before comparing.
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

TEST(GoldenTest, AllCases) {
  auto files = case_files();
  ASSERT_GE(files.size(), 8u) << "golden cases missing: run from src/converters";
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream in(path);
    // Ordered, so the input bytes keep the file's key order (maps decode in that order).
    nlohmann::ordered_json c = nlohmann::ordered_json::parse(in);
    KeyValue config;
    for (auto& [k, v] : c["config"].items()) config.put(k, v.get<std::string>());
    JsonConverter converter;
    ASSERT_TRUE(converter.configure(config, false).ok());
    std::string input =
        c.contains("input_text") ? c["input_text"].get<std::string>() : c["input"].dump();
    auto decoded = converter.to_connect_data("topic", input);
    const auto& expect = c["expect"];
    if (expect.contains("error")) {
      ASSERT_FALSE(decoded.ok()) << "expected an error";
      EXPECT_EQ(decoded.error().message().substr(0, expect["error"].get<std::string>().size()),
                expect["error"].get<std::string>());
      continue;
    }
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    if (expect.contains("schema_name")) {
      ASSERT_NE(decoded->schema, nullptr);
      EXPECT_EQ(decoded->schema->name(), expect["schema_name"].get<std::string>());
    }
    EXPECT_EQ(decoded->value.to_string(), expect["values"].get<std::string>());
    auto encoded = converter.from_connect_data("topic", decoded->schema, decoded->value);
    ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
    json again = json::parse(*encoded);
    json original = json::parse(c["input"].dump());
    if (original.is_object() && original.contains("schema")) {
      add_default_optional(original["schema"]);
      add_default_optional(again["schema"]);
    }
    EXPECT_EQ(again, original) << "re-encoded: " << *encoded;
  }
}

}  // namespace
}  // namespace rmqc::converters
