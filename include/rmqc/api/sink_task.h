#pragma once

#include "rmqc/api/record.h"
#include "rmqc/api/task.h"

#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

// Sends a record the task could not write to the connector's dead letter queue (errors.*).
class ErrorRecordReporter {
 public:
  virtual ~ErrorRecordReporter() = default;
  virtual void report(const ConnectRecord& record, const std::string& error) = 0;
};

class SinkTaskContext {
 public:
  virtual ~SinkTaskContext() = default;
  virtual std::string_view connector_name() const = 0;
  virtual std::string_view task_name() const = 0;
  virtual const KeyValue& configs() const = 0;
  // Rewinds or skips: the next records of the partition start at offset.
  virtual void reset_offset(const RecordPartition& partition, const RecordOffset& offset) = 0;
  virtual void reset_offset(const OffsetMap& offsets) = 0;
  // Stops / restarts delivery from these partitions (back-pressure from the target system).
  virtual void pause(const std::vector<RecordPartition>& partitions) = 0;
  virtual void resume(const std::vector<RecordPartition>& partitions) = 0;
  // The partitions (topic queues) currently assigned to this task.
  virtual std::vector<RecordPartition> assignment() const = 0;
  // nullptr when the connector has no dead letter queue configured.
  virtual ErrorRecordReporter* error_record_reporter() = 0;
};

// Writes records to an external system. The worker commits an offset only after put() and
// flush()/pre_commit() for it returned without throwing.
class SinkTask : public Task {
 public:
  virtual void init(SinkTaskContext& context) { context_ = &context; }
  virtual void put(std::vector<ConnectRecord>& records) = 0;
  // Makes everything put() so far durable downstream.
  virtual void flush(const OffsetMap& current_offsets) { (void)current_offsets; }
  // Returns the offsets safe to commit; by default flushes and returns them all.
  virtual OffsetMap pre_commit(const OffsetMap& current_offsets) {
    flush(current_offsets);
    return current_offsets;
  }

 protected:
  SinkTaskContext* context() const { return context_; }

 private:
  SinkTaskContext* context_ = nullptr;
};

}  // namespace rmqc
