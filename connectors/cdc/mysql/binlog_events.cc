#include "cdc/mysql/binlog_events.h"

namespace rmqc::connectors::cdc::mysql {
namespace {

Error malformed(std::string_view what) {
  return Error(ErrorCode::kParseError, "malformed binlog event: " + std::string(what));
}

// A bounds-checked little-endian reader.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  bool at_end() const { return remaining() == 0; }

  std::uint64_t fixed(int n) {
    if (!need(static_cast<std::size_t>(n))) return 0;
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(i)]);
    }
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::uint64_t lenenc() {
    const std::uint64_t first = fixed(1);
    if (first < 0xfb) return first;
    if (first == 0xfc) return fixed(2);
    if (first == 0xfd) return fixed(3);
    if (first == 0xfe) return fixed(8);
    ok_ = false;
    return 0;
  }
  std::string_view bytes(std::uint64_t n) {
    if (!need(n)) return {};
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view lenenc_bytes() { return bytes(lenenc()); }
  std::string_view rest() {
    if (!ok_) return {};
    std::string_view out = data_.substr(pos_);
    pos_ = data_.size();
    return out;
  }
  void skip(std::uint64_t n) { (void)bytes(n); }

 private:
  bool need(std::uint64_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

bool bit_lsb(std::string_view bitmap, std::size_t i) {
  return (static_cast<unsigned char>(bitmap[i / 8]) >> (i % 8)) & 1;
}

bool is_numeric(std::uint8_t t) {
  switch (t) {
    case ftype::kTiny:
    case ftype::kShort:
    case ftype::kInt24:
    case ftype::kLong:
    case ftype::kLongLong:
    case ftype::kNewDecimal:
    case ftype::kDecimal:
    case ftype::kFloat:
    case ftype::kDouble:
      return true;
    default:
      return false;
  }
}

bool is_character(std::uint8_t t) {
  switch (t) {
    case ftype::kString:
    case ftype::kVarString:
    case ftype::kVarchar:
    case ftype::kBlob:
    case ftype::kTinyBlob:
    case ftype::kMediumBlob:
    case ftype::kLongBlob:
      return true;
    default:
      return false;
  }
}

// Reads the per-type metadata of one column.
bool read_column_meta(Reader& r, ColumnDef& c) {
  switch (c.type) {
    case ftype::kFloat:
    case ftype::kDouble:
      c.meta = static_cast<std::uint16_t>(r.fixed(1));
      break;
    case ftype::kBlob:
    case ftype::kTinyBlob:
    case ftype::kMediumBlob:
    case ftype::kLongBlob:
    case ftype::kGeometry:
    case ftype::kJson:
      c.meta = static_cast<std::uint16_t>(r.fixed(1));
      c.length_bytes = c.meta;
      c.type = (c.type == ftype::kGeometry || c.type == ftype::kJson) ? c.type : ftype::kBlob;
      break;
    case ftype::kVarchar:
    case ftype::kVarString:
      c.meta = static_cast<std::uint16_t>(r.fixed(2));
      c.length_bytes = c.meta;
      c.type = ftype::kVarchar;
      break;
    case ftype::kBit: {
      const auto bits = static_cast<int>(r.fixed(1));
      const auto bytes = static_cast<int>(r.fixed(1));
      c.bits = bytes * 8 + bits;
      break;
    }
    case ftype::kNewDecimal:
      c.precision = static_cast<int>(r.fixed(1));
      c.scale = static_cast<int>(r.fixed(1));
      break;
    case ftype::kString:
    case ftype::kEnum:
    case ftype::kSet: {
      auto b0 = static_cast<unsigned>(r.fixed(1));
      auto b1 = static_cast<unsigned>(r.fixed(1));
      unsigned real = b0;
      unsigned length = b1;
      if ((b0 & 0x30) != 0x30) {
        length = b1 | (((b0 & 0x30) ^ 0x30) << 4);
        real = b0 | 0x30;
      }
      c.meta = static_cast<std::uint16_t>((b0 << 8) | b1);
      c.type = static_cast<std::uint8_t>(real);
      c.length_bytes = static_cast<int>(length);
      break;
    }
    case ftype::kTime2:
    case ftype::kDatetime2:
    case ftype::kTimestamp2:
      c.fsp = static_cast<int>(r.fixed(1));
      c.meta = static_cast<std::uint16_t>(c.fsp);
      break;
    default:
      break;
  }
  return r.ok();
}

}  // namespace

Result<EventHeader> parse_event_header(std::string_view event) {
  if (event.size() < kEventHeaderSize) return malformed("shorter than its header");
  Reader r(event);
  EventHeader h;
  h.timestamp = static_cast<std::uint32_t>(r.fixed(4));
  h.type = static_cast<std::uint8_t>(r.fixed(1));
  h.server_id = static_cast<std::uint32_t>(r.fixed(4));
  h.event_size = static_cast<std::uint32_t>(r.fixed(4));
  h.log_pos = static_cast<std::uint32_t>(r.fixed(4));
  h.flags = static_cast<std::uint16_t>(r.fixed(2));
  return h;
}

Result<TableMap> parse_table_map(std::string_view body) {
  Reader r(body);
  TableMap t;
  t.table_id = r.fixed(6);
  r.skip(2);  // flags
  t.signature = std::string(r.ok() ? body.substr(r.pos()) : std::string_view());
  t.db = std::string(r.bytes(r.fixed(1)));
  r.skip(1);
  t.table = std::string(r.bytes(r.fixed(1)));
  r.skip(1);
  const std::uint64_t count = r.lenenc();
  if (!r.ok() || count > 4096) return malformed("TABLE_MAP header");
  std::string_view types = r.bytes(count);
  if (!r.ok()) return malformed("TABLE_MAP column types");
  t.columns.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    t.columns[i].type = static_cast<std::uint8_t>(types[i]);
    t.columns[i].name = "_" + std::to_string(i);
  }
  Reader meta(r.lenenc_bytes());
  if (!r.ok()) return malformed("TABLE_MAP metadata length");
  for (auto& c : t.columns) {
    if (!read_column_meta(meta, c)) return malformed("TABLE_MAP column metadata");
  }
  std::string_view nulls = r.bytes((count + 7) / 8);
  if (!r.ok()) return malformed("TABLE_MAP null bitmap");
  for (std::size_t i = 0; i < count; ++i) t.columns[i].nullable = bit_lsb(nulls, i);

  // Optional metadata: type, length, value.
  std::vector<int> numeric, character, enums, sets;
  for (std::size_t i = 0; i < count; ++i) {
    const auto type = t.columns[i].type;
    if (is_numeric(type)) numeric.push_back(static_cast<int>(i));
    if (is_character(type)) character.push_back(static_cast<int>(i));
    if (type == ftype::kEnum) enums.push_back(static_cast<int>(i));
    if (type == ftype::kSet) sets.push_back(static_cast<int>(i));
    if (type == ftype::kEnum || type == ftype::kSet) t.columns[i].collation = 45;
  }
  while (!r.at_end()) {
    const auto field = static_cast<int>(r.fixed(1));
    const std::string_view value = r.lenenc_bytes();
    if (!r.ok()) return malformed("TABLE_MAP optional metadata");
    Reader f(value);
    switch (field) {
      case 1:  // SIGNEDNESS: one bit per numeric column, most significant bit first
        for (std::size_t n = 0; n < numeric.size() && n / 8 < value.size(); ++n) {
          const auto byte = static_cast<unsigned char>(value[n / 8]);
          t.columns[static_cast<std::size_t>(numeric[n])].is_unsigned = (byte >> (7 - n % 8)) & 1;
        }
        break;
      case 2: {  // DEFAULT_CHARSET: the default, then (character column index, collation)
        const auto def = static_cast<int>(f.lenenc());
        for (int i : character) t.columns[static_cast<std::size_t>(i)].collation = def;
        while (f.ok() && !f.at_end()) {
          const auto index = f.lenenc();
          const auto collation = static_cast<int>(f.lenenc());
          if (f.ok() && index < character.size()) {
            t.columns[static_cast<std::size_t>(character[index])].collation = collation;
          }
        }
        break;
      }
      case 3:  // COLUMN_CHARSET: one collation per character column
        for (int i : character) {
          const auto collation = static_cast<int>(f.lenenc());
          if (!f.ok()) break;
          t.columns[static_cast<std::size_t>(i)].collation = collation;
        }
        break;
      case 4:  // COLUMN_NAME
        for (auto& c : t.columns) {
          const std::string_view name = f.lenenc_bytes();
          if (!f.ok()) return malformed("TABLE_MAP column names");
          c.name = std::string(name);
        }
        t.has_names = true;
        break;
      case 5:    // SET_STR_VALUE
      case 6: {  // ENUM_STR_VALUE
        for (int i : field == 5 ? sets : enums) {
          auto& c = t.columns[static_cast<std::size_t>(i)];
          const auto n = f.lenenc();
          if (!f.ok() || n > 65535) return malformed("TABLE_MAP ENUM/SET values");
          c.elements.clear();
          for (std::uint64_t k = 0; k < n; ++k) c.elements.emplace_back(f.lenenc_bytes());
          if (!f.ok()) return malformed("TABLE_MAP ENUM/SET values");
        }
        break;
      }
      case 8:  // SIMPLE_PRIMARY_KEY
        while (f.ok() && !f.at_end()) {
          const auto index = f.lenenc();
          if (f.ok() && index < count) t.primary_key.push_back(static_cast<int>(index));
        }
        break;
      case 9:  // PRIMARY_KEY_WITH_PREFIX: (index, prefix length)
        while (f.ok() && !f.at_end()) {
          const auto index = f.lenenc();
          (void)f.lenenc();
          if (f.ok() && index < count) t.primary_key.push_back(static_cast<int>(index));
        }
        break;
      default:  // GEOMETRY_TYPE, ENUM/SET charsets, future fields
        break;
    }
  }
  return t;
}

}  // namespace rmqc::connectors::cdc::mysql

