#include "cdc/common/envelope.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logical.h"

#include "cdc/common/debezium_types.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace rmqc::connectors::cdc {

namespace {
constexpr std::size_t kMaxTopicLength = 127;
constexpr std::string_view kSnapshotAllowed =
    "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

bool topic_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '%' || c == '|';
}

SchemaBuilder common_source_fields(std::string_view name) {
  auto b = SchemaBuilder::struct_();
  b.name(std::string(name))
      .field("version", SchemaBuilder::string().build())
      .field("connector", SchemaBuilder::string().build())
      .field("name", SchemaBuilder::string().build())
      .field("ts_ms", SchemaBuilder::int64().build())
      .field("snapshot", types::enum_(std::string(kSnapshotAllowed))
                             .optional()
                             .default_value(Value(std::string("false")))
                             .build())
      .field("db", SchemaBuilder::string().build())
      .field("sequence", SchemaBuilder::string().optional().build());
  return b;
}

SchemaPtr transaction_schema() {
  static const SchemaPtr schema =
      SchemaBuilder::struct_()
          .name("event.block")
          .version(1)
          .optional()
          .field("id", SchemaBuilder::string().build())
          .field("total_order", SchemaBuilder::int64().build())
          .field("data_collection_order", SchemaBuilder::int64().build())
          .build();
  return schema;
}

std::string schema_name(std::string_view prefix, const TableRef& t, std::string_view suffix) {
  std::string out(prefix);
  out += '.';
  out += t.ns;
  out += '.';
  out += t.table;
  out += '.';
  out += suffix;
  return out;
}
}  // namespace

std::string rocketmq_topic_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out += topic_char_ok(c) ? c : '_';
  if (out.size() > kMaxTopicLength) out.resize(kMaxTopicLength);
  return out;
}

std::string table_topic(std::string_view prefix, const TableRef& table) {
  std::string name(prefix);
  name += '.';
  name += table.ns;
  name += '.';
  name += table.table;
  return rocketmq_topic_name(name);
}

std::string heartbeat_topic(std::string_view prefix) {
  return rocketmq_topic_name("__debezium-heartbeat." + std::string(prefix));
}

const SchemaPtr& mysql_source_schema() {
  static const SchemaPtr schema = [] {
    auto b = common_source_fields("io.debezium.connector.mysql.Source");
    b.field("table", SchemaBuilder::string().optional().build())
        .field("server_id", SchemaBuilder::int64().build())
        .field("gtid", SchemaBuilder::string().optional().build())
        .field("file", SchemaBuilder::string().build())
        .field("pos", SchemaBuilder::int64().build())
        .field("row", SchemaBuilder::int32().build())
        .field("thread", SchemaBuilder::int64().optional().build())
        .field("query", SchemaBuilder::string().optional().build());
    return b.build();
  }();
  return schema;
}

const SchemaPtr& postgres_source_schema() {
  static const SchemaPtr schema = [] {
    auto b = common_source_fields("io.debezium.connector.postgresql.Source");
    b.field("schema", SchemaBuilder::string().build())
        .field("table", SchemaBuilder::string().build())
        .field("txId", SchemaBuilder::int64().optional().build())
        .field("lsn", SchemaBuilder::int64().optional().build())
        .field("xmin", SchemaBuilder::int64().optional().build());
    return b.build();
  }();
  return schema;
}

namespace {
// The source fields in one order; a layout maps each to its slot in a source schema (-1: the
// schema has no such field). Built once per schema: no lookups by name per event.
enum SourceField : int {
  kVersion,
  kConnector,
  kName,
  kTsMs,
  kSnapshot,
  kDb,
  kSequence,
  kSchema,
  kTable,
  kServerId,
  kGtid,
  kFile,
  kPos,
  kRow,
  kThread,
  kQuery,
  kTxId,
  kLsn,
  kXmin,
  kSourceFieldCount
};
constexpr std::array<std::string_view, kSourceFieldCount> kSourceFieldNames = {
    "version", "connector", "name",      "ts_ms", "snapshot", "db",  "sequence",
    "schema",  "table",     "server_id", "gtid",  "file",     "pos", "row",
    "thread",  "query",     "txId",      "lsn",   "xmin"};

using SourceLayout = std::array<int, kSourceFieldCount>;

SourceLayout layout_of(const Schema& schema) {
  SourceLayout layout;
  for (int i = 0; i < kSourceFieldCount; ++i) {
    const Field* f = schema.field(kSourceFieldNames[static_cast<std::size_t>(i)]);
    layout[static_cast<std::size_t>(i)] = f == nullptr ? -1 : f->index;
  }
  return layout;
}

const SourceLayout& cached_layout(const SchemaPtr& schema, SourceLayout& scratch) {
  static const SourceLayout mysql = layout_of(*mysql_source_schema());
  static const SourceLayout postgres = layout_of(*postgres_source_schema());
  if (schema == mysql_source_schema()) return mysql;
  if (schema == postgres_source_schema()) return postgres;
  scratch = layout_of(*schema);
  return scratch;
}
}  // namespace

