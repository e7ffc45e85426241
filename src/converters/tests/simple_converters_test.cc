#include "converters/number_converters.h"
#include "converters/string_converter.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rmqc::converters {
namespace {

std::string bytes_of(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

TEST(StringConverterTest, RoundTripsUtf8) {
  StringConverter c;
  std::string out;
  ASSERT_TRUE(c.from_connect_data("t", schemas::string(), Value("héllo ✓"), out).ok());
  EXPECT_EQ(out, "héllo ✓");
  auto back = c.to_connect_data("t", out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value.as_string(), "héllo ✓");
  EXPECT_EQ(back->schema->type(), FieldType::kString);
  EXPECT_TRUE(back->schema->optional());
}

TEST(StringConverterTest, NonStringsUseTheirDisplayForm) {
  StringConverter c;
  EXPECT_EQ(*c.from_connect_data("t", nullptr, Value(std::int64_t{42})), "42");
  EXPECT_EQ(*c.from_connect_data("t", nullptr, Value(true)), "true");
  EXPECT_EQ(*c.from_connect_data("t", nullptr, Value()), "");
}

TEST(ByteArrayConverterTest, PassesBytesThrough) {
  ByteArrayConverter c;
  Bytes raw{0x00, 0xff, 0x10};
  auto out = c.from_connect_data("t", schemas::bytes(), Value(raw));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, bytes_of({0x00, 0xff, 0x10}));
  auto back = c.to_connect_data("t", *out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value.as_bytes(), raw);
}

TEST(ByteArrayConverterTest, RejectsOtherTypes) {
  ByteArrayConverter c;
  auto bad = c.from_connect_data("t", nullptr, Value("text"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "ByteArrayConverter needs a BYTES value, got STRING");
  auto bad_schema = c.from_connect_data("t", schemas::string(), Value(Bytes{1}));
  ASSERT_FALSE(bad_schema.ok());
}

// Byte layouts as java.nio.ByteBuffer (big-endian) writes them.
TEST(NumberConvertersTest, BigEndianLikeJava) {
  ShortConverter s;
  EXPECT_EQ(*s.from_connect_data("t", nullptr, Value(std::int16_t{-2})), bytes_of({0xff, 0xfe}));
  IntegerConverter i;
  EXPECT_EQ(*i.from_connect_data("t", nullptr, Value(0x01020304)), bytes_of({1, 2, 3, 4}));
  LongConverter l;
  EXPECT_EQ(*l.from_connect_data("t", nullptr, Value(std::int64_t{1})),
            bytes_of({0, 0, 0, 0, 0, 0, 0, 1}));
  FloatConverter f;
  EXPECT_EQ(*f.from_connect_data("t", nullptr, Value(1.0f)), bytes_of({0x3f, 0x80, 0, 0}));
  DoubleConverter d;
  EXPECT_EQ(*d.from_connect_data("t", nullptr, Value(-2.0)), bytes_of({0xc0, 0, 0, 0, 0, 0, 0, 0}));
}

template <typename C, typename T>
void expect_round_trip(T v) {
  C c;
  auto bytes = c.from_connect_data("t", nullptr, Value(v));
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  auto back = c.to_connect_data("t", *bytes);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_NE(back->value.template get_if<T>(), nullptr);
  EXPECT_EQ(*back->value.template get_if<T>(), v);
}

TEST(NumberConvertersTest, RoundTripExtremes) {
  expect_round_trip<ShortConverter>(std::numeric_limits<std::int16_t>::min());
  expect_round_trip<ShortConverter>(std::numeric_limits<std::int16_t>::max());
  expect_round_trip<IntegerConverter>(std::numeric_limits<std::int32_t>::min());
  expect_round_trip<LongConverter>(std::numeric_limits<std::int64_t>::max());
  expect_round_trip<LongConverter>(std::int64_t{-1});
  expect_round_trip<FloatConverter>(3.25f);
  expect_round_trip<DoubleConverter>(-1e300);
  DoubleConverter d;
  auto nan = d.to_connect_data("t", *d.from_connect_data("t", nullptr, Value(NAN)));
  EXPECT_TRUE(std::isnan(nan->value.as_float64()));
}

TEST(NumberConvertersTest, NullAndWideningAndErrors) {
  IntegerConverter i;
  EXPECT_EQ(*i.from_connect_data("t", nullptr, Value()), "");
  auto null_back = i.to_connect_data("t", "");
  ASSERT_TRUE(null_back.ok());
  EXPECT_TRUE(null_back->value.is_null());
  LongConverter l;
  EXPECT_EQ(l.from_connect_data("t", nullptr, Value(7))->size(), 8u);  // int32 widens
  auto too_big = i.from_connect_data("t", nullptr, Value(std::int64_t{1} << 40));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message().find("cannot encode"), std::string::npos);
  auto short_input = i.to_connect_data("t", bytes_of({1, 2, 3}));
  ASSERT_FALSE(short_input.ok());
  EXPECT_EQ(short_input.error().message(), "IntegerConverter: expected 4 bytes, got 3");
  EXPECT_FALSE(i.from_connect_data("t", nullptr, Value("1")).ok());
  EXPECT_FALSE(i.from_connect_data("t", schemas::string(), Value(1)).ok());
}

}  // namespace
}  // namespace rmqc::converters
