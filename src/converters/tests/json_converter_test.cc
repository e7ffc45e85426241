#include "converters/json/json_converter.h"

#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace rmqc::converters {
namespace {

using nlohmann::json;

std::unique_ptr<JsonConverter> make(KeyValue config = {}) {
  auto c = std::make_unique<JsonConverter>();
  auto r = c->configure(config, false);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return c;
}

SchemaPtr everything_schema() {
  auto inner =
      SchemaBuilder::struct_().name("inner").field("s", SchemaBuilder::string().build()).build();
  return SchemaBuilder::struct_()
      .name("everything")
      .version(2)
      .doc("all the types")
      .field("i8", SchemaBuilder::int8().build())
      .field("i16", SchemaBuilder::int16().build())
      .field("i32", SchemaBuilder::int32().build())
      .field("i64", SchemaBuilder::int64().build())
      .field("f32", SchemaBuilder::float32().build())
      .field("f64", SchemaBuilder::float64().build())
      .field("b", SchemaBuilder::bool_().build())
      .field("s", SchemaBuilder::string().parameter("len", "10").build())
      .field("bytes", SchemaBuilder::bytes().build())
      .field("arr", SchemaBuilder::array(SchemaBuilder::int32().build()).build())
      .field("smap",
             SchemaBuilder::map(SchemaBuilder::string().build(), SchemaBuilder::int64().build())
                 .build())
      .field("imap",
             SchemaBuilder::map(SchemaBuilder::int32().build(), SchemaBuilder::string().build())
                 .build())
      .field("inner", inner)
      .field("dec", SchemaBuilder::decimal(2).build())
      .field("date", SchemaBuilder::date().build())
      .field("time", SchemaBuilder::time().build())
      .field("ts", SchemaBuilder::timestamp().build())
      .field("opt", SchemaBuilder::string().optional().build())
      .field("withdef", SchemaBuilder::int32().default_value(7).build())
      .build();
}

Struct everything_value(const SchemaPtr& schema) {
  Struct inner(schema->field("inner")->schema);
  inner.put("s", "nested \"quotes\" \\ and \n newline \x01");
  Struct s(schema);
  s.put("i8", std::int8_t{-8})
      .put("i16", std::int16_t{1600})
      .put("i32", -32)
      .put("i64", std::int64_t{9007199254740993})  // beyond double precision
      .put("f32", 1.5f)
      .put("f64", 0.1)
      .put("b", true)
      .put("s", "héllo ✓")
      .put("bytes", Bytes{0, 1, 2, 255})
      .put("arr", ValueList{1, 2, 3})
      .put("smap", ValueMap{{"a", std::int64_t{1}}, {"b", std::int64_t{2}}})
      .put("imap", ValueMap{{1, "one"}, {2, "two"}})
      .put("inner", inner)
      .put("dec", Decimal::from_unscaled(-12345, 2))
      .put("date", 19000)
      .put("time", 3600000)
      .put("ts", std::int64_t{1655207871000})
      .put("withdef", 9);
  return s;
}

TEST(JsonConverterTest, RoundTripsEveryTypeAndLogicalType) {
  for (const char* format : {"BASE64", "NUMERIC"}) {
    auto c = make({{"decimal.format", format}});
    auto schema = everything_schema();
    Struct s = everything_value(schema);
    auto bytes = c->from_connect_data("t", schema, Value(s));
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    EXPECT_TRUE(json::accept(*bytes)) << *bytes;  // valid JSON
    auto back = c->to_connect_data("t", *bytes);
    ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << *bytes;
    EXPECT_TRUE(back->schema->equals(*schema)) << back->schema->to_string();
    EXPECT_EQ(back->value.as_struct(), s) << back->value.to_string() << "\n" << s.to_string();
  }
}

TEST(JsonConverterTest, EnvelopeShapeMatchesJava) {
  auto c = make();
  auto schema = SchemaBuilder::struct_()
                    .name("rec")
                    .field("id", SchemaBuilder::int64().optional().build())
                    .field("dec", SchemaBuilder::decimal(2).build())
                    .field("bytes", SchemaBuilder::bytes().build())
                    .field("m", SchemaBuilder::map(SchemaBuilder::int32().build(),
                                                   SchemaBuilder::string().build())
                                    .build())
                    .build();
  Struct s(schema);
  s.put("id", std::int64_t{12})
      .put("dec", Decimal::from_unscaled(12345, 2))
      .put("bytes", Bytes{'h', 'i'})
      .put("m", ValueMap{{1, "x"}});
  auto j = json::parse(*c->from_connect_data("t", schema, Value(s)));
  EXPECT_EQ(j["schema"]["type"], "struct");
  EXPECT_EQ(j["schema"]["name"], "rec");
  EXPECT_EQ(j["schema"]["optional"], false);
  EXPECT_EQ(j["schema"]["fields"][0],
            (json{{"field", "id"}, {"type", "int64"}, {"optional", true}}));
  EXPECT_EQ(j["schema"]["fields"][1]["name"], logical::kDecimalName);
  EXPECT_EQ(j["schema"]["fields"][1]["parameters"]["scale"], "2");
  EXPECT_EQ(j["payload"]["id"], 12);
  EXPECT_EQ(j["payload"]["dec"], "MDk=");  // base64 of 0x3039 = 12345
  EXPECT_EQ(j["payload"]["bytes"], "aGk=");
  EXPECT_EQ(j["payload"]["m"], json::parse(R"([[1,"x"]])"));
  auto numeric = make({{"decimal.format", "NUMERIC"}});
  auto jn = json::parse(*numeric->from_connect_data("t", schema, Value(s)));
  EXPECT_EQ(jn["payload"]["dec"].dump(), "123.45");
}

TEST(JsonConverterTest, SchemasDisabledWritesAndReadsBarePayload) {
  auto c = make({{"schemas.enable", "false"}});
  ValueMap m{{"a", std::int64_t{1}}, {"b", ValueList{"x", true, nullptr, 2.5}}};
  auto bytes = c->from_connect_data("t", nullptr, Value(m));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, R"({"a":1,"b":["x",true,null,2.5]})");
  auto back = c->to_connect_data("t", *bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->schema, nullptr);
  EXPECT_EQ(back->value, Value(m));
  auto scalar = c->to_connect_data("t", "42");
  ASSERT_TRUE(scalar.ok()) << scalar.error().to_string();
  EXPECT_EQ(scalar->value.as_int64(), 42);
}

