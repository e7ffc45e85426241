#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/sink_task.h"

#include <memory>
#include <string>
#include <vector>

namespace rmqc::connectors::file {

// Appends records to one file, one line per record (docs/connectors/file.md). Every task appends
// to the same file: it is opened with O_APPEND and written in whole lines, one write() per buffer.
class FileSinkConnector final : public SinkConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

// put() renders each record's value as a line into a buffer and writes it at the end of the call
// (sooner past buffer.bytes); flush() and so pre_commit() write what a failed write left and
// fdatasync() the file, so the worker commits offsets only for lines that are on disk.
class FileSinkTask final : public SinkTask {
 public:
  ~FileSinkTask() override;

  void start(const KeyValue& config) override;
  void stop() override;
  void put(std::vector<ConnectRecord>& records) override;
  void flush(const OffsetMap& current_offsets) override;

  // A record's value as the text of its line: a string or bytes as is, null as an empty line,
  // anything else as Value::to_string().
  static void render(const Value& value, std::string& out);

  // Bytes rendered but not yet written (left by a failed write).
  std::size_t buffered_bytes() const { return buffer_.size(); }

 private:
  void write_buffer();
  void write_quietly();  // write_buffer(), keeping the bytes on a retriable failure
  void sync();

  std::string filename_;
  std::size_t buffer_limit_ = 1 << 20;
  int fd_ = -1;
  std::string buffer_;
  bool unsynced_ = false;  // written since the last fdatasync
};

}  // namespace rmqc::connectors::file