namespace rmqc::connectors::cdc::mysql {

bool is_rows_event(std::uint8_t type) {
  return (type >= event_type::kWriteRowsV1 && type <= event_type::kDeleteRowsV1) ||
         (type >= event_type::kWriteRowsV2 && type <= event_type::kDeleteRowsV2);
}

Result<RowsEvent> parse_rows_event(std::uint8_t type, std::string_view body) {
  RowsEvent e;
  const bool v2 = type >= event_type::kWriteRowsV2 && type <= event_type::kDeleteRowsV2;
  if (!v2 && !(type >= event_type::kWriteRowsV1 && type <= event_type::kDeleteRowsV1)) {
    return Error(ErrorCode::kUnsupported,
                 "rows event type " + std::to_string(type) + " is not supported");
  }
  const int base = v2 ? event_type::kWriteRowsV2 : event_type::kWriteRowsV1;
  e.kind = static_cast<RowsKind>(type - base);
  Reader r(body);
  e.table_id = r.fixed(6);
  e.flags = static_cast<std::uint16_t>(r.fixed(2));
  if (v2) {
    const auto extra = r.fixed(2);
    if (extra < 2) return malformed("rows event extra data");
    r.skip(extra - 2);
  }
  const std::uint64_t count = r.lenenc();
  if (!r.ok() || count > 4096) return malformed("rows event header");
  e.column_count = static_cast<std::uint32_t>(count);
  auto bitmap = [&](std::vector<bool>& out) {
    std::string_view bits = r.bytes((count + 7) / 8);
    if (!r.ok()) return false;
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i) out[i] = bit_lsb(bits, i);
    return true;
  };
  if (!bitmap(e.present)) return malformed("rows event column bitmap");
  if (e.kind == RowsKind::kUpdate && !bitmap(e.present_after)) {
    return malformed("rows event after-image bitmap");
  }
  e.rows = r.rest();
  return e;
}

