// PostgreSQL text forms (jdbc/postgres/postgres_values.h) without a server.

#include "jdbc/postgres/postgres_values.h"

#include "jdbc/postgres/postgres_dialect.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace rmqc::connectors::jdbc::postgres {
namespace {

ColumnDef column_of(unsigned type_oid, int typmod = -1) {
  return PostgresDialect::column_from_type("c", type_oid, typmod);
}

Value decode(const ColumnDef& column, std::string_view text) {
  Value out;
  auto r = decode_text(column, text, TimeZone(), out);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().to_string();
  return out;
}

TEST(PostgresValues, TypeMapping) {
  EXPECT_EQ(column_of(oid::kInt2).kind, ColumnKind::kInt16);
  EXPECT_EQ(column_of(oid::kInt8).kind, ColumnKind::kInt64);
  const ColumnDef numeric = column_of(oid::kNumeric, ((12 << 16) | 3) + 4);
  EXPECT_EQ(numeric.kind, ColumnKind::kDecimal);
  EXPECT_EQ(numeric.precision, 12);
  EXPECT_EQ(numeric.scale, 3);
  EXPECT_EQ(column_of(oid::kNumeric).kind, ColumnKind::kString);  // unconstrained
  EXPECT_EQ(column_of(oid::kVarchar, 24).precision, 20);
  EXPECT_TRUE(column_of(oid::kTimestamptz).with_time_zone);
  EXPECT_FALSE(column_of(oid::kTimestamp).with_time_zone);
  const ColumnDef int_array = column_of(1007);
  EXPECT_EQ(int_array.kind, ColumnKind::kArray);
  EXPECT_EQ(int_array.element_kind, ColumnKind::kInt32);
  EXPECT_EQ(int_array.native_type, "integer[]");
  const ColumnDef numeric_array = column_of(1231, ((10 << 16) | 2) + 4);
  EXPECT_EQ(numeric_array.element_kind, ColumnKind::kDecimal);
  EXPECT_EQ(numeric_array.scale, 2);
  EXPECT_EQ(column_of(123456).kind, ColumnKind::kString);  // an enum or other user type
}

TEST(PostgresValues, DecodesScalars) {
  EXPECT_EQ(decode(column_of(oid::kBool), "t"), Value(true));
  EXPECT_EQ(decode(column_of(oid::kInt2), "-32768"), Value(std::int16_t{-32768}));
  EXPECT_EQ(decode(column_of(oid::kFloat8), "-Infinity"),
            Value(-std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(std::isnan(decode(column_of(oid::kFloat4), "NaN").as_float32()));
  EXPECT_EQ(decode(column_of(oid::kNumeric, ((10 << 16) | 2) + 4), "-1.5"),
            Value(Decimal::from_unscaled(-150, 2)));
  EXPECT_EQ(decode(column_of(oid::kBytea), "\\x00ff"), Value(Bytes{0, 255}));
  EXPECT_EQ(decode(column_of(oid::kTimestamptz), "1970-01-01 00:00:01.5+00"),
            Value(std::int64_t{1500}));
  EXPECT_EQ(decode(column_of(oid::kTimestamptz), "1970-01-01 08:00:00+08"), Value(std::int64_t{0}));
  EXPECT_EQ(decode(column_of(oid::kTimestamptz), "1969-12-31 23:59:59.999+00"),
            Value(std::int64_t{-1}));

  Value out;
  EXPECT_FALSE(decode_text(column_of(oid::kInt2), "40000", TimeZone(), out).ok());
  EXPECT_FALSE(decode_text(column_of(oid::kBool), "yes", TimeZone(), out).ok());
  EXPECT_FALSE(
      decode_text(column_of(oid::kNumeric, ((10 << 16) | 2) + 4), "NaN", TimeZone(), out).ok());
}

TEST(PostgresValues, DecodesArrays) {
  EXPECT_EQ(decode(column_of(1007), "{1,NULL,-3}"),
            Value(ValueList{Value(std::int32_t{1}), Value(), Value(std::int32_t{-3})}));
  EXPECT_EQ(decode(column_of(1007), "{}"), Value(ValueList{}));
  EXPECT_EQ(decode(column_of(1009), R"({"a,b",NULL,"NULL","q\"x","b\\s",plain, "sp "})"),
            Value(ValueList{Value("a,b"), Value(), Value("NULL"), Value("q\"x"), Value("b\\s"),
                            Value("plain"), Value("sp ")}));
  EXPECT_EQ(decode(column_of(1007), "{{1,2},{3,4}}"),
            Value(ValueList{Value(ValueList{Value(std::int32_t{1}), Value(std::int32_t{2})}),
                            Value(ValueList{Value(std::int32_t{3}), Value(std::int32_t{4})})}));
  EXPECT_EQ(decode(column_of(1007), "[0:1]={5,6}"),
            Value(ValueList{Value(std::int32_t{5}), Value(std::int32_t{6})}));
  EXPECT_EQ(decode(column_of(1001), R"({"\\x00ff"})"), Value(ValueList{Value(Bytes{0, 255})}));
  Value out;
  EXPECT_FALSE(decode_text(column_of(1007), "{1,2", TimeZone(), out).ok());
  EXPECT_FALSE(decode_text(column_of(1007), "{1,x}", TimeZone(), out).ok());
}

TEST(PostgresValues, EncodesText) {
  std::string out;
  ASSERT_TRUE(encode_text(ColumnKind::kArray,
                          Value(ValueList{Value("a\"b"), Value(), Value("c\\d"),
                                          Value(ValueList{Value(std::int64_t{1})})}),
                          TimeZone(), out)
                  .ok());
  EXPECT_EQ(out, R"({"a\"b",NULL,"c\\d",{"1"}})");
  out.clear();
  ASSERT_TRUE(encode_text(ColumnKind::kBytes, Value(Bytes{0, 0xab}), TimeZone(), out).ok());
  EXPECT_EQ(out, "\\x00ab");
  out.clear();
  ASSERT_TRUE(encode_text(ColumnKind::kTimestamp, Value(std::int64_t{1500}), TimeZone(), out).ok());
  EXPECT_EQ(out, "1970-01-01 00:00:01.500+00");
  out.clear();
  auto shanghai = TimeZone::load("Asia/Shanghai");
  ASSERT_TRUE(shanghai.ok());
  ASSERT_TRUE(encode_text(ColumnKind::kTimestamp, Value(std::int64_t{0}), *shanghai, out).ok());
  EXPECT_EQ(out, "1970-01-01 08:00:00.000+08:00");
  out.clear();
  ASSERT_TRUE(encode_text(ColumnKind::kFloat64, Value(0.1), TimeZone(), out).ok());
  EXPECT_EQ(out, "0.1");
  out.clear();
  const ColumnKind ts = ColumnKind::kTimestamp;
  ASSERT_TRUE(encode_text(ColumnKind::kArray, Value(ValueList{Value(std::int64_t{0})}), TimeZone(),
                          out, &ts)
                  .ok());
  EXPECT_EQ(out, R"({"1970-01-01 00:00:00.000+00"})");
  out.clear();
  EXPECT_FALSE(encode_text(ColumnKind::kDate, Value(true), TimeZone(), out).ok());

  out.clear();
  append_copy_escaped("a\tb\nc\rd\\e", out);
  EXPECT_EQ(out, "a\\tb\\nc\\rd\\\\e");
}

}  // namespace
}  // namespace rmqc::connectors::jdbc::postgres