TEST(JsonConverterTest, NullSchemaInEnvelope) {
  auto c = make();
  auto bytes = c->from_connect_data("t", nullptr, Value(ValueMap{{"k", "v"}}));
  EXPECT_EQ(*bytes, R"({"schema":null,"payload":{"k":"v"}})");
  auto back = c->to_connect_data("t", *bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->schema, nullptr);
  EXPECT_EQ(back->value.find("k")->as_string(), "v");
}

TEST(JsonConverterTest, PayloadBeforeSchemaAndExtraWhitespace) {
  auto c = make();
  auto back = c->to_connect_data(
      "t",
      R"(  { "payload" : {"id": 5}, "schema" : {"type":"struct","fields":[{"field":"id","type":"int32"}]} }  )");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->value.as_struct().get_int32("id"), 5);
  auto scalar = c->to_connect_data("t", R"({"payload": 3, "schema": {"type":"int8"}})");
  ASSERT_TRUE(scalar.ok()) << scalar.error().to_string();
  EXPECT_EQ(scalar->value.as_int8(), 3);
}

TEST(JsonConverterTest, DefaultsAndMissingFields) {
  auto c = make();
  auto back = c->to_connect_data("t", R"({"schema":{"type":"struct","fields":[
      {"field":"a","type":"int32","optional":false,"default":5},
      {"field":"b","type":"string","optional":true},
      {"field":"c","type":"boolean","default":true}]},"payload":{"b":null,"c":null}})");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  const Struct& s = back->value.as_struct();
  EXPECT_EQ(s.get_int32("a"), 5);
  EXPECT_TRUE(s.get("b").is_null());
  EXPECT_TRUE(s.get_boolean("c"));
  EXPECT_EQ(s.schema()->field("a")->schema->default_value()->as_int32(), 5);
}

