#include "cdc/common/cdc_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rmqc::connectors::cdc {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::int64_t to_int64(const KeyValue& config, std::string_view key, std::int64_t fallback) {
  const std::string* text = config.find(key);
  if (text == nullptr) return fallback;
  std::int64_t v = fallback;
  std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

bool to_bool(const KeyValue& config, std::string_view key, bool fallback) {
  const std::string* text = config.find(key);
  if (text == nullptr) return fallback;
  return lower(*text) == "true";
}

std::string get(const KeyValue& config, std::string_view key) {
  const std::string* text = config.find(key);
  return text == nullptr ? std::string() : *text;
}

Result<std::vector<std::shared_ptr<const RE2>>> compile(std::string_view list,
                                                        std::string_view key) {
  std::vector<std::shared_ptr<const RE2>> out;
  RE2::Options options;
  options.set_log_errors(false);
  for (const auto& item : split_list(list)) {
    auto re = std::make_shared<const RE2>(item, options);
    if (!re->ok()) {
      return Error(ErrorCode::kInvalidConfig,
                   std::string(key) + ": bad regular expression '" + item + "': " + re->error());
    }
    out.push_back(std::move(re));
  }
  return out;
}
}  // namespace

Result<SnapshotMode> parse_snapshot_mode(std::string_view text) {
  const auto t = lower(text);
  if (t == "initial") return SnapshotMode::kInitial;
  if (t == "initial_only") return SnapshotMode::kInitialOnly;
  if (t == "when_needed") return SnapshotMode::kWhenNeeded;
  if (t == "no_data" || t == "schema_only") return SnapshotMode::kNoData;
  if (t == "always") return SnapshotMode::kAlways;
  if (t == "never") return SnapshotMode::kNever;
  if (t == "recovery" || t == "schema_only_recovery") return SnapshotMode::kRecovery;
  return Error(ErrorCode::kInvalidConfig,
               "snapshot.mode: '" + std::string(text) +
                   "' is not one of initial, initial_only, when_needed, no_data (schema_only), "
                   "always, never, recovery (schema_only_recovery)");
}

std::string_view snapshot_mode_name(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial:
      return "initial";
    case SnapshotMode::kInitialOnly:
      return "initial_only";
    case SnapshotMode::kWhenNeeded:
      return "when_needed";
    case SnapshotMode::kNoData:
      return "no_data";
    case SnapshotMode::kAlways:
      return "always";
    case SnapshotMode::kNever:
      return "never";
    case SnapshotMode::kRecovery:
      return "recovery";
  }
  return "initial";
}

Result<IdFilter> IdFilter::make(std::string_view include_list, std::string_view exclude_list,
                                std::string_view what) {
  IdFilter f;
  if (!split_list(include_list).empty() && !split_list(exclude_list).empty()) {
    return Error(ErrorCode::kInvalidConfig, std::string(what) + ".include.list and " +
                                                std::string(what) +
                                                ".exclude.list cannot both be set");
  }
  auto inc = compile(include_list, std::string(what) + ".include.list");
  if (!inc.ok()) return inc.error();
  auto exc = compile(exclude_list, std::string(what) + ".exclude.list");
  if (!exc.ok()) return exc.error();
  f.include_ = std::move(inc.value());
  f.exclude_ = std::move(exc.value());
  return f;
}

bool IdFilter::accepts(std::string_view id) const {
  if (!include_.empty()) {
    for (const auto& re : include_) {
      if (RE2::FullMatch(id, *re)) return true;
    }
    return false;
  }
  for (const auto& re : exclude_) {
    if (RE2::FullMatch(id, *re)) return false;
  }
  return true;
}

bool TableFilter::table_captured(const TableRef& table) const {
  return namespaces.accepts(table.ns) && tables.accepts(table.qualified());
}

bool TableFilter::column_captured(const TableRef& table, std::string_view column) const {
  if (columns.empty()) return true;
  std::string id = table.qualified();
  id += '.';
  id += column;
  return columns.accepts(id);
}

