#include "jdbc/common/values.h"

#include <gtest/gtest.h>

namespace rmqc::connectors::jdbc {
namespace {

TEST(JdbcValuesTest, DatesAreDaysSinceTheEpoch) {
  EXPECT_EQ(*parse_date("1970-01-01"), 0);
  EXPECT_EQ(*parse_date("1970-01-02"), 1);
  EXPECT_EQ(*parse_date("1969-12-31"), -1);
  EXPECT_EQ(*parse_date("2024-02-29"), 19782);
  EXPECT_EQ(format_date(19782), "2024-02-29");
  EXPECT_EQ(format_date(-1), "1969-12-31");
  EXPECT_EQ(*parse_date("9999-12-31"), 2932896);
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-1-01", "", "2024-01-01x", "abcd"}) {
    EXPECT_FALSE(parse_date(bad).ok()) << bad;
  }
}

TEST(JdbcValuesTest, TimesAreMillisecondsSinceMidnight) {
  EXPECT_EQ(*parse_time("00:00:00"), 0);
  EXPECT_EQ(*parse_time("13:45:01"), 49501000);
  EXPECT_EQ(*parse_time("13:45:01.123456"), 49501123);
  EXPECT_EQ(*parse_time("23:59:59.999"), 86399999);
  EXPECT_EQ(*parse_time("-01:00:00"), -3600000);  // MySQL TIME may be negative
  EXPECT_EQ(format_time(49501123), "13:45:01.123");
  EXPECT_FALSE(parse_time("13:61:00").ok());
  EXPECT_FALSE(parse_time("13:45:01.").ok());
}

TEST(JdbcValuesTest, ZoneLessTimestampsAreReadInTheConfiguredZone) {
  auto utc = TimeZone::load("UTC");
  auto shanghai = TimeZone::load("Asia/Shanghai");
  auto fixed = TimeZone::load("+08:00");
  auto gmt8 = TimeZone::load("GMT+8");
  ASSERT_TRUE(utc.ok() && shanghai.ok() && fixed.ok() && gmt8.ok());
  EXPECT_EQ(*parse_timestamp("1970-01-01 00:00:00", *utc), 0);
  EXPECT_EQ(*parse_timestamp("2024-02-29 13:45:01.5", *utc), 1709214301500);
  EXPECT_EQ(*parse_timestamp("2024-02-29T13:45:01.500", *utc), 1709214301500);
  const std::int64_t eight_hours = 8LL * 3600 * 1000;
  EXPECT_EQ(*parse_timestamp("2024-02-29 13:45:01.5", *shanghai), 1709214301500 - eight_hours);
  EXPECT_EQ(*parse_timestamp("2024-02-29 13:45:01.5", *fixed), 1709214301500 - eight_hours);
  EXPECT_EQ(*parse_timestamp("2024-02-29 13:45:01.5", *gmt8), 1709214301500 - eight_hours);
  // An explicit offset in the text wins over the zone (PostgreSQL timestamptz output).
  EXPECT_EQ(*parse_timestamp("2024-02-29 13:45:01.5+00", *shanghai), 1709214301500);
  EXPECT_EQ(*parse_timestamp("2024-02-29 21:45:01.5+08:00", *utc), 1709214301500);
  EXPECT_EQ(*parse_timestamp("1969-12-31 23:59:59.999", *utc), -1);
  EXPECT_EQ(format_timestamp(-1, *utc), "1969-12-31 23:59:59.999");
  EXPECT_EQ(format_timestamp(1709214301500, *shanghai), "2024-02-29 21:45:01.500");
  EXPECT_FALSE(parse_timestamp("2024-02-29 25:00:00", *utc).ok());
  EXPECT_FALSE(TimeZone::load("Mars/Olympus").ok());
  EXPECT_TRUE(TimeZone::load("UTC")->is_utc());
}

TEST(JdbcValuesTest, DecimalsKeepEveryDigitAtTheColumnScale) {
  auto d = parse_decimal("-12.5", 3);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->scale, 3);
  EXPECT_EQ(d->to_string(), "-12.500");
  auto big = parse_decimal("1234567890123456789012345678.0123456789", 10);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->to_string(), "1234567890123456789012345678.0123456789");
  EXPECT_EQ(parse_decimal("42", 0)->to_string(), "42");
  EXPECT_EQ(parse_decimal("1.2300", 2)->to_string(), "1.23");  // trailing zeros fit
  EXPECT_FALSE(parse_decimal("1.234", 2).ok());                 // never rounded silently
  EXPECT_FALSE(parse_decimal("abc", 2).ok());
  EXPECT_FALSE(parse_decimal("", 0).ok());
}

TEST(JdbcValuesTest, NumbersAndHex) {
  EXPECT_EQ(*parse_int64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(parse_int64("9223372036854775808").ok());
  EXPECT_FALSE(parse_int64("12x").ok());
  EXPECT_DOUBLE_EQ(*parse_double("1.5e3"), 1500.0);
  EXPECT_TRUE(std::isinf(*parse_double("-Infinity")));
  Bytes b{0x00, 0x0a, 0xff};
  EXPECT_EQ(to_hex(b), "000aff");
  EXPECT_EQ(*from_hex("000AfF"), b);
  EXPECT_FALSE(from_hex("abc").ok());
  EXPECT_FALSE(from_hex("zz").ok());
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
