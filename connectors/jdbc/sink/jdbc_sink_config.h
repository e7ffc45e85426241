#pragma once

// The keys of JdbcSinkConnector (docs/connectors/jdbc.md, "Sink"), parsed once per task.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "jdbc/common/dialect.h"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::jdbc {

enum class PkMode { kNone, kRecordKey, kRecordValue };

// The record extension (header) naming the target table when table.name.from.header is true.
inline constexpr std::string_view kSinkTableHeader = "table";

struct JdbcSinkConfig {
  // The connection.* keys, dialect.name, db.timezone and quote.sql.identifiers are read by
  // connection_settings() (jdbc/common/connection_config.h).
  InsertMode insert_mode = InsertMode::kInsert;
  PkMode pk_mode = PkMode::kNone;
  std::vector<std::string> pk_fields;
  std::set<std::string, std::less<>> fields_whitelist;  // empty = every field
  bool auto_create = false;
  bool auto_evolve = false;
  bool delete_enabled = false;
  std::string table_name_format = "${topic}";
  bool table_name_from_header = false;
  std::set<std::string, std::less<>> tables_whitelist;  // empty = every table
  int batch_size = 100;
  int max_retries = 10;
  std::int64_t retry_backoff_ms = 3000;
  std::vector<std::string> table_types{"TABLE"};

  static ConfigDef definition();
  // Defaults applied, every key checked, including the combinations the ConfigDef cannot express
  // (delete.enabled needs pk.mode record_key; upsert/update need a primary key mode).
  static Result<JdbcSinkConfig> parse(const KeyValue& config);
};

std::string_view pk_mode_name(PkMode mode);

}  // namespace rmqc::connectors::jdbc