TEST(JsonConverterTest, FloatsSpecialValues) {
  auto c = make();
  auto schema = SchemaBuilder::float64().build();
  auto bytes = c->from_connect_data("t", schema, Value(std::nan("")));
  EXPECT_EQ(*bytes, R"({"schema":{"type":"double","optional":false},"payload":"NaN"})");
  auto back = c->to_connect_data("t", *bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(std::isnan(back->value.as_float64()));
  auto inf = c->to_connect_data("t", R"({"schema":{"type":"float"},"payload":"-Infinity"})");
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ(inf->value.as_float32(), -INFINITY);
}

TEST(JsonConverterTest, SchemaCacheReusesParsedSchemas) {
  auto c = make();
  std::string msg =
      R"({"schema":{"type":"struct","name":"x","fields":[{"field":"a","type":"int32"}]},"payload":{"a":1}})";
  auto first = c->to_connect_data("t", msg);
  auto second = c->to_connect_data("t", msg);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->schema.get(), second->schema.get());  // same cached object
}

struct BadCase {
  const char* name;
  const char* input;
  const char* error;
};

TEST(JsonConverterTest, BadInputGivesClearErrors) {
  auto c = make();
  const BadCase cases[] = {
      {"malformed", R"({"schema":{"type":"int32"},"payload":)", "malformed JSON"},
      {"not json", "hello", "malformed JSON"},
      {"trailing", R"({"schema":{"type":"int32"},"payload":1} x)", "malformed JSON"},
      {"plain json with schemas on", R"({"a":1})", "schemas.enable=false"},
      {"payload mismatch", R"({"schema":{"type":"int32"},"payload":"x"})",
       "expected INT32, got JSON string"},
      {"out of range", R"({"schema":{"type":"int8"},"payload":300})", "300 does not fit in INT8"},
      {"float for int", R"({"schema":{"type":"int64"},"payload":1.5})", "not a 64-bit integer"},
      {"null required",
       R"({"schema":{"type":"struct","fields":[{"field":"id","type":"int64"}]},"payload":{"id":null}})",
       "field 'id': null value for required INT64"},
      {"missing required",
       R"({"schema":{"type":"struct","fields":[{"field":"id","type":"int64"}]},"payload":{}})",
       "field 'id': null value for required INT64"},
      {"unknown type", R"({"schema":{"type":"integer"},"payload":1})",
       "unknown schema type \"integer\""},
      {"no type", R"({"schema":{"optional":true},"payload":1})", "no \"type\""},
      {"struct without fields", R"({"schema":{"type":"struct"},"payload":{}})", "\"fields\""},
      {"bad base64", R"({"schema":{"type":"bytes"},"payload":"!!!"})", "not valid base64"},
      {"bad map entry",
       R"({"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1]]})",
       "[key, value]"},
      {"schema not object", R"({"schema":"int32","payload":1})", "must be an object or null"},
      {"bad null literal", R"({"schema":{"type":"int32","optional":true},"payload":nul})",
       "malformed JSON"},
  };
  for (const auto& bc : cases) {
    auto r = c->to_connect_data("t", bc.input);
    ASSERT_FALSE(r.ok()) << bc.name;
    EXPECT_NE(r.error().message().find(bc.error), std::string::npos)
        << bc.name << ": " << r.error().message();
  }
}

TEST(JsonConverterTest, EncodeErrors) {
  auto c = make();
  auto schema = SchemaBuilder::struct_().field("id", SchemaBuilder::int64().build()).build();
  Struct s(schema);
  auto r = c->from_connect_data("t", schema, Value(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "field 'id': null value for required INT64");
  auto wrong = c->from_connect_data("t", SchemaBuilder::int32().build(), Value("x"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message(), "expected INT32, got STRING");
}

TEST(JsonConverterTest, EmptyInputIsNull) {
  auto c = make();
  auto r = c->to_connect_data("t", "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->value.is_null());
}

// Strings are scanned eight bytes at a time for what needs escaping: a character to escape at
// any position (inside a word, at its edges, in the tail), next to UTF-8, comes back unchanged.
TEST(JsonConverterTest, EscapesAtEveryPositionRoundTrip) {
  auto c = make(KeyValue{{"schemas.enable", "false"}});
  const std::string specials[] = {"\"",   "\\",   "\n",  "\t", std::string(1, '\0'),
                                  "\x01", "\x1f", "\x7f"};
  for (const auto& special : specials) {
    for (std::size_t len : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                            std::size_t{17}, std::size_t{40}}) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s.replace(at, 1, special);
        s += "\xc3\xa9 end";  // UTF-8 passes through
        std::string out;
        ASSERT_TRUE(c->from_connect_data("t", nullptr, Value(s), out).ok());
        EXPECT_EQ(json::parse(out).get<std::string>(), s) << "at " << at << " of " << len;
        EXPECT_EQ(out.find_first_of(std::string("\n\t\x01\x1f\0", 5)), std::string::npos) << out;
      }
    }
  }
}