namespace {

// Decodes one row image at rows[*pos], handing each non-null present column's value to
// keep(i, value).
template <typename Keep>
Result<void> decode_image(const TableMap& table, const std::vector<SchemaPtr>& schemas,
                          const TypeModes& modes, const std::vector<bool>& present,
                          std::string_view rows, std::size_t* pos, Keep&& keep) {
  const std::size_t count = table.columns.size();
  if (present.size() != count || schemas.size() != count) {
    return malformed("rows event column count " + std::to_string(present.size()) +
                     " differs from its TABLE_MAP's " + std::to_string(count));
  }
  std::size_t present_count = 0;
  for (bool p : present) present_count += p ? 1 : 0;
  const std::size_t null_bytes = (present_count + 7) / 8;
  if (*pos + null_bytes > rows.size()) return malformed("row image null bitmap");
  const std::string_view nulls = rows.substr(*pos, null_bytes);
  *pos += null_bytes;
  const auto* data = reinterpret_cast<const std::uint8_t*>(rows.data());
  std::size_t k = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!present[i]) continue;
    const bool is_null = bit_lsb(nulls, k++);
    if (is_null) continue;
    auto v = decode_binary(table.columns[i], schemas[i], modes, data, rows.size(), pos);
    if (!v.ok()) {
      return Error(v.error().code(), table.db + "." + table.table + ": " + v.error().message());
    }
    keep(i, std::move(v).value());
  }
  return {};
}

}  // namespace