ConfigDef common_config_def(int default_port, std::string_view ns_level,
                            std::string_view default_snapshot_locking_mode,
                            std::string_view default_time_precision_mode) {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  const std::string ns(ns_level);
  ConfigDef d;
  d.define(std::string(kHostnameConfig), T::kString, std::nullopt, I::kHigh,
           "Host name or address of the database server.", validators::non_empty())
      .define(std::string(kPortConfig), T::kInt, std::to_string(default_port), I::kHigh,
              "Port of the database server.", validators::between(1, 65535))
      .define(std::string(kUserConfig), T::kString, std::nullopt, I::kHigh,
              "User to connect as (needs the replication privileges, see the connector's page).")
      .define(std::string(kPasswordConfig), T::kPassword, "", I::kHigh,
              "Password of database.user.")
      .define(std::string(kTopicPrefixConfig), T::kString, "", I::kHigh,
              "Logical name of the captured server: the prefix of every topic and schema name and "
              "the source.name field (required, or its old name database.server.name).")
      .define(std::string(kServerNameConfig), T::kString, "", I::kLow,
              "Old name of topic.prefix (Debezium 1.x); used when topic.prefix is not set.")
      .define(ns + ".include.list", T::kList, "", I::kMedium,
              "Regular expressions (comma-separated, matched against the whole name) of the " + ns +
                  "s to capture; default all.")
      .define(ns + ".exclude.list", T::kList, "", I::kMedium,
              "Regular expressions of the " + ns + "s not to capture (exclusive with " + ns +
                  ".include.list).")
      .define(std::string(kTableIncludeConfig), T::kList, "", I::kMedium,
              "Regular expressions of the tables to capture, matched against '" + ns +
                  ".table'; default all.")
      .define(std::string(kTableExcludeConfig), T::kList, "", I::kMedium,
              "Regular expressions of the tables not to capture (exclusive with "
              "table.include.list).")
      .define(std::string(kColumnIncludeConfig), T::kList, "", I::kLow,
              "Regular expressions of the columns to capture, matched against '" + ns +
                  ".table.column'; default all.")
      .define(std::string(kColumnExcludeConfig), T::kList, "", I::kLow,
              "Regular expressions of the columns to leave out of events (exclusive with "
              "column.include.list).")
      .define(std::string(kSnapshotModeConfig), T::kString, "initial", I::kHigh,
              "initial, initial_only, when_needed, no_data (old name schema_only), always, never "
              "or recovery (old name schema_only_recovery); see docs/connectors/cdc.md.")
      .define(std::string(kSnapshotLockingModeConfig), T::kString,
              std::string(default_snapshot_locking_mode), I::kMedium,
              "How the snapshot locks tables (values per connector).")
      .define(std::string(kHeartbeatIntervalConfig), T::kLong, "0", I::kMedium,
              "Milliseconds between heartbeat records on __debezium-heartbeat_<prefix>; they keep "
              "positions moving on quiet databases. 0 = none.",
              validators::at_least(0))
      .define(std::string(kTombstonesOnDeleteConfig), T::kBoolean, "true", I::kMedium,
              "Follow each delete event with a tombstone (same key, null value).")
      .define(std::string(kMaxBatchSizeConfig), T::kInt, "2048", I::kMedium,
              "Most events one poll returns.", validators::at_least(1))
      .define(std::string(kMaxQueueSizeConfig), T::kInt, "8192", I::kMedium,
              "Most events buffered between the database reader and the worker; a full queue "
              "pauses the reader.",
              validators::at_least(1))
      .define(std::string(kPollIntervalConfig), T::kLong, "500", I::kLow,
              "Longest wait of one poll for new events, in milliseconds.", validators::at_least(1))
      .define(std::string(kIncludeSchemaChangesConfig), T::kBoolean, "true", I::kMedium,
              "Emit schema change events (DDL) on the topic named by topic.prefix.")
      .define(std::string(kSkippedOperationsConfig), T::kList, "t", I::kLow,
              "Operations not to emit: any of c (create), u (update), d (delete), t (truncate), "
              "or none.")
      .define(std::string(kDecimalModeConfig), T::kString, "precise", I::kMedium,
              "DECIMAL/NUMERIC as precise (Decimal), double or string.",
              validators::one_of({"precise", "double", "string"}))
      .define(std::string(kTimePrecisionModeConfig), T::kString,
              std::string(default_time_precision_mode), I::kMedium,
              "Temporal types as adaptive (the column's precision: Time/MicroTime, "
              "Timestamp/MicroTimestamp), adaptive_time_microseconds (TIME always MicroTime) or "
              "connect (Kafka Connect's Date/Time/Timestamp, milliseconds).",
              validators::one_of({"adaptive", "adaptive_time_microseconds", "connect"}))
      .define(std::string(kBinaryModeConfig), T::kString, "bytes", I::kMedium,
              "Binary columns as bytes, base64, base64-url-safe or hex strings.",
              validators::one_of({"bytes", "base64", "base64-url-safe", "hex"}))
      .define(std::string(kConnectTimeoutConfig), T::kLong, "30000", I::kLow,
              "Timeout of one connection attempt to the database, in milliseconds.",
              validators::at_least(1))
      .define(std::string(kConnectBackoffConfig), T::kLong, "30000", I::kLow,
              "Longest wait between reconnection attempts after the database went away (the "
              "wait doubles from 500 ms).",
              validators::at_least(1))
      .define(std::string(kMessageKeyColumnsConfig), T::kString, "", I::kLow,
              "Record keys from chosen columns instead of the primary key (also for keyless "
              "tables): <table regex>:<column>,<column>;... where the regex matches the whole "
              "<ns>.<table> id; incremental snapshots still read in primary key order.");
  return d;
}

