#include "cdc/common/incremental_snapshot.h"

#include "rmqc/api/logging.h"
#include "rmqc/api/struct.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>

namespace rmqc::connectors::cdc {
namespace {

using json = nlohmann::json;

const Logger& logger() {
  static const Logger log("cdc-incremental-snapshot");
  return log;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A random version 4 UUID: 36 characters, so "<uuid>-close" fits Debezium's VARCHAR(42) id.
std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  const std::uint64_t hi = rng();
  const std::uint64_t lo = rng();
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    const std::uint64_t word = i < 16 ? hi : lo;
    unsigned nibble = static_cast<unsigned>((word >> (4 * (15 - (i % 16)))) & 15U);
    if (i == 12) nibble = 4;                 // version 4
    if (i == 16) nibble = 8 | (nibble & 3);  // variant 10xx
    out += kHex[nibble];
  }
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json key_json(const KeyText& key) {
  json out = json::array();
  for (const auto& k : key) out.push_back(k);
  return out;
}

std::optional<KeyText> key_from(const RecordOffset& offset, std::string_view field) {
  const Value* v = offset.find(field);
  if (v == nullptr || v->get_if<std::string>() == nullptr) return std::nullopt;
  json j = json::parse(v->as_string(), nullptr, false);
  if (!j.is_array()) return std::nullopt;
  KeyText out;
  for (const auto& e : j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

// "(a, b)" or "a" for one column.
std::string key_tuple(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  std::string out = "(";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + ")";
}

std::string table_sql(const SqlQuoting& q, const TableRef& table) {
  return q.ident(table.ns) + "." + q.ident(table.table);
}

}  // namespace

void define_incremental_snapshot_keys(ConfigDef& def) {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  def.define(std::string(kSignalDataCollectionConfig), T::kString, "", I::kMedium,
             "The signal table, as '<ns>.<table>' (columns id VARCHAR(42) PRIMARY KEY, type "
             "VARCHAR(32) NOT NULL, data TEXT): rows inserted into it are signals "
             "(execute-snapshot, stop-snapshot, pause-snapshot, resume-snapshot, log), read from "
             "the change stream; the connector writes its snapshot watermarks there too. Empty: "
             "no signals, no incremental snapshots.");
  def.define(std::string(kIncrementalChunkSizeConfig), T::kInt, "1024", I::kMedium,
             "Rows per chunk of an incremental snapshot (read in primary key order between two "
             "watermarks).",
             validators::between(1, 1000000));
  def.define(std::string(kNotificationChannelsConfig), T::kList, "", I::kLow,
             "Where Debezium's notifications go (comma-separated): 'sink' sends them as records "
             "to notification.sink.topic.name, 'log' (always on) logs them. Incremental "
             "snapshots notify when a table's scan completed (status SUCCEEDED, EMPTY, "
             "NO_PRIMARY_KEY, UNKNOWN_SCHEMA, SKIPPED, SQL_EXCEPTION).");
  def.define(std::string(kNotificationTopicConfig), T::kString, "", I::kLow,
             "The topic of the 'sink' notification channel.");
}

Result<TableRef> parse_table_id(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size()) {
    return Error::fatal(ErrorCode::kInvalidConfig,
                        "'" + std::string(text) + "' is not a table name of the form <ns>.<table>");
  }
  return TableRef{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
}

Result<IncrementalSnapshotConfig> parse_incremental_snapshot_config(const KeyValue& parsed) {
  IncrementalSnapshotConfig out;
  const std::string signal = parsed.get_string(kSignalDataCollectionConfig);
  if (!signal.empty()) {
    auto table = parse_table_id(signal);
    if (!table.ok()) {
      return Error::fatal(ErrorCode::kInvalidConfig, std::string(kSignalDataCollectionConfig) +
                                                         ": " + table.error().message());
    }
    out.signal_table = std::move(table).value();
  }
  out.chunk_size = static_cast<std::size_t>(
      std::max<std::int32_t>(1, parsed.get_int(kIncrementalChunkSizeConfig, 1024)));
  bool sink = false;
  const std::string channels = parsed.get_string(kNotificationChannelsConfig);
  for (std::size_t start = 0; start <= channels.size();) {
    std::size_t end = channels.find(',', start);
    if (end == std::string::npos) end = channels.size();
    std::string channel = channels.substr(start, end - start);
    start = end + 1;
    while (!channel.empty() && channel.front() == ' ') channel.erase(0, 1);
    while (!channel.empty() && channel.back() == ' ') channel.pop_back();
    if (channel.empty()) continue;
    const std::string c = lower(channel);
    if (c == "sink") {
      sink = true;
    } else if (c != "log" && c != "jmx") {
      return Error::fatal(ErrorCode::kInvalidConfig, std::string(kNotificationChannelsConfig) +
                                                         ": unknown channel '" + channel +
                                                         "' (sink, log)");
    }
  }
  if (sink) {
    out.notification_topic = parsed.get_string(kNotificationTopicConfig);
    if (out.notification_topic.empty()) {
      return Error::fatal(ErrorCode::kInvalidConfig, std::string(kNotificationChannelsConfig) +
                                                         "=sink needs " +
                                                         std::string(kNotificationTopicConfig));
    }
  }
  return out;
}

Result<Signal> parse_signal(std::string_view id, std::string_view type, std::string_view data) {
  Signal s;
  s.id = std::string(id);
  s.type = std::string(type);
  const std::string kind = lower(type);
  if (kind == kWindowOpenSignal) {
    s.kind = SignalKind::kWindowOpen;
    return s;
  }
  if (kind == kWindowCloseSignal) {
    s.kind = SignalKind::kWindowClose;
    return s;
  }
  auto bad = [&](const std::string& why) -> Error {
    return Error::fatal(ErrorCode::kParseError, "signal '" + s.id + "' (" + s.type + "): " + why);
  };
  json j = json::object();
  if (!data.empty()) {
    j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return bad("its data is not JSON: " + std::string(data.substr(0, 200)));
    if (j.is_null()) j = json::object();
    if (!j.is_object()) return bad("its data is not a JSON object");
  }
  if (kind == "execute-snapshot" || kind == "stop-snapshot") {
    s.kind = kind == "execute-snapshot" ? SignalKind::kExecuteSnapshot : SignalKind::kStopSnapshot;
    if (auto t = j.find("type"); t != j.end()) {
      if (!t->is_string()) return bad("\"type\" is not a string");
      if (lower(t->get<std::string>()) != "incremental") {
        return bad("snapshot type '" + t->get<std::string>() +
                   "' is not supported (only \"incremental\")");
      }
    }
    std::string common_condition;
    if (auto c = j.find("additional-condition"); c != j.end() && c->is_string()) {
      common_condition = c->get<std::string>();
    }
    std::string surrogate_key;
    if (auto k = j.find("surrogate-key"); k != j.end() && !k->is_null()) {
      if (!k->is_string()) return bad("\"surrogate-key\" is not a string");
      surrogate_key = k->get<std::string>();
    }
    auto collections = j.find("data-collections");
    if (collections != j.end() && !collections->is_null()) {
      if (!collections->is_array()) return bad("\"data-collections\" is not an array");
      for (const auto& c : *collections) {
        if (!c.is_string()) return bad("\"data-collections\" holds a non-string");
        auto table = parse_table_id(c.get<std::string>());
        if (!table.ok()) return bad(table.error().message());
        s.collections.push_back(
            SnapshotRequest{std::move(table).value(), common_condition, surrogate_key});
      }
    }
    if (s.kind == SignalKind::kExecuteSnapshot && s.collections.empty()) {
      return bad("\"data-collections\" names no table");
    }
    if (auto conds = j.find("additional-conditions"); conds != j.end() && !conds->is_null()) {
      if (!conds->is_array()) return bad("\"additional-conditions\" is not an array");
      for (const auto& c : *conds) {
        if (!c.is_object() || !c.contains("data-collection") || !c.contains("filter") ||
            !c["data-collection"].is_string() || !c["filter"].is_string()) {
          return bad(
              "each \"additional-conditions\" entry needs \"data-collection\" and \"filter\" "
              "strings");
        }
        auto table = parse_table_id(c["data-collection"].get<std::string>());
        if (!table.ok()) return bad(table.error().message());
        bool found = false;
        for (auto& r : s.collections) {
          if (r.table == table.value()) {
            r.condition = c["filter"].get<std::string>();
            found = true;
          }
        }
        if (!found) {
          return bad("an additional condition names " + table.value().qualified() +
                     ", which is not in \"data-collections\"");
        }
      }
    }
    return s;
  }
  if (kind == "pause-snapshot") {
    s.kind = SignalKind::kPauseSnapshot;
  } else if (kind == "resume-snapshot") {
    s.kind = SignalKind::kResumeSnapshot;
  } else if (kind == "log") {
    s.kind = SignalKind::kLog;
    if (auto m = j.find("message"); m != j.end() && m->is_string()) s.message = *m;
  } else {
    s.kind = SignalKind::kUnknown;
  }
  return s;
}

std::string max_key_sql(const SqlQuoting& q, const TableRef& table,
                        const std::vector<std::string>& keys, const std::string& condition) {
  std::string cols;
  std::string order;
  for (const auto& k : keys) {
    cols += (cols.empty() ? "" : ", ") + q.ident(k);
    order += (order.empty() ? "" : ", ") + q.ident(k) + " DESC";
  }
  return "SELECT " + cols + " FROM " + table_sql(q, table) +
         (condition.empty() ? "" : " WHERE (" + condition + ")") + " ORDER BY " + order +
         " LIMIT 1";
}

std::string chunk_sql(const SqlQuoting& q, const std::string& select_list, const TableRef& table,
                      const std::vector<std::string>& keys, const std::string& condition,
                      const std::optional<KeyText>& after, const KeyText& max, std::size_t limit) {
  std::vector<std::string> idents;
  for (const auto& k : keys) idents.push_back(q.ident(k));
  auto literals = [&](const KeyText& key) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < key.size(); ++i) out.push_back(q.literal(i, key[i]));
    return key_tuple(out);
  };
  const std::string key = key_tuple(idents);
  std::string where = key + " <= " + literals(max);
  if (after) where = key + " > " + literals(*after) + " AND " + where;
  if (!condition.empty()) where += " AND (" + condition + ")";
  std::string order;
  for (const auto& i : idents) order += (order.empty() ? "" : ", ") + i;
  return "SELECT " + select_list + " FROM " + table_sql(q, table) + " WHERE " + where +
         " ORDER BY " + order + " LIMIT " + std::to_string(limit);
}

// --- the snapshot ---------------------------------------------------------------------------

IncrementalSnapshot::IncrementalSnapshot(IncrementalSnapshotConfig config, std::string prefix)
    : config_(std::move(config)), prefix_(std::move(prefix)) {}

void IncrementalSnapshot::restore(const RecordOffset& offset) {
  last_position_ = offset;
  const Value* v = offset.find(kIncrementalCollectionsField);
  if (v == nullptr || v->get_if<std::string>() == nullptr) return;
  json j = json::parse(v->as_string(), nullptr, false);
  if (!j.is_array()) {
    logger().warn("the committed incremental snapshot state is unreadable; it is dropped");
    return;
  }
  tables_.clear();
  collections_json_.clear();
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string()) continue;
    auto table = parse_table_id(e["id"].get<std::string>());
    if (!table.ok()) continue;
    TableProgress t;
    t.request.table = std::move(table).value();
    if (e.contains("condition") && e["condition"].is_string()) {
      t.request.condition = e["condition"].get<std::string>();
    }
    if (e.contains("surrogate_key") && e["surrogate_key"].is_string()) {
      t.request.surrogate_key = e["surrogate_key"].get<std::string>();
    }
    tables_.push_back(std::move(t));
    collections_json_.clear();
  }
  if (!tables_.empty()) {
    tables_.front().last_key = key_from(offset, kIncrementalKeyField);
    tables_.front().max_key = key_from(offset, kIncrementalMaxKeyField);
  }
  if (const Value* p = offset.find(kIncrementalPausedField); p != nullptr) {
    if (const auto* b = p->get_if<bool>()) paused_ = *b;
  }
  if (!tables_.empty()) {
    logger().info(
        "resuming the incremental snapshot of ", tables_.front().request.table.qualified(),
        tables_.size() > 1 ? " (and " + std::to_string(tables_.size() - 1) + " more)" : "",
        paused_ ? ", paused" : "");
  }
}