namespace {
// The source block of info; with kMove its strings are moved into the block (change_record owns
// its event) instead of copied.
template <bool kMove>
Struct make_source(const SchemaPtr& source_schema,
                   std::conditional_t<kMove, SourceInfo&, const SourceInfo&> info) {
  SourceLayout scratch;
  const SourceLayout& layout = cached_layout(source_schema, scratch);
  Struct s(source_schema);
  auto& slots = s.values();
  auto set = [&](SourceField field, auto&& make) {
    const int slot = layout[static_cast<std::size_t>(field)];
    if (slot >= 0) slots[static_cast<std::size_t>(slot)] = make();
  };
  auto text = [&](auto& field) {
    if constexpr (kMove) {
      return Value(std::move(field));
    } else {
      return Value(field);
    }
  };
  auto set_opt = [&](SourceField field, auto& opt) {
    if (opt) set(field, [&] { return text(*opt); });
  };
  set(kVersion, [] { return Value(std::string(kConnectorVersion)); });
  set(kConnector, [&] { return text(info.connector); });
  set(kName, [&] { return text(info.name); });
  set(kTsMs, [&] { return Value(info.ts_ms); });
  set(kSnapshot, [&] { return text(info.snapshot); });
  set(kDb, [&] { return text(info.db); });
  set_opt(kSequence, info.sequence);
  set(kSchema, [&] { return text(info.schema); });
  set(kTable, [&] { return text(info.table); });
  set(kServerId, [&] { return Value(info.server_id); });
  set_opt(kGtid, info.gtid);
  set(kFile, [&] { return text(info.file); });
  set(kPos, [&] { return Value(info.pos); });
  set(kRow, [&] { return Value(info.row); });
  set_opt(kThread, info.thread);
  set_opt(kQuery, info.query);
  set_opt(kTxId, info.tx_id);
  set_opt(kLsn, info.lsn);
  set_opt(kXmin, info.xmin);
  return s;
}
}  // namespace

Struct source_struct(const SchemaPtr& source_schema, const SourceInfo& info) {
  return make_source<false>(source_schema, info);
}

namespace {
// A column's schema made optional: a message key column outside the primary key may be absent
// from a delete's old row image (PostgreSQL's REPLICA IDENTITY DEFAULT, MySQL's MINIMAL row
// image), and a required key field left null would fail the record's conversion.
SchemaPtr optional_schema(const SchemaPtr& in) {
  if (in->optional()) return in;
  SchemaBuilder b = in->type() == FieldType::kArray ? SchemaBuilder::array(in->value_schema())
                    : in->type() == FieldType::kMap
                        ? SchemaBuilder::map(in->key_schema(), in->value_schema())
                        : SchemaBuilder(in->type());
  if (!in->name().empty()) b.name(in->name());
  if (in->version()) b.version(*in->version());
  if (!in->parameters().empty()) b.parameters(in->parameters());
  for (const auto& f : in->fields()) b.field(f.name, f.schema);
  return b.optional().build();
}
}  // namespace