// Bytes are written as base64 (padding included) for every tail length.
TEST(JsonConverterTest, BytesOfEveryLengthAreBase64) {
  auto c = make(KeyValue{{"schemas.enable", "false"}});
  const auto schema = SchemaBuilder::bytes().build();
  const std::string expected[] = {"", "AA==", "AP8=", "AP8Q", "AP8QgA==", "AP8QgH8=", "AP8QgH8g"};
  const Bytes all = {0x00, 0xff, 0x10, 0x80, 0x7f, 0x20};
  for (std::size_t n = 0; n <= all.size(); ++n) {
    std::string out;
    ASSERT_TRUE(
        c->from_connect_data("t", schema, Value(Bytes(all.begin(), all.begin() + n)), out).ok());
    EXPECT_EQ(out, "\"" + expected[n] + "\"") << n;
  }
}

// The writer grows its output from nothing to well past any reserve, and write_schema appends to
// what the string already holds.
TEST(JsonConverterTest, LargeValuesAndAppendedSchemas) {
  auto c = make();
  auto schema = SchemaBuilder::struct_()
                    .name("big")
                    .field("s", SchemaBuilder::string().build())
                    .field("list", SchemaBuilder::array(SchemaBuilder::int64().build()).build())
                    .build();
  Struct s(schema);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += (i % 50 == 0) ? '"' : static_cast<char>('a' + i % 26);
  ValueList list;
  for (std::int64_t i = 0; i < 5000; ++i) list.emplace_back(i * 1000003);
  s.put("s", text).put("list", list);
  std::string out;
  ASSERT_TRUE(c->from_connect_data("t", schema, Value(s), out).ok());
  const auto j = json::parse(out);
  EXPECT_EQ(j["payload"]["s"].get<std::string>(), text);
  ASSERT_EQ(j["payload"]["list"].size(), 5000u);
  EXPECT_EQ(j["payload"]["list"][4999].get<std::int64_t>(), 4999 * 1000003LL);

  std::string appended = "prefix:";
  ASSERT_TRUE(
      JsonConverter::write_schema(*schema, JsonConverter::DecimalFormat::kBase64, appended).ok());
  const std::size_t schema_end = out.find(",\"payload\":");
  ASSERT_NE(schema_end, std::string::npos);
  EXPECT_EQ(appended, "prefix:" + out.substr(10, schema_end - 10));  // after {"schema":
}

// Field names are rendered once per schema (escaped like any string) and reused; more schemas
// than schemas.cache.size, in turn, each keep their own names.
TEST(JsonConverterTest, FieldNamesOfManySchemas) {
  auto c = make(KeyValue{{"schemas.enable", "false"}, {"schemas.cache.size", "2"}});
  std::vector<SchemaPtr> schemas;
  for (int i = 0; i < 12; ++i) {
    schemas.push_back(SchemaBuilder::struct_()
                          .field("id" + std::to_string(i), SchemaBuilder::int32().build())
                          .field("say \"hi\"\n", SchemaBuilder::string().optional().build())
                          .field("caf\xc3\xa9", SchemaBuilder::bool_().build())
                          .build());
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 12; ++i) {
      Struct s(schemas[static_cast<std::size_t>(i)]);
      s.put("id" + std::to_string(i), std::int32_t{i}).put("caf\xc3\xa9", true);
      std::string out;
      ASSERT_TRUE(c->from_connect_data("t", s.schema(), Value(s), out).ok());
      EXPECT_EQ(out, "{\"id" + std::to_string(i) + "\":" + std::to_string(i) +
                         ",\"say \\\"hi\\\"\\n\":null,\"caf\xc3\xa9\":true}");
    }
  }
  auto empty = SchemaBuilder::struct_().build();
  std::string out;
  ASSERT_TRUE(c->from_connect_data("t", empty, Value(Struct(empty)), out).ok());
  EXPECT_EQ(out, "{}");
}

}  // namespace
}  // namespace rmqc::converters