Result<void> decode_row_image(const TableMap& table, const std::vector<SchemaPtr>& schemas,
                              const TypeModes& modes, const std::vector<bool>& present,
                              std::string_view rows, std::size_t* pos, std::vector<Value>* out) {
  out->assign(table.columns.size(), Value());
  return decode_image(table, schemas, modes, present, rows, pos,
                      [out](std::size_t i, Value&& v) { (*out)[i] = std::move(v); });
}

Result<void> decode_row_image_into(const TableMap& table, const std::vector<SchemaPtr>& schemas,
                                   const TypeModes& modes, const std::vector<bool>& present,
                                   const std::vector<int>& slots, std::string_view rows,
                                   std::size_t* pos, std::vector<Value>& row) {
  if (slots.size() != table.columns.size()) {
    return malformed("row slots (" + std::to_string(slots.size()) + ") differ from the columns (" +
                     std::to_string(table.columns.size()) + ")");
  }
  return decode_image(table, schemas, modes, present, rows, pos, [&](std::size_t i, Value&& v) {
    const int slot = slots[i];
    if (slot >= 0 && static_cast<std::size_t>(slot) < row.size()) {
      row[static_cast<std::size_t>(slot)] = std::move(v);
    }
  });
}

Result<QueryEvent> parse_query_event(std::string_view body) {
  Reader r(body);
  QueryEvent q;
  q.thread_id = static_cast<std::uint32_t>(r.fixed(4));
  r.skip(4);  // execution time
  const auto db_len = r.fixed(1);
  r.skip(2);  // error code
  const auto status_len = r.fixed(2);
  r.skip(status_len);
  q.database = std::string(r.bytes(db_len));
  r.skip(1);
  q.statement = std::string(r.rest());
  if (!r.ok()) return malformed("QUERY event");
  return q;
}

Result<RotateEvent> parse_rotate_event(std::string_view body) {
  Reader r(body);
  RotateEvent e;
  e.position = r.fixed(8);
  e.file = std::string(r.rest());
  if (!r.ok() || e.file.empty()) return malformed("ROTATE event");
  return e;
}

Result<MariaGtid> parse_maria_gtid(std::string_view body) {
  Reader r(body);
  MariaGtid g;
  g.sequence = r.fixed(8);
  g.domain = static_cast<std::uint32_t>(r.fixed(4));
  g.flags = static_cast<std::uint8_t>(r.fixed(1));
  if (!r.ok()) return malformed("GTID event");
  return g;
}

}  // namespace rmqc::connectors::cdc::mysql