const std::string& IncrementalSnapshot::progress_collections() const {
  // Cached: it changes only with the queue, and every record of a running snapshot carries it.
  if (!collections_json_.empty()) return collections_json_;
  json out = json::array();
  for (const auto& t : tables_) {
    json e{{"id", t.request.table.qualified()}};
    if (!t.request.condition.empty()) e["condition"] = t.request.condition;
    if (!t.request.surrogate_key.empty()) e["surrogate_key"] = t.request.surrogate_key;
    out.push_back(std::move(e));
  }
  collections_json_ = out.dump();
  return collections_json_;
}

void IncrementalSnapshot::add_progress(RecordOffset& offset) const {
  if (tables_.empty()) return;
  RecordOffset::Map m = offset.offset();
  m.insert_or_assign(std::string(kIncrementalCollectionsField), Value(progress_collections()));
  const auto& front = tables_.front();
  if (front.last_key) {
    m.insert_or_assign(std::string(kIncrementalKeyField), Value(key_json(*front.last_key).dump()));
  }
  if (front.max_key) {
    m.insert_or_assign(std::string(kIncrementalMaxKeyField),
                       Value(key_json(*front.max_key).dump()));
  }
  if (paused_) m.insert_or_assign(std::string(kIncrementalPausedField), Value(true));
  offset = RecordOffset(std::move(m));
}