Result<CdcConfig> parse_common_config(const KeyValue& config, std::string_view ns_level) {
  CdcConfig c;
  c.hostname = get(config, kHostnameConfig);
  c.port = static_cast<int>(to_int64(config, kPortConfig, 0));
  c.user = get(config, kUserConfig);
  c.password = get(config, kPasswordConfig);
  c.prefix = get(config, kTopicPrefixConfig);
  if (c.prefix.empty()) c.prefix = get(config, kServerNameConfig);
  if (c.prefix.empty()) {
    return Error(ErrorCode::kInvalidConfig,
                 "topic.prefix (or database.server.name) is required: the logical name of the "
                 "captured server");
  }
  const std::string ns(ns_level);
  auto namespaces =
      IdFilter::make(get(config, ns + ".include.list"), get(config, ns + ".exclude.list"), ns);
  if (!namespaces.ok()) return namespaces.error();
  auto tables =
      IdFilter::make(get(config, kTableIncludeConfig), get(config, kTableExcludeConfig), "table");
  if (!tables.ok()) return tables.error();
  auto columns = IdFilter::make(get(config, kColumnIncludeConfig),
                                get(config, kColumnExcludeConfig), "column");
  if (!columns.ok()) return columns.error();
  c.filter = TableFilter{std::move(namespaces.value()), std::move(tables.value()),
                         std::move(columns.value())};

  auto snapshot = parse_snapshot_mode(
      config.contains(kSnapshotModeConfig) ? get(config, kSnapshotModeConfig) : "initial");
  if (!snapshot.ok()) return snapshot.error();
  c.snapshot_mode = snapshot.value();
  c.snapshot_locking_mode = lower(get(config, kSnapshotLockingModeConfig));
  c.heartbeat_interval_ms = to_int64(config, kHeartbeatIntervalConfig, 0);
  c.tombstones_on_delete = to_bool(config, kTombstonesOnDeleteConfig, true);
  c.max_batch_size = static_cast<int>(to_int64(config, kMaxBatchSizeConfig, 2048));
  c.max_queue_size = static_cast<int>(to_int64(config, kMaxQueueSizeConfig, 8192));
  c.poll_interval_ms = to_int64(config, kPollIntervalConfig, 500);
  c.include_schema_changes = to_bool(config, kIncludeSchemaChangesConfig, true);
  if (config.contains(kSkippedOperationsConfig)) {
    for (const auto& item : split_list(get(config, kSkippedOperationsConfig))) {
      const auto op = lower(item);
      if (op == "none") continue;
      if (op.size() != 1 || std::string_view("cudt").find(op[0]) == std::string_view::npos) {
        return Error(ErrorCode::kInvalidConfig,
                     "skipped.operations: '" + item + "' is not one of c, u, d, t, none");
      }
      c.skipped_operations.insert(op[0]);
    }
  } else {
    c.skipped_operations.insert('t');
  }
  if (config.contains(kDecimalModeConfig)) {
    auto m = parse_decimal_mode(get(config, kDecimalModeConfig));
    if (!m.ok()) return m.error();
    c.types.decimal = m.value();
  }
  if (config.contains(kTimePrecisionModeConfig)) {
    auto m = parse_time_precision_mode(get(config, kTimePrecisionModeConfig));
    if (!m.ok()) return m.error();
    c.types.time = m.value();
  }
  if (config.contains(kBinaryModeConfig)) {
    auto m = parse_binary_mode(get(config, kBinaryModeConfig));
    if (!m.ok()) return m.error();
    c.types.binary = m.value();
  }
  c.connect_timeout_ms = to_int64(config, kConnectTimeoutConfig, 30000);
  c.connect_backoff_max_ms = to_int64(config, kConnectBackoffConfig, 30000);
  auto keys = MessageKeyColumns::parse(get(config, kMessageKeyColumnsConfig));
  if (!keys.ok()) return keys.error();
  c.message_key_columns = std::move(keys.value());
  return c;
}

