#include "rmqc/api/value.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"

#include <gtest/gtest.h>

namespace rmqc {
namespace {

TEST(ValueTest, HoldsEveryKind) {
  EXPECT_EQ(Value().kind(), Value::Kind::kNull);
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBoolean);
  EXPECT_EQ(Value(std::int8_t{1}).kind(), Value::Kind::kInt8);
  EXPECT_EQ(Value(std::int16_t{1}).kind(), Value::Kind::kInt16);
  EXPECT_EQ(Value(1).kind(), Value::Kind::kInt32);
  EXPECT_EQ(Value(std::int64_t{1}).kind(), Value::Kind::kInt64);
  EXPECT_EQ(Value(1.5f).kind(), Value::Kind::kFloat32);
  EXPECT_EQ(Value(1.5).kind(), Value::Kind::kFloat64);
  EXPECT_EQ(Value("abc").kind(), Value::Kind::kString);  // not bool
  EXPECT_EQ(Value(Bytes{1, 2}).kind(), Value::Kind::kBytes);
  EXPECT_EQ(Value(ValueList{1, 2}).kind(), Value::Kind::kArray);
  EXPECT_EQ(Value(ValueMap{{"a", 1}}).kind(), Value::Kind::kMap);
  EXPECT_EQ(Value(Decimal::from_unscaled(5, 1)).kind(), Value::Kind::kDecimal);
  auto schema = SchemaBuilder::struct_().field("a", SchemaBuilder::int32().build()).build();
  EXPECT_EQ(Value(Struct(schema)).kind(), Value::Kind::kStruct);
}

TEST(ValueTest, TypedAccessorsThrowOnMismatch) {
  Value v(std::int64_t{42});
  EXPECT_EQ(v.as_int64(), 42);
  EXPECT_THROW(v.as_string(), DataException);
  try {
    v.as_int32();
  } catch (const DataException& e) {
    EXPECT_STREQ(e.what(), "expected a INT32 value, got INT64");
  }
}

TEST(ValueTest, EqualityAndHashAreByValue) {
  Value a(ValueMap{{"k", ValueList{1, "x"}}});
  Value b(ValueMap{{"k", ValueList{1, "x"}}});
  Value c(ValueMap{{"k", ValueList{2, "x"}}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(Value(1) == Value(std::int64_t{1}));  // kinds differ
}

TEST(ValueTest, CopyIsDeepMoveIsCheap) {
  auto schema = SchemaBuilder::struct_().field("a", SchemaBuilder::string().build()).build();
  Struct s(schema);
  s.put("a", "one");
  Value v(s);
  Value copy = v;
  copy.as_struct().put("a", "two");
  EXPECT_EQ(v.as_struct().get_string("a"), "one");
  Value moved = std::move(copy);
  EXPECT_EQ(moved.as_struct().get_string("a"), "two");
  static_assert(std::is_nothrow_move_constructible_v<Value>);
}

TEST(ValueTest, FindInStringKeyedMap) {
  Value m(ValueMap{{"a", 1}, {"b", 2}});
  ASSERT_NE(m.find("b"), nullptr);
  EXPECT_EQ(m.find("b")->as_int32(), 2);
  EXPECT_EQ(m.find("c"), nullptr);
  EXPECT_EQ(Value(1).find("a"), nullptr);
}

TEST(ValueTest, ToString) {
  EXPECT_EQ(Value("plain").to_string(), "plain");
  EXPECT_EQ(Value(ValueList{1, "x", nullptr, true}).to_string(), "[1,\"x\",null,true]");
  EXPECT_EQ(Value(Bytes{0xde, 0xad}).to_string(), "0xdead");
}

struct DecimalCase {
  const char* text;
  const char* canonical;
  std::int32_t scale;
};

TEST(DecimalTest, ParseAndFormatRoundTrip) {
  for (auto c :
       {DecimalCase{"123.45", "123.45", 2}, DecimalCase{"-123.45", "-123.45", 2},
        DecimalCase{"0.001", "0.001", 3}, DecimalCase{"-0.5", "-0.5", 1},
        DecimalCase{"100", "100", 0}, DecimalCase{"0", "0", 0}, DecimalCase{"1.50e2", "150", 0},
        DecimalCase{"12345678901234567890123.456789", "12345678901234567890123.456789", 6},
        DecimalCase{"-128", "-128", 0}, DecimalCase{"255", "255", 0}}) {
    Decimal d;
    ASSERT_TRUE(Decimal::parse(c.text, d)) << c.text;
    EXPECT_EQ(d.scale, c.scale) << c.text;
    EXPECT_EQ(d.to_string(), c.canonical) << c.text;
  }
  Decimal bad;
  EXPECT_FALSE(Decimal::parse("", bad));
  EXPECT_FALSE(Decimal::parse("1.2.3", bad));
  EXPECT_FALSE(Decimal::parse("abc", bad));
  EXPECT_FALSE(Decimal::parse("1e", bad));
}

TEST(DecimalTest, TwosComplementMatchesJavaBigInteger) {
  // BigInteger.valueOf(v).toByteArray()
  EXPECT_EQ(Decimal::from_unscaled(0, 0).unscaled, (Bytes{0x00}));
  EXPECT_EQ(Decimal::from_unscaled(127, 0).unscaled, (Bytes{0x7f}));
  EXPECT_EQ(Decimal::from_unscaled(128, 0).unscaled, (Bytes{0x00, 0x80}));
  EXPECT_EQ(Decimal::from_unscaled(-1, 0).unscaled, (Bytes{0xff}));
  EXPECT_EQ(Decimal::from_unscaled(-128, 0).unscaled, (Bytes{0x80}));
  EXPECT_EQ(Decimal::from_unscaled(-129, 0).unscaled, (Bytes{0xff, 0x7f}));
  EXPECT_EQ(Decimal::from_unscaled(12345, 2).to_string(), "123.45");
  std::int64_t v = 0;
  ASSERT_TRUE(Decimal::from_unscaled(-129, 0).to_int64(v));
  EXPECT_EQ(v, -129);
}

}  // namespace
}  // namespace rmqc
