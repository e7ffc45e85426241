#pragma once

// Incremental snapshots (Debezium's, after Netflix's DBLog "DDD-3" watermarks), shared by the
// MySQL and PostgreSQL CDC readers (docs/connectors/cdc.md#incremental-snapshots).
//
// A row inserted into the signal table (signal.data.collection) and read back from the change
// stream is a signal: execute-snapshot queues tables, stop-snapshot drops them, pause-snapshot /
// resume-snapshot hold and release the chunks. Each table is read in chunks of
// incremental.snapshot.chunk.size rows in primary key order: the reader writes a low watermark
// (a snapshot-window-open row into the signal table), selects the chunk into a buffer, writes a
// high watermark (snapshot-window-close). While the stream is between the two watermarks, a
// streamed change of a buffered key drops that key from the buffer (the stream wins: its event
// is newer than or as new as the chunk's row); at the high watermark the rest of the buffer is
// emitted as reads (op r, source.snapshot "incremental"), then the next chunk starts. A streamed
// change of a key is thus never followed by an older read of that key, and streaming never
// stops.
//
// The progress (tables left, the last key emitted, the table's largest key when its snapshot
// started) is part of every record's offset while a snapshot runs, so a restart resumes after
// the last committed key: a chunk may be read again, none is skipped.
//
// The reader thread owns the object (no locking). The database side is the SnapshotSource each
// connector implements: key columns, largest key, one chunk, one watermark row.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/base/result.h"

#include "cdc/common/envelope.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rmqc::connectors::cdc {

inline constexpr std::string_view kSignalDataCollectionConfig = "signal.data.collection";
inline constexpr std::string_view kIncrementalChunkSizeConfig = "incremental.snapshot.chunk.size";
// Debezium's notifications: "sink" sends them as records to notification.sink.topic.name.
inline constexpr std::string_view kNotificationChannelsConfig = "notification.enabled.channels";
inline constexpr std::string_view kNotificationTopicConfig = "notification.sink.topic.name";

// Offset fields (Debezium's names; the values are JSON text).
inline constexpr std::string_view kIncrementalCollectionsField = "incremental_snapshot_collections";
inline constexpr std::string_view kIncrementalKeyField = "incremental_snapshot_primary_key";
inline constexpr std::string_view kIncrementalMaxKeyField = "incremental_snapshot_maximum_key";
inline constexpr std::string_view kIncrementalPausedField = "incremental_snapshot_paused";

// Signal types the connector writes itself (the watermarks).
inline constexpr std::string_view kWindowOpenSignal = "snapshot-window-open";
inline constexpr std::string_view kWindowCloseSignal = "snapshot-window-close";

// Adds signal.data.collection and incremental.snapshot.chunk.size to a connector's definition.
void define_incremental_snapshot_keys(ConfigDef& def);

struct IncrementalSnapshotConfig {
  std::optional<TableRef> signal_table;  // none: signals are off
  std::size_t chunk_size = 1024;
  std::string notification_topic;  // "": no notification records (channel "sink" off)
};
// From a config that passed the connector's ConfigDef.
Result<IncrementalSnapshotConfig> parse_incremental_snapshot_config(const KeyValue& parsed);

// "<ns>.<table>" (the first '.' splits); an error names what is wrong.
Result<TableRef> parse_table_id(std::string_view text);

struct SnapshotRequest {
  TableRef table;
  std::string condition;  // an SQL boolean expression ANDed to the chunk query; "" = none
  // Debezium's "surrogate-key": one unique column to read chunks in the order of, instead of
  // the primary key (a table without one can be snapshotted); "" = the primary key.
  std::string surrogate_key;
  bool operator==(const SnapshotRequest&) const = default;
};

enum class SignalKind {
  kExecuteSnapshot,
  kStopSnapshot,
  kPauseSnapshot,
  kResumeSnapshot,
  kWindowOpen,
  kWindowClose,
  kLog,
  kUnknown,
};

struct Signal {
  SignalKind kind = SignalKind::kUnknown;
  std::string id;
  std::string type;
  std::vector<SnapshotRequest> collections;  // execute-snapshot, stop-snapshot (empty: all)
  std::string message;                       // log
};
// One signal row (its id, type and data columns). Bad JSON or an unsupported snapshot type is an
// error naming the signal.
Result<Signal> parse_signal(std::string_view id, std::string_view type, std::string_view data);

// A key's column values in their text form (as the database prints them and reads them back as
// literals), in key order.
using KeyText = std::vector<std::string>;

struct ChunkRow {
  KeyText key;
  ConnectRecord record;  // op r, source.snapshot "incremental"; the offset is set on emission
};

