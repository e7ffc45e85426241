#include "rmqc/api/schema.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include <gtest/gtest.h>

namespace rmqc {
namespace {

TEST(SchemaBuilderTest, SeedExample) {
  // Seed 002's SchemaBuilder example, in C++.
  SchemaPtr schema = SchemaBuilder::struct_()
                         .name("test")
                         .default_value("")
                         .optional()
                         .doc("this is a demo")
                         .field("string-field", SchemaBuilder::string().build())
                         .field("bool-field", SchemaBuilder::bool_().build())
                         .build();
  EXPECT_EQ(schema->type(), FieldType::kStruct);
  EXPECT_EQ(schema->name(), "test");
  EXPECT_TRUE(schema->optional());
  EXPECT_EQ(schema->doc(), "this is a demo");
  ASSERT_EQ(schema->fields().size(), 2u);
  EXPECT_EQ(schema->fields()[1].name, "bool-field");
  EXPECT_EQ(schema->fields()[1].index, 1);
  EXPECT_EQ(schema->field("bool-field")->schema->type(), FieldType::kBoolean);
  EXPECT_EQ(schema->field("nope"), nullptr);
  EXPECT_EQ(schema->default_value(), nullptr);  // "" on a struct means no default
}

TEST(SchemaBuilderTest, ArraysMapsAndMetadata) {
  auto arr = SchemaBuilder::array(SchemaBuilder::int32().build()).optional().build();
  EXPECT_EQ(arr->type(), FieldType::kArray);
  EXPECT_EQ(arr->value_schema()->type(), FieldType::kInt32);
  auto map = SchemaBuilder::map(SchemaBuilder::string().build(), arr).version(3).build();
  EXPECT_EQ(map->key_schema()->type(), FieldType::kString);
  EXPECT_EQ(map->value_schema()->type(), FieldType::kArray);
  EXPECT_EQ(map->version(), 3);
  auto withp = SchemaBuilder::string().parameter("length", "10").default_value("x").build();
  ASSERT_NE(withp->parameter("length"), nullptr);
  EXPECT_EQ(*withp->parameter("length"), "10");
  EXPECT_EQ(withp->default_value()->as_string(), "x");
}

TEST(SchemaBuilderTest, MisuseThrows) {
  EXPECT_THROW(SchemaBuilder::int32().field("a", SchemaBuilder::int32().build()),
               SchemaBuilderException);
  EXPECT_THROW(SchemaBuilder::struct_()
                   .field("a", SchemaBuilder::int32().build())
                   .field("a", SchemaBuilder::int64().build()),
               SchemaBuilderException);
  EXPECT_THROW(SchemaBuilder::int32().default_value("not a number").build(),
               SchemaBuilderException);
  EXPECT_THROW(SchemaBuilder::array(nullptr), SchemaBuilderException);
}

TEST(SchemaTest, LogicalTypes) {
  auto dec = SchemaBuilder::decimal(2).build();
  EXPECT_EQ(dec->type(), FieldType::kBytes);
  EXPECT_EQ(logical::logical_type_of(*dec), logical::LogicalType::kDecimal);
  EXPECT_EQ(logical::decimal_scale(*dec), 2);
  EXPECT_EQ(logical::logical_type_of(*SchemaBuilder::date().build()), logical::LogicalType::kDate);
  EXPECT_EQ(SchemaBuilder::date().build()->type(), FieldType::kInt32);
  EXPECT_EQ(logical::logical_type_of(*SchemaBuilder::time().build()), logical::LogicalType::kTime);
  EXPECT_EQ(logical::logical_type_of(*SchemaBuilder::timestamp().build()),
            logical::LogicalType::kTimestamp);
  EXPECT_EQ(SchemaBuilder::timestamp().build()->type(), FieldType::kInt64);
  auto kafka = SchemaBuilder::int64().name("org.apache.kafka.connect.data.Timestamp").build();
  EXPECT_EQ(logical::logical_type_of(*kafka), logical::LogicalType::kTimestamp);
  EXPECT_EQ(logical::logical_type_of(*SchemaBuilder::int64().name("x").build()),
            logical::LogicalType::kNone);
  EXPECT_TRUE(dec->validate_value(Decimal::from_unscaled(1, 2)).ok());
  EXPECT_FALSE(dec->validate_value(Bytes{1}).ok());
}

TEST(SchemaTest, ValidateValueNamesThePath) {
  auto inner =
      SchemaBuilder::struct_().name("inner").field("n", SchemaBuilder::int64().build()).build();
  auto outer = SchemaBuilder::struct_()
                   .field("list", SchemaBuilder::array(SchemaBuilder::string().build()).build())
                   .field("inner", inner)
                   .build();
  Struct s(outer);
  s.values()[0] = ValueList{"a", 1};
  s.values()[1] = Struct(inner);
  auto r = s.validate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(r.error().message(), "field 'list[1]': expected STRING, got INT32");
  s.values()[0] = ValueList{"a"};
  r = s.validate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "field 'inner.n': null value for required INT64");
  s.values()[1].as_struct().put("n", std::int64_t{5});
  EXPECT_TRUE(s.validate().ok());
}

TEST(SchemaTest, StructuralEquality) {
  auto a = SchemaBuilder::struct_().name("a").field("x", SchemaBuilder::int32().build()).build();
  auto b = SchemaBuilder::struct_().name("a").field("x", SchemaBuilder::int32().build()).build();
  auto c = SchemaBuilder::struct_().name("a").field("x", SchemaBuilder::int64().build()).build();
  EXPECT_TRUE(a->equals(*b));
  EXPECT_FALSE(a->equals(*c));
  EXPECT_TRUE(schemas_equal(nullptr, nullptr));
  EXPECT_FALSE(schemas_equal(a, nullptr));
}

TEST(SchemaTest, SharedPrimitiveSchemas) {
  EXPECT_EQ(schemas::of(FieldType::kInt16).get(), schemas::of(FieldType::kInt16).get());
  EXPECT_TRUE(schemas::string(true)->optional());
  EXPECT_FALSE(schemas::string()->optional());
  EXPECT_THROW(schemas::of(FieldType::kStruct), SchemaBuilderException);
}

TEST(SchemaTest, WideStructsUseTheIndex) {
  SchemaBuilder b = SchemaBuilder::struct_();
  for (int i = 0; i < 40; ++i) b.field("f" + std::to_string(i), SchemaBuilder::int32().build());
  auto s = b.build();
  ASSERT_NE(s->field("f37"), nullptr);
  EXPECT_EQ(s->field("f37")->index, 37);
  EXPECT_EQ(s->field("f40"), nullptr);
}

}  // namespace
}  // namespace rmqc
