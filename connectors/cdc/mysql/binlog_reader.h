#pragma once

// The MySQL CDC task's reader thread: checks the server's settings, takes the snapshot (per
// snapshot.mode and snapshot.locking.mode), then streams the binlog through MariaDB
// Connector/C's replication API from the snapshot's or the committed position, turning row
// images into Debezium change records handed to poll() through a bounded ChangeQueue. A lost
// connection is retried with back-off from the last position; a misconfigured server, a missing
// privilege, a purged binlog or an undecodable event fail the queue with a message saying what
// to change (docs/connectors/cdc-mysql.md).

#include "rmqc/api/record.h"

#include "cdc/common/cdc_config.h"
#include "cdc/common/change_queue.h"
#include "cdc/common/envelope.h"
#include "cdc/common/incremental_snapshot.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::connectors::cdc::mysql {

// Where streaming resumes: the start of the transaction being read, how many of its change
// events were already emitted, the GTID position there, and whether a snapshot was still
// running (then it is taken again).
struct BinlogPosition {
  std::string file;
  std::int64_t pos = 4;
  std::int64_t event = 0;
  std::string gtids;
  bool snapshot = false;
  bool operator==(const BinlogPosition&) const = default;
};

RecordOffset position_to_offset(const BinlogPosition& position);
// nullopt for an offset without a file (never written by this connector).
std::optional<BinlogPosition> position_from_offset(const RecordOffset& offset);
RecordPartition server_partition(std::string_view prefix);

// The reader hands records over in batches (one queue slot each) of at most batch_limit records:
// a transaction's records, or a full batch.
using RecordBatch = std::vector<ConnectRecord>;

struct ReaderOptions {
  CdcConfig config;
  std::size_t batch_limit = 256;
  std::uint32_t server_id = 0;
  std::optional<BinlogPosition> committed;  // the task's committed position, if any
  // Incremental snapshots: the signal table and chunk size; the committed offset holds the
  // progress of one that was running.
  IncrementalSnapshotConfig incremental;
  std::optional<RecordOffset> committed_offset;
};

class BinlogReader {
 public:
  BinlogReader(ReaderOptions options, std::shared_ptr<ChangeQueue<RecordBatch>> queue);
  ~BinlogReader();
  BinlogReader(const BinlogReader&) = delete;
  BinlogReader& operator=(const BinlogReader&) = delete;

  void start();
  // Stops the thread: unblocks a pending binlog read, a query and a full queue (the caller
  // closes it); waits for it at most 5 s (a connection attempt in progress is left to end).
  void stop();

  // For tests and metrics: events decoded so far.
  std::int64_t events_read() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace rmqc::connectors::cdc::mysql
