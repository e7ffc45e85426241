// Every built-in transform, on records of every shape (null, primitives, maps, structs, arrays,
// mismatched schema and value): it may reject a record with a ConnectException, which the
// worker's error handling deals with, but must never crash or throw anything else.
#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "transforms/builtin_transforms.h"
#include "transforms/transform_chain.h"

#include <gtest/gtest.h>

#include <map>

namespace rmqc::transforms {
namespace {

// A valid config per transform (by short name without $Key/$Value).
const std::map<std::string, KeyValue>& configs() {
  static const std::map<std::string, KeyValue> c = {
      {"ChangeCase", {{"from", "LOWER_CAMEL"}, {"to", "UPPER_UNDERSCORE"}}},
      {"ExtractNestedField",
       {{"input.outer.field.name", "inner"},
        {"input.inner.field.name", "a"},
        {"output.field.name", "out"}}},
      {"PatternRename", {{"field.pattern", "a"}, {"field.replacement", "b"}}},
      {"PatternFilter", {{"pattern", "x.*"}}},
      {"SetMaximumPrecision", {{"precision.max", "5"}}},
      {"SetNull", {}},
      {"InsertField",
       {{"topic.field", "t"},
        {"partition.field", "p"},
        {"offset.field", "o"},
        {"timestamp.field", "ts"},
        {"static.field", "s"},
        {"static.value", "v"}}},
      {"ReplaceField", {{"exclude", "a"}, {"renames", "name:n"}}},
      {"MaskField", {{"fields", "a,name,inner"}}},
      {"ValueToKey", {{"fields", "a"}}},
      {"HoistField", {{"field", "h"}}},
      {"ExtractField", {{"field", "inner.a"}, {"field.syntax.version", "V2"}}},
      {"Flatten", {}},
      {"Cast", {{"spec", "a:string,name:int32"}}},
      {"TimestampConverter", {{"field", "a"}, {"target.type", "string"}, {"format", "yyyy"}}},
      {"RegexRouter", {{"regex", "(.*)"}, {"replacement", "$1-x"}}},
      {"TimestampRouter", {}},
      {"Filter", {}},
      {"InsertHeader", {{"header", "h"}, {"value.literal", "v"}}},
      {"DropHeaders", {{"headers", "h"}}},
      {"HeaderFrom", {{"fields", "a"}, {"headers", "h"}, {"operation", "move"}}},
      {"SetSchemaMetadata", {{"schema.name", "n"}}},
      {"ExtractNewRecordState",
       {{"delete.handling.mode", "rewrite"},
        {"add.fields", "op,source.ts_ms,table"},
        {"add.headers", "op"},
        {"route.by.field", "name"}}},
      {"ByLogicalTableRouter", {{"topic.regex", "(.*)"}, {"topic.replacement", "$1-all"}}},
  };
  return c;
}

std::vector<std::pair<SchemaPtr, Value>> shapes() {
  std::vector<std::pair<SchemaPtr, Value>> out;
  SchemaPtr inner = SchemaBuilder::struct_()
                        .optional()
                        .field("a", SchemaBuilder::int64().optional().build())
                        .build();
  SchemaPtr outer = SchemaBuilder::struct_()
                        .field("a", SchemaBuilder::int64().optional().build())
                        .field("name", SchemaBuilder::string().optional().build())
                        .field("inner", inner)
                        .build();
  Struct in(inner);
  in.put("a", std::int64_t{5});
  Struct s(outer);
  s.put("a", std::int64_t{1}).put("name", "xyz").put("inner", Value(in));
  Struct nulls(outer);
  out.emplace_back(nullptr, Value());
  out.emplace_back(outer, Value());
  out.emplace_back(outer, Value(s));
  out.emplace_back(outer, Value(nulls));
  out.emplace_back(nullptr, Value(s));  // a struct without a schema
  out.emplace_back(outer, Value(ValueMap{{Value("a"), Value(std::int64_t{1})}}));  // mismatch
  out.emplace_back(outer, Value("text"));
  out.emplace_back(schemas::string(), Value("text"));
  out.emplace_back(schemas::of(FieldType::kInt64), Value(std::int64_t{3}));
  out.emplace_back(SchemaBuilder::timestamp().build(), Value(std::int64_t{3}));
  out.emplace_back(nullptr, Value("text"));
  out.emplace_back(nullptr, Value(std::int64_t{-1}));
  out.emplace_back(nullptr, Value(ValueList{Value(1), Value("x")}));
  out.emplace_back(nullptr,
                   Value(ValueMap{{Value("a"), Value("x1")},
                                  {Value("name"), Value(ValueMap{})},
                                  {Value(std::int64_t{7}), Value(true)},
                                  {Value("inner"), Value(ValueMap{{Value("a"), Value()}})}}));
  out.emplace_back(nullptr, Value(Bytes{1, 2, 3}));
  return out;
}

TEST(RobustnessTest, NoTransformCrashesOnAnyShape) {
  plugins::PluginRegistry registry;
  register_builtin_transforms(registry);
  int runs = 0;
  for (const auto& e : registry.list()) {
    if (e.kind != PluginKind::kTransform) continue;
    std::string name = e.descriptor.aliases.front();
    name = name.substr(0, name.find('$'));
    auto it = configs().find(name);
    ASSERT_NE(it, configs().end()) << "no config for " << name;
    KeyValue config{{"transforms", "t"}, {"transforms.t.class", e.descriptor.class_name}};
    for (const auto& [k, v] : it->second) config.put("transforms.t." + k, v);
    auto chain = TransformChain::build(config, registry);
    ASSERT_TRUE(chain.ok()) << chain.error().to_string();
    for (const auto& [schema, value] : shapes()) {
      for (bool on_key : {false, true}) {
        ConnectRecord r(RecordPartition{{"topic", "in"}, {"queueId", "x"}}, RecordOffset{},
                        std::nullopt);
        (on_key ? r.key_schema : r.value_schema) = schema;
        (on_key ? r.key : r.value) = value;
        try {
          auto out = chain->apply(std::move(r));
          ++runs;
        } catch (const ConnectException&) {
          ++runs;
        } catch (const std::exception& ex) {
          ADD_FAILURE() << e.descriptor.class_name << " threw a non-Connect exception on "
                        << (schema ? schema->to_string() : "no schema") << " / "
                        << value.to_string() << ": " << ex.what();
        }
      }
    }
  }
  EXPECT_GT(runs, 500);
}

}  // namespace
}  // namespace rmqc::transforms
