#pragma once

// The database side of the PostgreSQL CDC task, on its own thread: checks the server's setup,
// creates the publication and the replication slot, snapshots in the slot's exported snapshot,
// then streams pgoutput from the slot and turns each change into a Debezium record for the
// task's queue. Reconnects (with back-off) after the server went away; a setup problem the user
// must fix fails the queue with a message that says what to change.

#include "rmqc/api/record.h"

#include "cdc/common/change_queue.h"
#include "cdc/postgres/postgres_cdc_connector.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

namespace rmqc::connectors::cdc::postgres {

class PgChangeReader {
 public:
  PgChangeReader(PostgresCdcConfig config, RecordPartition partition,
                 std::optional<RecordOffset> committed, ChangeQueue<PgQueueBatch>& queue);
  ~PgChangeReader();
  PgChangeReader(const PgChangeReader&) = delete;
  PgChangeReader& operator=(const PgChangeReader&) = delete;

  void start();
  // Ends the session (a last status update, the slot dropped under slot.drop.on.stop) and joins.
  void stop();

  // The task moved the flush position (only forwards); sent to the server promptly.
  void confirm(Lsn lsn);
  Lsn confirmed() const { return confirmed_.load(); }
  // Where the stream started (the slot's confirmed flush LSN, or a new slot's consistent
  // point); 0 until the reader streams. Heartbeats before the first record carry it.
  Lsn stream_start() const { return stream_start_.load(); }

 private:
  class Session;
  void run();

  PostgresCdcConfig config_;
  RecordPartition partition_;
  std::optional<RecordOffset> committed_;
  ChangeQueue<PgQueueBatch>& queue_;
  std::atomic<bool> stopping_{false};
  std::atomic<Lsn> confirmed_{0};
  std::atomic<bool> confirm_pending_{false};
  std::atomic<Lsn> stream_start_{0};
  std::thread thread_;
  // Reader-thread state kept across sessions: whether the snapshot question is settled, and the
  // last change emitted (commit LSN, place in its transaction), below which replays are skipped.
  bool snapshot_settled_ = false;
  std::int64_t emitted_commit_ = -1;
  std::int64_t emitted_seq_ = -1;
  IncrementalSnapshot incremental_;  // reader thread only; kept across sessions
  friend class Session;
};

}  // namespace rmqc::connectors::cdc::postgres