namespace {
// The value of column in the envelope's row image ("before" or "after") as text; nullopt when
// the record has no such image or column.
std::optional<std::string> image_column(const ConnectRecord& record, std::string_view image,
                                        const std::string& column) {
  if (record.value.kind() != Value::Kind::kStruct) return std::nullopt;
  const Struct& e = record.value.as_struct();
  const Field* f = e.schema()->field(image);
  if (f == nullptr) return std::nullopt;
  const Value& row = e.get(*f);
  if (row.is_null()) return std::nullopt;
  const Struct& r = row.as_struct();
  const Field* c = r.schema()->field(column);
  if (c == nullptr) return std::nullopt;
  return r.get(*c).to_string();
}
}  // namespace

void IncrementalSnapshot::observe(ConnectRecord& record) {
  if (tables_.empty()) return;
  if (window_open_ && record.topic() == window_topic_) {
    auto drop = [&](const std::optional<std::string>& key) {
      if (!key) return;
      if (auto it = chunk_index_.find(*key); it != chunk_index_.end()) dropped_[it->second] = true;
    };
    if (!window_column_.empty()) {
      // Chunk rows are known by the surrogate key: a change of either image's value replaces it.
      drop(image_column(record, "before", window_column_));
      drop(image_column(record, "after", window_column_));
    } else if (!record.key.is_null()) {
      drop(record.key.to_string());
    }
  }
  add_progress(record.position.offset);
}

