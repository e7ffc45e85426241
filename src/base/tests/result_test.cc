#include "rmqc/base/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace rmqc {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::kInvalidArgument, "not positive");
  return v;
}

Result<int> doubled(int v) {
  RMQC_ASSIGN_OR_RETURN(int parsed, parse_positive(v));
  return parsed * 2;
}

Result<void> check(int v) {
  RMQC_RETURN_IF_ERROR(parse_positive(v));
  return {};
}

TEST(ResultTest, CarriesValueOrError) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, VoidPropagates) {
  EXPECT_TRUE(check(1).ok());
  auto r = check(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "not positive");
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ErrorTest, FlagsAndContext) {
  auto e = Error::retriable(ErrorCode::kTimeout, "send timed out");
  e.with_context("broker-a");
  EXPECT_TRUE(e.is_retriable());
  EXPECT_FALSE(e.is_fatal());
  EXPECT_EQ(e.to_string(), "Timeout: broker-a: send timed out [retriable]");
  EXPECT_TRUE(Error::fatal(ErrorCode::kDataLoss, "x").is_fatal());
}

}  // namespace
}  // namespace rmqc
