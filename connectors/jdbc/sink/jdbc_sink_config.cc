#include "jdbc/sink/jdbc_sink_config.h"

#include "jdbc/common/connection_config.h"

#include <algorithm>
#include <cctype>

namespace rmqc::connectors::jdbc {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::string_view pk_mode_name(PkMode mode) {
  switch (mode) {
    case PkMode::kNone:
      return "none";
    case PkMode::kRecordKey:
      return "record_key";
    case PkMode::kRecordValue:
      return "record_value";
  }
  return "none";
}

ConfigDef JdbcSinkConfig::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_connection_keys(def);
  def.define("insert.mode", T::kString, "insert", I::kHigh,
             "insert: plain INSERT (COPY on PostgreSQL); upsert: insert or replace by the primary "
             "key (ON CONFLICT / ON DUPLICATE KEY UPDATE); update: UPDATE by the primary key.",
             validators::one_of({"insert", "upsert", "update"}));
  def.define("pk.mode", T::kString, "none", I::kHigh,
             "Where the primary key comes from: none, record_key (the record key: a primitive "
             "with exactly one pk.fields name, or a struct/map) or record_value (fields of the "
             "value named by pk.fields, all of them when empty).",
             validators::one_of({"none", "record_key", "record_value"}));
  def.define("pk.fields", T::kList, "", I::kMedium, "The primary key column names (see pk.mode).");
  def.define("fields.whitelist", T::kList, "", I::kMedium,
             "The value fields written as columns; empty = all. Key columns are always written.");
  def.define("auto.create", T::kBoolean, "false", I::kMedium,
             "Create a missing table (CREATE TABLE) from the record's schema.");
  def.define("auto.evolve", T::kBoolean, "false", I::kMedium,
             "Add columns (ALTER TABLE ... ADD) for record fields the table lacks; only optional "
             "fields or fields with a default can be added.");
  def.define("delete.enabled", T::kBoolean, "false", I::kMedium,
             "A record with a null value deletes the row of its key; needs pk.mode record_key.");
  def.define("table.name.format", T::kString, "${topic}", I::kMedium,
             "The target table; ${topic} is replaced by the record's topic. db.table or "
             "schema.table names a table outside the default database/schema.",
             validators::non_empty());
  def.define("table.name.from.header", T::kBoolean, "false", I::kMedium,
             "Take the table name from the record's 'table' extension (header) when it has one; "
             "records without it use table.name.format.");
  def.define("tables.whitelist", T::kList, "", I::kMedium,
             "When set, only these tables are written; records routed to other tables are "
             "skipped (and their offsets committed).");
  def.define("batch.size", T::kInt, "100", I::kMedium, "The most rows written in one transaction.",
             validators::between(1, 1000000));
  def.define("max.retries", T::kInt, "10", I::kMedium,
             "How many times a batch is retried after a retriable database error (lost "
             "connection, deadlock, serialization failure) before the task fails.",
             validators::at_least(0));
  def.define("retry.backoff.ms", T::kLong, "3000", I::kMedium, "The wait before such a retry.",
             validators::at_least(0));
  def.define("table.types", T::kList, "TABLE", I::kLow,
             "The kinds of table the sink may write (TABLE, VIEW); the sink checks a target's "
             "existence against these.");
  return def;
}

Result<JdbcSinkConfig> JdbcSinkConfig::parse(const KeyValue& raw) {
  auto parsed = definition().parse(raw);
  if (!parsed.ok()) return std::move(parsed).error();
  const KeyValue& c = *parsed;
  JdbcSinkConfig out;
  const std::string mode = lower(c.get_string("insert.mode", "insert"));
  out.insert_mode = mode == "upsert"   ? InsertMode::kUpsert
                    : mode == "update" ? InsertMode::kUpdate
                                       : InsertMode::kInsert;
  const std::string pk = lower(c.get_string("pk.mode", "none"));
  out.pk_mode = pk == "record_key"     ? PkMode::kRecordKey
                : pk == "record_value" ? PkMode::kRecordValue
                                       : PkMode::kNone;
  out.pk_fields = split_list(c.get_string("pk.fields"));
  for (auto& f : split_list(c.get_string("fields.whitelist"))) {
    out.fields_whitelist.insert(std::move(f));
  }
  out.auto_create = c.get_bool("auto.create");
  out.auto_evolve = c.get_bool("auto.evolve");
  out.delete_enabled = c.get_bool("delete.enabled");
  out.table_name_format = c.get_string("table.name.format", "${topic}");
  out.table_name_from_header = c.get_bool("table.name.from.header");
  for (auto& t : split_list(c.get_string("tables.whitelist"))) {
    out.tables_whitelist.insert(std::move(t));
  }
  out.batch_size = c.get_int("batch.size", 100);
  out.max_retries = c.get_int("max.retries", 10);
  out.retry_backoff_ms = c.get_long("retry.backoff.ms", 3000);
  out.table_types.clear();
  for (auto& t : split_list(c.get_string("table.types", "TABLE"))) {
    out.table_types.push_back(upper(t));
  }
  if (out.table_types.empty()) out.table_types.emplace_back("TABLE");

  std::vector<std::string> problems;
  if (out.delete_enabled && out.pk_mode != PkMode::kRecordKey) {
    problems.push_back("delete.enabled=true needs pk.mode=record_key (pk.mode is " +
                       std::string(pk_mode_name(out.pk_mode)) + ")");
  }
  if (out.insert_mode != InsertMode::kInsert && out.pk_mode == PkMode::kNone) {
    problems.push_back("insert.mode=" + mode +
                       " needs a primary key: set pk.mode to record_key or record_value");
  }
  if (!problems.empty()) {
    std::string message = "Invalid JDBC sink configuration: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
      if (i) message += "; ";
      message += problems[i];
    }
    return Error(ErrorCode::kInvalidConfig, std::move(message));
  }
  return out;
}

}  // namespace rmqc::connectors::jdbc