void IncrementalSnapshot::drop_window() {
  window_id_.clear();
  window_open_ = false;
  window_topic_.clear();
  window_column_.clear();
  chunk_.clear();
  chunk_index_.clear();
  dropped_.clear();
  chunk_last_ = false;
  next_due_ = false;
}

Result<void> IncrementalSnapshot::on_stream_start(SnapshotSource& source) {
  drop_window();
  if (tables_.empty() || paused_) return ok_result();
  return open_window(source);
}

Result<bool> IncrementalSnapshot::prepare_table(SnapshotSource& source, TableProgress& t) {
  const std::string name = t.request.table.qualified();
  auto keys = source.key_columns(t.request.table);
  if (!keys.ok()) {
    if (keys.error().is_retriable()) return keys.error();
    const auto code = keys.error().code();
    notify_scan_completed(
        t.request.table,
        code == ErrorCode::kNotFound        ? "UNKNOWN_SCHEMA"
        : code == ErrorCode::kInvalidConfig ? "SKIPPED"
                                            : "SQL_EXCEPTION",
        "incremental snapshot of " + name + " skipped: " + keys.error().message());
    return false;
  }
  if (!t.request.surrogate_key.empty()) {
    keys = std::vector<std::string>{t.request.surrogate_key};
  } else if (keys.value().empty()) {
    notify_scan_completed(t.request.table, "NO_PRIMARY_KEY",
                          "incremental snapshot of " + name +
                              " rejected: the table has no primary key (chunks are read in key "
                              "order); add one, or name a unique column as \"surrogate-key\" in "
                              "the execute-snapshot signal's data");
    return false;
  }
  t.key_columns = std::move(keys).value();
  if (!t.max_key) {
    auto max = source.max_key(t.request.table, t.key_columns, t.request.condition);
    if (!max.ok()) {
      if (max.error().is_retriable()) return max.error();
      notify_scan_completed(
          t.request.table, "SQL_EXCEPTION",
          "incremental snapshot of " + name + " skipped: " + max.error().message());
      return false;
    }
    t.max_key = std::move(max).value();
    if (!t.max_key) {
      notify_scan_completed(t.request.table, "EMPTY",
                            "incremental snapshot of " + name + ": no rows");
      return false;
    }
  } else if (t.max_key->size() != t.key_columns.size()) {
    notify_scan_completed(
        t.request.table, "SKIPPED",
        "incremental snapshot of " + name + " skipped: its key changed since the snapshot started");
    return false;
  }
  t.started = true;
  logger().info("incremental snapshot of ", name, " up to key ", key_json(*t.max_key).dump(),
                t.last_key ? " from after " + key_json(*t.last_key).dump() : "");
  return true;
}

