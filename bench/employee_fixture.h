#pragma once

// The seed 002 employee record (a Debezium row of server_026.test_database.employee_copy3), the
// common input of the converter and transform benchmarks.
#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"

#include <optional>
#include <string>

namespace rmqc::bench {

inline SchemaPtr employee_schema() {
  auto opt = [](SchemaBuilder b) { return b.optional().build(); };
  return SchemaBuilder::struct_()
      .name("server_026.test_database.employee_copy3.Value")
      .optional()
      .field("id", opt(SchemaBuilder::int64()))
      .field("name", opt(SchemaBuilder::string()))
      .field("howold", opt(SchemaBuilder::int32()))
      .field("male", opt(SchemaBuilder::int32()))
      .field("company", opt(SchemaBuilder::string()))
      .field("money", opt(SchemaBuilder::float64()))
      .field("begin_time", opt(SchemaBuilder::int64().name("io.debezium.time.Timestamp")))
      .field("modify_time", opt(SchemaBuilder::string().name("io.debezium.time.ZonedTimestamp")))
      .build();
}

// The seed's values; `company` is null there.
inline Struct employee_struct(const SchemaPtr& schema,
                              std::optional<std::string> company = std::nullopt) {
  Struct s(schema);
  s.put("id", std::int64_t{12})
      .put("name", "name-06")
      .put("howold", 19)
      .put("male", 3)
      .put("money", 0.0)
      .put("modify_time", "2022-06-14T11:57:51Z");
  if (company) s.put("company", *company);
  return s;
}

}  // namespace rmqc::bench