Result<MessageKeyColumns> MessageKeyColumns::parse(std::string_view text) {
  MessageKeyColumns out;
  RE2::Options options;
  options.set_log_errors(false);
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t end = text.find(';', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view entry = trim(text.substr(at, end - at));
    at = end + 1;
    if (entry.empty()) continue;
    // The last ':' ends the table's regex: column names have none, a regex may.
    const std::size_t colon = entry.rfind(':');
    const std::string_view table =
        colon == std::string_view::npos ? entry : trim(entry.substr(0, colon));
    Entry e;
    if (colon != std::string_view::npos) {
      for (const auto& column : split_list(entry.substr(colon + 1))) e.columns.push_back(column);
    }
    if (table.empty() || e.columns.empty()) {
      return Error(ErrorCode::kInvalidConfig,
                   "message.key.columns: '" + std::string(entry) +
                       "' is not <table regex>:<column>[,<column>...] (entries end with ';')");
    }
    e.table = std::make_shared<const RE2>(table, options);
    if (!e.table->ok()) {
      return Error(ErrorCode::kInvalidConfig, "message.key.columns: bad regular expression '" +
                                                  std::string(table) + "': " + e.table->error());
    }
    out.entries_.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> MessageKeyColumns::key_columns(
    const TableRef& table, const std::vector<ColumnSchema>& columns) const {
  std::vector<std::string> out;
  if (entries_.empty()) return out;
  const std::string id = table.qualified();
  std::vector<const Entry*> matching;
  for (const auto& e : entries_) {
    if (RE2::FullMatch(id, *e.table)) matching.push_back(&e);
  }
  for (const auto& c : columns) {
    const std::string name = lower(c.name);
    for (const Entry* e : matching) {
      if (std::any_of(e->columns.begin(), e->columns.end(),
                      [&](const std::string& k) { return lower(k) == name; })) {
        out.push_back(c.name);
        break;
      }
    }
  }
  return out;
}

}  // namespace rmqc::connectors::cdc