Result<void> IncrementalSnapshot::open_window(SnapshotSource& source) {
  drop_window();
  while (!tables_.empty() && !paused_) {
    TableProgress& t = tables_.front();
    if (!t.started) {
      RMQC_ASSIGN_OR_RETURN(bool ready, prepare_table(source, t));
      if (!ready) {
        tables_.pop_front();
        collections_json_.clear();
        continue;
      }
    }
    if (t.last_key && t.last_key == t.max_key) {
      notify_scan_completed(t.request.table, "SUCCEEDED",
                            "incremental snapshot of " + t.request.table.qualified() + " done");
      tables_.pop_front();
      collections_json_.clear();
      continue;
    }
    const std::string id = random_uuid();
    const std::string data = "{\"openWindowTimestamp\": " + std::to_string(now_ms()) + "}";
    RMQC_RETURN_IF_ERROR(source.write_signal(id + "-open", kWindowOpenSignal, data));
    window_id_ = id;
    window_topic_ = table_topic(prefix_, t.request.table);
    RMQC_ASSIGN_OR_RETURN(
        chunk_, source.read_chunk(t.request.table, t.key_columns, t.request.condition, t.last_key,
                                  *t.max_key, config_.chunk_size));
    ++chunks_read_;
    chunk_last_ =
        chunk_.size() < config_.chunk_size || (!chunk_.empty() && chunk_.back().key == *t.max_key);
    dropped_.assign(chunk_.size(), false);
    chunk_index_.reserve(chunk_.size());
    window_column_ = t.request.surrogate_key;
    for (std::size_t i = 0; i < chunk_.size(); ++i) {
      if (window_column_.empty()) {
        chunk_index_.emplace(chunk_[i].record.key.to_string(), i);
      } else if (auto key = image_column(chunk_[i].record, "after", window_column_)) {
        chunk_index_.emplace(std::move(*key), i);
      }
    }
    const std::string close = "{\"closeWindowTimestamp\": " + std::to_string(now_ms()) + "}";
    RMQC_RETURN_IF_ERROR(source.write_signal(id + "-close", kWindowCloseSignal, close));
    return ok_result();
  }
  return ok_result();
}

Result<std::vector<ConnectRecord>> IncrementalSnapshot::on_signal(SnapshotSource& source,
                                                                  const Signal& signal,
                                                                  const RecordOffset& position) {
  (void)source;
  last_position_ = position;
  std::vector<ConnectRecord> out;
  switch (signal.kind) {
    case SignalKind::kWindowOpen:
      if (!window_id_.empty() && signal.id == window_id_ + "-open") window_open_ = true;
      return out;
    case SignalKind::kWindowClose: {
      if (window_id_.empty() || !window_open_ || signal.id != window_id_ + "-close") return out;
      // The high watermark: what the stream did not replace is emitted as reads, in key order.
      TableProgress& t = tables_.front();
      out.reserve(chunk_.size());
      for (std::size_t i = 0; i < chunk_.size(); ++i) {
        if (dropped_[i]) continue;
        // Each read carries its own key as the progress: a restart after it resumes after it.
        t.last_key = chunk_[i].key;
        ConnectRecord r = std::move(chunk_[i].record);
        r.position.offset = position;
        add_progress(r.position.offset);
        out.push_back(std::move(r));
      }
      rows_emitted_ += static_cast<std::int64_t>(out.size());
      if (!chunk_.empty()) t.last_key = chunk_.back().key;
      const bool table_done = chunk_last_;
      drop_window();
      if (table_done) {
        notify_scan_completed(t.request.table, "SUCCEEDED",
                              "incremental snapshot of " + t.request.table.qualified() + " done");
        tables_.pop_front();
        collections_json_.clear();
        if (tables_.empty()) logger().info("incremental snapshot complete");
      }
      next_due_ = !tables_.empty() && !paused_;
      return out;
    }
    case SignalKind::kExecuteSnapshot: {
      std::string names;
      for (const auto& c : signal.collections) {
        const bool queued =
            std::any_of(tables_.begin(), tables_.end(),
                        [&](const TableProgress& t) { return t.request.table == c.table; });
        if (queued) continue;
        TableProgress t;
        t.request = c;
        tables_.push_back(std::move(t));
        collections_json_.clear();
        names += (names.empty() ? "" : ", ") + c.table.qualified();
      }
      logger().info("signal ", signal.id, ": incremental snapshot of ",
                    names.empty() ? "(tables already queued)" : names);
      // A window in flight goes on; otherwise the first chunk starts now.
      next_due_ = window_id_.empty() && !paused_ && !tables_.empty();
      return out;
    }
    case SignalKind::kStopSnapshot: {
      if (signal.collections.empty()) {
        logger().info("signal ", signal.id, ": incremental snapshot stopped");
        tables_.clear();
        collections_json_.clear();
      } else {
        for (const auto& c : signal.collections) {
          const bool current = !tables_.empty() && tables_.front().request.table == c.table;
          if (current) drop_window();
          collections_json_.clear();
          std::erase_if(tables_,
                        [&](const TableProgress& t) { return t.request.table == c.table; });
          logger().info("signal ", signal.id, ": incremental snapshot of ", c.table.qualified(),
                        " stopped");
        }
      }
      if (tables_.empty()) {
        drop_window();
      } else if (window_id_.empty()) {
        next_due_ = !paused_;
      }
      return out;
    }
    case SignalKind::kPauseSnapshot:
      logger().info("signal ", signal.id, ": incremental snapshot paused");
      paused_ = true;
      return out;
    case SignalKind::kResumeSnapshot:
      logger().info("signal ", signal.id, ": incremental snapshot resumed");
      paused_ = false;
      next_due_ = window_id_.empty() && !tables_.empty();
      return out;
    case SignalKind::kLog:
      logger().info("signal ", signal.id, ": ", signal.message);
      return out;
    case SignalKind::kUnknown:
      logger().warn("signal ", signal.id, ": unknown type '", signal.type, "' ignored");
      return out;
  }
  return out;
}