TableSchema::TableSchema(std::string_view prefix, TableRef id, std::vector<ColumnSchema> columns,
                         const std::vector<std::string>& key_columns, SchemaPtr source_schema,
                         const std::vector<std::string>& message_key_columns)
    : id_(std::move(id)),
      topic_(table_topic(prefix, id_)),
      columns_(std::move(columns)),
      source_schema_(std::move(source_schema)) {
  auto row = SchemaBuilder::struct_();
  row.name(schema_name(prefix, id_, "Value")).optional();
  for (const auto& c : columns_) row.field(c.name, c.schema);
  row_schema_ = row.build();

  for (const auto& k : key_columns) {
    const Field* f = row_schema_->field(k);
    if (f != nullptr) primary_key_positions_.push_back(f->index);  // else filtered out
  }
  const auto& record_key = message_key_columns.empty() ? key_columns : message_key_columns;
  if (!record_key.empty()) {
    auto key = SchemaBuilder::struct_();
    key.name(schema_name(prefix, id_, "Key"));
    for (const auto& k : record_key) {
      const Field* f = row_schema_->field(k);
      if (f == nullptr) continue;  // a key column filtered out of the captured columns
      key_positions_.push_back(f->index);
      const bool in_primary_key =
          std::find(primary_key_positions_.begin(), primary_key_positions_.end(), f->index) !=
          primary_key_positions_.end();
      key.field(k, in_primary_key ? f->schema : optional_schema(f->schema));
    }
    if (!key_positions_.empty()) key_schema_ = key.build();
  }

  envelope_schema_ = SchemaBuilder::struct_()
                         .name(schema_name(prefix, id_, "Envelope"))
                         .version(1)
                         .field("before", row_schema_)
                         .field("after", row_schema_)
                         .field("source", source_schema_)
                         .field("op", SchemaBuilder::string().build())
                         .field("ts_ms", SchemaBuilder::int64().optional().build())
                         .field("transaction", transaction_schema())
                         .build();
}

Value TableSchema::key_of(const Struct& row) const {
  if (!key_schema_) return Value();
  Struct key(key_schema_);
  for (std::size_t i = 0; i < key_positions_.size(); ++i) {
    key.values()[i] = row.values()[static_cast<std::size_t>(key_positions_[i])];
  }
  return Value(std::move(key));
}

Value zero_value(const SchemaPtr& schema) {
  if (const Value* d = schema->default_value()) return *d;
  switch (schema->type()) {
    case FieldType::kInt8:
      return Value(std::int8_t{0});
    case FieldType::kInt16:
      return Value(std::int16_t{0});
    case FieldType::kInt32:
      return Value(std::int32_t{0});
    case FieldType::kInt64:
      return Value(std::int64_t{0});
    case FieldType::kFloat32:
      return Value(0.0f);
    case FieldType::kFloat64:
      return Value(0.0);
    case FieldType::kBoolean:
      return Value(false);
    case FieldType::kString:
      return Value(std::string());
    case FieldType::kBytes:
      if (logical::logical_type_of(*schema) == logical::LogicalType::kDecimal) {
        return Value(Decimal::from_unscaled(0, logical::decimal_scale(*schema)));
      }
      return Value(Bytes{});
    case FieldType::kArray:
      return Value(ValueList{});
    case FieldType::kMap:
      return Value(ValueMap{});
    case FieldType::kStruct: {
      Struct s(schema);
      fill_required_fields(s);
      return Value(std::move(s));
    }
  }
  return Value();
}

void fill_required_fields(Struct& row) {
  const auto& fields = row.schema()->fields();
  auto& slots = row.values();
  for (std::size_t i = 0; i < fields.size() && i < slots.size(); ++i) {
    if (slots[i].is_null() && !fields[i].schema->optional()) {
      slots[i] = zero_value(fields[i].schema);
    }
  }
}

ConnectRecord change_record(const TableSchema& table, ChangeEvent event, RecordPartition partition,
                            RecordOffset offset) {
  Value key;
  if (event.after) {
    key = table.key_of(*event.after);
  } else if (event.before) {
    key = table.key_of(*event.before);
  }
  const auto& schema = table.envelope_schema();
  Struct envelope(schema);
  auto& slots = envelope.values();
  if (event.before) {
    fill_required_fields(*event.before);
    slots[0] = Value(std::move(*event.before));
  }
  if (event.after) slots[1] = Value(std::move(*event.after));
  const std::int64_t record_ts = event.source.ts_ms != 0 ? event.source.ts_ms : event.ts_ms;
  slots[2] = Value(make_source<true>(table.source_schema(), event.source));
  slots[3] = Value(std::string(1, static_cast<char>(event.op)));
  slots[4] = Value(event.ts_ms);
  // A truncate concerns no row: Debezium sends it without a key.
  ConnectRecord record(std::move(partition), std::move(offset), record_ts,
                       event.op == Op::kTruncate ? nullptr : table.key_schema(), std::move(key),
                       schema, Value(std::move(envelope)));
  record.set_topic(table.topic());
  return record;
}

