#include "rmqc/api/struct.h"

#include "rmqc/api/errors.h"

#include <gtest/gtest.h>

namespace rmqc {
namespace {

SchemaPtr person_schema() {
  return SchemaBuilder::struct_()
      .name("person")
      .field("id", SchemaBuilder::int64().build())
      .field("name", SchemaBuilder::string().optional().build())
      .field("age", SchemaBuilder::int32().default_value(18).build())
      .field("tags", SchemaBuilder::array(SchemaBuilder::string().build()).optional().build())
      .build();
}

TEST(StructTest, PutAndTypedGet) {
  Struct s(person_schema());
  s.put("id", std::int64_t{7}).put("name", "ann");
  EXPECT_EQ(s.get_int64("id"), 7);
  EXPECT_EQ(s.get_string("name"), "ann");
  EXPECT_EQ(s.get_int32("age"), 18);  // default
  s.put(*s.schema()->field("age"), 30);
  EXPECT_EQ(s.get_int32("age"), 30);
  EXPECT_TRUE(s.get("tags").is_null());
  EXPECT_TRUE(s.validate().ok());
}

TEST(StructTest, PutRejectsWrongTypeAndUnknownField) {
  Struct s(person_schema());
  try {
    s.put("id", "seven");
    FAIL() << "expected DataException";
  } catch (const DataException& e) {
    EXPECT_STREQ(e.what(), "field 'id': expected INT64, got STRING");
  }
  EXPECT_THROW(s.put("missing", 1), DataException);
  EXPECT_THROW(s.put("id", nullptr), DataException);  // required
  EXPECT_THROW(s.get("missing"), DataException);
  EXPECT_THROW(Struct(SchemaBuilder::int32().build()), DataException);
}

TEST(StructTest, ValidateReportsMissingRequiredField) {
  Struct s(person_schema());
  auto r = s.validate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "field 'id': null value for required INT64");
}

TEST(StructTest, Equality) {
  Struct a(person_schema());
  Struct b(person_schema());
  a.put("id", std::int64_t{1});
  b.put("id", std::int64_t{1});
  EXPECT_EQ(a, b);
  b.put("name", "x");
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace rmqc