void IncrementalSnapshot::notify_scan_completed(const TableRef& table, std::string_view status,
                                                const std::string& message) {
  if (status == "SUCCEEDED" || status == "EMPTY") {
    logger().info(message);
  } else {
    logger().error(message, " (", status, ")");
  }
  if (config_.notification_topic.empty()) return;
  // Debezium's notification records (SinkNotificationChannel).
  static const SchemaPtr key_schema = SchemaBuilder::struct_()
                                          .name("io.debezium.notification.Key")
                                          .field("id", SchemaBuilder::string().build())
                                          .build();
  static const SchemaPtr value_schema =
      SchemaBuilder::struct_()
          .name("io.debezium.notification.Notification")
          .field("id", SchemaBuilder::string().build())
          .field("aggregate_type", SchemaBuilder::string().build())
          .field("type", SchemaBuilder::string().build())
          .field("additional_data", SchemaBuilder::map(SchemaBuilder::string().build(),
                                                       SchemaBuilder::string().build())
                                        .optional()
                                        .build())
          .field("timestamp", SchemaBuilder::int64().optional().build())
          .build();
  const std::string id = random_uuid();
  Struct key(key_schema);
  key.put("id", id);
  Struct value(value_schema);
  value.put("id", id)
      .put("aggregate_type", std::string("Incremental Snapshot"))
      .put("type", std::string("TABLE_SCAN_COMPLETED"))
      .put("additional_data",
           Value(ValueMap{{Value(std::string("connector_name")), Value(prefix_)},
                          {Value(std::string("data_collection")), Value(table.qualified())},
                          {Value(std::string("status")), Value(std::string(status))},
                          {Value(std::string("message")), Value(message)}}))
      .put("timestamp", now_ms());
  ConnectRecord record(RecordPartition{}, last_position_, now_ms(), key_schema,
                       Value(std::move(key)), value_schema, Value(std::move(value)));
  record.set_topic(config_.notification_topic);
  notifications_.push_back(std::move(record));
}

std::vector<ConnectRecord> IncrementalSnapshot::take_notifications() {
  std::vector<ConnectRecord> out;
  out.swap(notifications_);
  // Offsets carry the progress as every record's does while a snapshot runs.
  for (auto& r : out) {
    r.position.offset = last_position_;
    add_progress(r.position.offset);
  }
  return out;
}

Result<void> IncrementalSnapshot::after_emit(SnapshotSource& source) {
  if (!next_due_) return ok_result();
  next_due_ = false;
  return open_window(source);
}

}  // namespace rmqc::connectors::cdc