ConnectRecord tombstone_for(const ConnectRecord& delete_record) {
  ConnectRecord t(delete_record.position.partition, delete_record.position.offset,
                  delete_record.timestamp, delete_record.key_schema, delete_record.key, nullptr,
                  Value());
  t.extensions = delete_record.extensions;
  return t;
}

ConnectRecord heartbeat_record(std::string_view prefix, std::int64_t ts_ms,
                               RecordPartition partition, RecordOffset offset) {
  static const SchemaPtr key_schema = SchemaBuilder::struct_()
                                          .name("io.debezium.connector.common.ServerNameKey")
                                          .field("serverName", SchemaBuilder::string().build())
                                          .build();
  static const SchemaPtr value_schema = SchemaBuilder::struct_()
                                            .name("io.debezium.connector.common.Heartbeat")
                                            .field("ts_ms", SchemaBuilder::int64().build())
                                            .build();
  Struct key(key_schema);
  key.put("serverName", Value(std::string(prefix)));
  Struct value(value_schema);
  value.put("ts_ms", Value(ts_ms));
  ConnectRecord record(std::move(partition), std::move(offset), ts_ms, key_schema,
                       Value(std::move(key)), value_schema, Value(std::move(value)));
  record.set_topic(heartbeat_topic(prefix));
  return record;
}

namespace {
const SchemaPtr& undecodable_schema() {
  static const SchemaPtr schema =
      SchemaBuilder::bytes().name("io.rmqc.cdc.UndecodableEvent").optional().build();
  return schema;
}
constexpr std::string_view kUndecodableErrorExtension = "cdc.error";
}  // namespace

ConnectRecord undecodable_record(RecordPartition partition, RecordOffset offset, std::string topic,
                                 std::string_view raw, std::string error) {
  ConnectRecord record(std::move(partition), std::move(offset), std::nullopt, undecodable_schema(),
                       Value(Bytes(raw.begin(), raw.end())));
  record.set_topic(std::move(topic));
  record.add_extension(std::string(kUndecodableErrorExtension), std::move(error));
  return record;
}

const std::string* undecodable_error(const ConnectRecord& record) {
  if (record.value_schema != undecodable_schema()) return nullptr;
  return record.extension(kUndecodableErrorExtension);
}

namespace {
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}
void append_raw_columns(std::string& out, const std::vector<RawColumn>* columns) {
  if (columns == nullptr) {
    out.append("null");
    return;
  }
  out.push_back('{');
  for (std::size_t i = 0; i < columns->size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_string(out, (*columns)[i].name);
    out.push_back(':');
    if ((*columns)[i].text) {
      append_json_string(out, *(*columns)[i].text);
    } else {
      out.append("null");
    }
  }
  out.push_back('}');
}
}  // namespace

std::string raw_row_json(Op op, const std::vector<RawColumn>* before,
                         const std::vector<RawColumn>* after) {
  std::string out = "{\"op\":\"";
  out.push_back(static_cast<char>(op));
  out.append("\",\"before\":");
  append_raw_columns(out, before);
  out.append(",\"after\":");
  append_raw_columns(out, after);
  out.push_back('}');
  return out;
}

bool UndecodableSplitter::any(const std::vector<ConnectRecord>& records) {
  for (const auto& r : records) {
    if (r.value_schema == undecodable_schema()) return true;
  }
  return false;
}

void UndecodableSplitter::add(std::vector<ConnectRecord> records) {
  if (empty()) {
    pending_ = std::move(records);
    next_ = 0;
    return;
  }
  for (auto& r : records) pending_.push_back(std::move(r));
}

std::vector<ConnectRecord> UndecodableSplitter::take(ErrorRecordReporter* reporter,
                                                     std::string_view what) {
  std::vector<ConnectRecord> out;
  while (next_ < pending_.size()) {
    ConnectRecord& r = pending_[next_];
    if (const std::string* error = undecodable_error(r)) {
      // Reported only once the records before it went out (a later poll()), so its position
      // passes in order.
      if (!out.empty()) break;
      if (reporter == nullptr) {
        throw ConnectException(std::string(what) + ": " + *error +
                               " (errors.tolerance=all sends undecodable events to the "
                               "errors.deadletterqueue.topic.name topic instead)");
      }
      reporter->report(r, *error);
      ++next_;
      continue;
    }
    out.push_back(std::move(r));
    ++next_;
  }
  if (next_ >= pending_.size()) {
    pending_.clear();
    next_ = 0;
  }
  return out;
}

}  // namespace rmqc::connectors::cdc
