#pragma once

#include "rmqc/api/record.h"
#include "rmqc/api/task.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

class ErrorRecordReporter;  // rmqc/api/sink_task.h

// Reads the positions a source task committed before, so it resumes where it stopped.
class OffsetStorageReader {
 public:
  virtual ~OffsetStorageReader() = default;
  virtual std::optional<RecordOffset> read_offset(const RecordPartition& partition) = 0;
  virtual OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) = 0;
};

class SourceTaskContext {
 public:
  virtual ~SourceTaskContext() = default;
  virtual OffsetStorageReader& offset_storage_reader() = 0;
  virtual std::string_view connector_name() const = 0;
  virtual std::string_view task_name() const = 0;
  virtual const KeyValue& configs() const = 0;
  // The runtime's errors.* handling for input the task cannot turn into a record (an undecodable
  // event): non-null when errors.tolerance=all. report(record, error) logs it (errors.log.*) and
  // writes it to the dead letter queue (errors.deadletterqueue.*: topic = the record's topic,
  // body = its value, a raw payload as BYTES or STRING), and the record's position counts as
  // processed, in order with the records poll() returned before. Call it from poll() (the task's
  // thread), before returning the records that follow the bad input. nullptr (errors.tolerance=
  // none): the task fails instead, by throwing from poll() with a message that says where.
  virtual ErrorRecordReporter* error_record_reporter() { return nullptr; }
};

// Where the broker stored a record: passed to SourceTask::commit once it is acknowledged.
struct RecordMetadata {
  std::string topic;
  std::string broker_name;
  std::int32_t queue_id = -1;
  std::int64_t queue_offset = -1;
  std::string msg_id;
};

// Pulls records from an external system. poll() runs on the task's own thread; returning an empty
// vector means "nothing now" (the worker polls again after a short back-off).
class SourceTask : public Task {
 public:
  virtual void init(SourceTaskContext& context) { context_ = &context; }
  virtual std::vector<ConnectRecord> poll() = 0;
  // Called after the broker acknowledged the record; for tasks that keep positions themselves.
  virtual void commit(const ConnectRecord& record, const RecordMetadata& metadata) {
    (void)record;
    (void)metadata;
  }
  // Called after the worker committed positions.
  virtual void commit() {}

 protected:
  SourceTaskContext* context() const { return context_; }

 private:
  SourceTaskContext* context_ = nullptr;
};

}  // namespace rmqc