// The database side, implemented by each reader. Errors may also be thrown in the reader's own
// exception types; the snapshot state stays consistent either way.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // The table's primary key columns in key order. An error when the table does not exist or has
  // no primary key.
  virtual Result<std::vector<std::string>> key_columns(const TableRef& table) = 0;
  // The largest key of the rows matching condition; nullopt for none.
  virtual Result<std::optional<KeyText>> max_key(const TableRef& table,
                                                 const std::vector<std::string>& keys,
                                                 const std::string& condition) = 0;
  // Up to limit rows with after < key <= max (no lower bound without after), in key order.
  virtual Result<std::vector<ChunkRow>> read_chunk(const TableRef& table,
                                                   const std::vector<std::string>& keys,
                                                   const std::string& condition,
                                                   const std::optional<KeyText>& after,
                                                   const KeyText& max, std::size_t limit) = 0;
  // Inserts (id, type, data) into the signal table, committed.
  virtual Result<void> write_signal(const std::string& id, std::string_view type,
                                    const std::string& data) = 0;
};

// The SQL both databases accept for the two queries (row comparisons "(a, b) > ('1', 'x')").
// ident quotes an identifier; literal writes the value of the i-th key column.
struct SqlQuoting {
  std::function<std::string(std::string_view)> ident;
  std::function<std::string(std::size_t, std::string_view)> literal;
};
std::string max_key_sql(const SqlQuoting& q, const TableRef& table,
                        const std::vector<std::string>& keys, const std::string& condition);
std::string chunk_sql(const SqlQuoting& q, const std::string& select_list, const TableRef& table,
                      const std::vector<std::string>& keys, const std::string& condition,
                      const std::optional<KeyText>& after, const KeyText& max, std::size_t limit);

class IncrementalSnapshot {
 public:
  IncrementalSnapshot(IncrementalSnapshotConfig config, std::string prefix);

  bool enabled() const { return config_.signal_table.has_value(); }
  bool is_signal_table(const TableRef& table) const {
    return config_.signal_table && *config_.signal_table == table;
  }
  // A table snapshot is queued or running (records then carry the progress).
  bool active() const { return !tables_.empty(); }
  bool window_open() const { return window_open_; }

  // The progress stored in a committed offset (nothing when it has none or it is unreadable).
  void restore(const RecordOffset& offset);
  // Adds the progress to an offset (nothing when no snapshot runs).
  void add_progress(RecordOffset& offset) const;

  // Every record the stream emits passes here: inside an open window a change of the table
  // being read drops its key from the buffer; while a snapshot runs the offset gets the
  // progress.
  void observe(ConnectRecord& record);

  // A new streaming session (first start, reconnect): a window in flight is dropped and the
  // snapshot (if one runs) goes on from the last key emitted.
  // An error from the source is returned (a retriable one: reconnect and call this again).
  Result<void> on_stream_start(SnapshotSource& source);

  // A row of the signal table read from the stream at position (the stream's offset there).
  // Returns the reads to emit (at a high watermark), their offsets set; the caller emits them in
  // order and then calls after_emit(), which starts the next chunk when one is due.
  Result<std::vector<ConnectRecord>> on_signal(SnapshotSource& source, const Signal& signal,
                                               const RecordOffset& position);
  Result<void> after_emit(SnapshotSource& source);

  // Debezium's "Incremental Snapshot" notifications made since the last call (a table's scan
  // completed: SUCCEEDED, EMPTY, NO_PRIMARY_KEY, UNKNOWN_SCHEMA, SQL_EXCEPTION), as records for
  // notification.sink.topic.name, their offsets those of the last signal with the progress; the
  // caller sets the partition and emits them. Empty without the sink channel.
  std::vector<ConnectRecord> take_notifications();

  // Tests and logs.
  std::int64_t rows_emitted() const { return rows_emitted_; }
  std::int64_t chunks_read() const { return chunks_read_; }

 private:
  struct TableProgress {
    SnapshotRequest request;
    std::optional<KeyText> last_key;  // the last key emitted (or known covered)
    std::optional<KeyText> max_key;   // the largest key when the table's snapshot started
    std::vector<std::string> key_columns;
    bool started = false;  // key columns and max key known
  };

  Result<void> open_window(SnapshotSource& source);
  // A table's scan completed with status (Debezium's TableScanCompletionStatus); message: why.
  void notify_scan_completed(const TableRef& table, std::string_view status,
                             const std::string& message);
  // False: the table cannot be snapshotted (logged) or is empty.
  Result<bool> prepare_table(SnapshotSource& source, TableProgress& t);
  void drop_window();
  const std::string& progress_collections() const;

  IncrementalSnapshotConfig config_;
  std::string prefix_;
  std::deque<TableProgress> tables_;      // front: being read
  mutable std::string collections_json_;  // progress_collections(); "" = to compute
  bool paused_ = false;

  // The window: the buffered chunk of tables_.front().
  std::string window_id_;  // "" = none in flight
  bool window_open_ = false;
  std::string window_topic_;
  std::string window_column_;  // the surrogate key: chunk rows are matched by its value
  std::vector<ChunkRow> chunk_;
  std::unordered_map<std::string, std::size_t> chunk_index_;  // key text -> chunk_ slot
  std::vector<bool> dropped_;
  bool chunk_last_ = false;  // the chunk reached the table's largest key
  bool next_due_ = false;    // after_emit() opens the next window

  std::int64_t rows_emitted_ = 0;
  std::int64_t chunks_read_ = 0;

  RecordOffset last_position_;  // of the last signal (or the restored offset)
  std::vector<ConnectRecord> notifications_;
};

}  // namespace rmqc::connectors::cdc
