#pragma once

// The streaming replication protocol's CopyData messages (XLogData 'w', primary keepalive 'k',
// standby status update 'r') and the pgoutput logical replication messages of protocol version 1
// (Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate, Message), as
// PostgreSQL documents them in "Streaming Replication Protocol" and "Logical Replication Message
// Formats". Decoding is bounds-checked: a short or unknown message is an error, never a crash.

#include "rmqc/base/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::cdc::postgres {

using Lsn = std::uint64_t;

// "16/B374D848"
std::string format_lsn(Lsn lsn);
Result<Lsn> parse_lsn(std::string_view text);

// PostgreSQL timestamps on the wire: microseconds since 2000-01-01 00:00:00 UTC.
inline constexpr std::int64_t kPgEpochOffsetMicros = 946'684'800'000'000LL;
inline std::int64_t pg_to_unix_micros(std::int64_t pg_micros) {
  return pg_micros + kPgEpochOffsetMicros;
}
inline std::int64_t unix_to_pg_micros(std::int64_t unix_micros) {
  return unix_micros - kPgEpochOffsetMicros;
}

// --- the replication stream (CopyData payloads) ------------------------------------------------

struct XLogData {
  Lsn data_start = 0;
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  std::string_view payload;  // the pgoutput message (points into the CopyData buffer)
};
struct Keepalive {
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  bool reply_requested = false;
};
struct CopyMessage {
  enum class Kind { kXLogData, kKeepalive } kind = Kind::kXLogData;
  XLogData xlog;
  Keepalive keepalive;
};
Result<CopyMessage> decode_copy_message(std::string_view data);

// The 34-byte standby status update ('r'): write/flush/apply positions and the client clock.
std::string encode_status_update(Lsn write, Lsn flush, Lsn apply, std::int64_t unix_micros,
                                 bool reply_requested);

// --- pgoutput (proto_version 1) ------------------------------------------------------------------

struct TupleValue {
  enum class Kind : char { kNull = 'n', kUnchangedToast = 'u', kText = 't' } kind = Kind::kNull;
  std::string_view text;  // points into the message
};
using Tuple = std::vector<TupleValue>;

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t type_modifier = -1;
};

struct BeginMessage {
  Lsn final_lsn = 0;             // the commit's LSN
  std::int64_t commit_time = 0;  // PostgreSQL epoch micros
  std::uint32_t xid = 0;
};
struct CommitMessage {
  std::uint8_t flags = 0;
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;
  std::int64_t commit_time = 0;
};
struct OriginMessage {
  Lsn commit_lsn = 0;
  std::string name;
};
struct RelationMessage {
  std::uint32_t oid = 0;
  std::string ns;
  std::string name;
  char replica_identity = 'd';  // d default, n nothing, f full, i index
  std::vector<RelationColumn> columns;
};
struct TypeMessage {
  std::uint32_t oid = 0;
  std::string ns;
  std::string name;
};
struct InsertMessage {
  std::uint32_t relation = 0;
  Tuple new_tuple;
};
struct UpdateMessage {
  std::uint32_t relation = 0;
  char old_kind = 0;  // 0 none, 'K' key columns only, 'O' whole old row (REPLICA IDENTITY FULL)
  Tuple old_tuple;
  Tuple new_tuple;
};
struct DeleteMessage {
  std::uint32_t relation = 0;
  char old_kind = 'K';
  Tuple old_tuple;
};
struct TruncateMessage {
  std::uint8_t options = 0;  // 1 CASCADE, 2 RESTART IDENTITY
  std::vector<std::uint32_t> relations;
};

struct PgOutputMessage {
  enum class Kind : char {
    kBegin = 'B',
    kCommit = 'C',
    kOrigin = 'O',
    kRelation = 'R',
    kType = 'Y',
    kInsert = 'I',
    kUpdate = 'U',
    kDelete = 'D',
    kTruncate = 'T',
    kMessage = 'M',
  } kind = Kind::kBegin;
  BeginMessage begin;
  CommitMessage commit;
  OriginMessage origin;
  RelationMessage relation;
  TypeMessage type;
  InsertMessage insert;
  UpdateMessage update;
  DeleteMessage del;
  TruncateMessage truncate;
};

// Decodes one pgoutput message; the tuples' text points into payload.
Result<void> decode_pgoutput(std::string_view payload, PgOutputMessage& out);

}  // namespace rmqc::connectors::cdc::postgres
