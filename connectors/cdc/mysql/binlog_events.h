#pragma once

// The binlog events the MySQL CDC reader decodes itself from the raw event bytes: TABLE_MAP
// (with the optional metadata of binlog_row_metadata=FULL: column names, signedness, charsets,
// ENUM/SET values, primary key) and WRITE/UPDATE/DELETE_ROWS v1/v2 row images. Layouts follow
// the MySQL/MariaDB binlog format documentation; every read is bounds-checked, so a malformed
// event is an error, never a crash.

#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include "cdc/mysql/mysql_columns.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc::mysql {

inline constexpr std::size_t kEventHeaderSize = 19;

namespace event_type {
inline constexpr std::uint8_t kQuery = 2;
inline constexpr std::uint8_t kRotate = 4;
inline constexpr std::uint8_t kFormatDescription = 15;
inline constexpr std::uint8_t kXid = 16;
inline constexpr std::uint8_t kTableMap = 19;
inline constexpr std::uint8_t kWriteRowsV1 = 23;
inline constexpr std::uint8_t kUpdateRowsV1 = 24;
inline constexpr std::uint8_t kDeleteRowsV1 = 25;
inline constexpr std::uint8_t kHeartbeat = 27;
inline constexpr std::uint8_t kWriteRowsV2 = 30;
inline constexpr std::uint8_t kUpdateRowsV2 = 31;
inline constexpr std::uint8_t kDeleteRowsV2 = 32;
inline constexpr std::uint8_t kMysqlGtid = 33;
inline constexpr std::uint8_t kMysqlAnonymousGtid = 34;
inline constexpr std::uint8_t kPartialUpdateRows = 39;
inline constexpr std::uint8_t kMariaGtid = 162;
inline constexpr std::uint8_t kMariaGtidList = 163;
inline constexpr std::uint8_t kMariaQueryCompressed = 165;
inline constexpr std::uint8_t kMariaWriteRowsCompressedV1 = 166;
inline constexpr std::uint8_t kMariaDeleteRowsCompressed = 171;
}  // namespace event_type

struct EventHeader {
  std::uint32_t timestamp = 0;
  std::uint8_t type = 0;
  std::uint32_t server_id = 0;
  std::uint32_t event_size = 0;
  std::uint32_t log_pos = 0;  // position after the event (0 for artificial events)
  std::uint16_t flags = 0;
};
Result<EventHeader> parse_event_header(std::string_view event);

struct TableMap {
  std::uint64_t table_id = 0;
  std::string db;
  std::string table;
  std::vector<ColumnDef> columns;
  std::vector<int> primary_key;  // column indexes, in key order
  bool has_names = false;        // COLUMN_NAME metadata present (binlog_row_metadata=FULL)
  // Everything after the table id: equal signatures = the same table version.
  std::string signature;
};
// body: the event without its 19-byte header and checksum.
Result<TableMap> parse_table_map(std::string_view body);

enum class RowsKind { kWrite, kUpdate, kDelete };

struct RowsEvent {
  RowsKind kind = RowsKind::kWrite;
  std::uint64_t table_id = 0;
  std::uint16_t flags = 0;
  std::uint32_t column_count = 0;
  std::vector<bool> present;        // columns in the (before) image
  std::vector<bool> present_after;  // update: columns in the after image
  std::string_view rows;            // the row images
};
// type: the event type (v1 or v2 rows events only).
Result<RowsEvent> parse_rows_event(std::uint8_t type, std::string_view body);
bool is_rows_event(std::uint8_t type);

// Decodes one row image at rows[*pos] into out (one slot per column of the table map: the value,
// or null when NULL or absent from a partial image). schemas: one per column.
Result<void> decode_row_image(const TableMap& table, const std::vector<SchemaPtr>& schemas,
                              const TypeModes& modes, const std::vector<bool>& present,
                              std::string_view rows, std::size_t* pos, std::vector<Value>* out);
// The same straight into the slots of a row struct (Struct::values() of a new row, every slot
// null): column i's value goes to row[slots[i]]; a column with slot -1 (left out by column
// filters) is decoded past and dropped. Absent and NULL columns leave their slot as it is.
Result<void> decode_row_image_into(const TableMap& table, const std::vector<SchemaPtr>& schemas,
                                   const TypeModes& modes, const std::vector<bool>& present,
                                   const std::vector<int>& slots, std::string_view rows,
                                   std::size_t* pos, std::vector<Value>& row);

// The statement of a QUERY event (and its default database).
struct QueryEvent {
  std::string database;
  std::string statement;
  std::uint32_t thread_id = 0;
};
Result<QueryEvent> parse_query_event(std::string_view body);

// ROTATE: the next file and position.
struct RotateEvent {
  std::uint64_t position = 0;
  std::string file;
};
Result<RotateEvent> parse_rotate_event(std::string_view body);

// MariaDB GTID event: "domain-server-seq" and whether the group has no COMMIT (DDL).
struct MariaGtid {
  std::uint64_t sequence = 0;
  std::uint32_t domain = 0;
  std::uint8_t flags = 0;
  bool standalone() const { return (flags & 0x01) != 0; }
};
Result<MariaGtid> parse_maria_gtid(std::string_view body);

}  // namespace rmqc::connectors::cdc::mysql
