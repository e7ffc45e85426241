#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rmqc::connectors::file {

inline constexpr std::string_view kFilenameConfig = "filename";
inline constexpr std::string_view kBatchSizeConfig = "batch.size";
inline constexpr std::string_view kPollIntervalConfig = "poll.interval.ms";
inline constexpr std::string_view kMaxLineBytesConfig = "max.line.bytes";
inline constexpr std::string_view kRecordKeyConfig = "record.key";

// Partition and offset keys, as the Java sample's FileSourceTask.
inline constexpr std::string_view kFilenameField = "filename";
inline constexpr std::string_view kPositionField = "position";

// Tails one file into a topic, one record per line (docs/connectors/file.md).
class FileSourceConnector final : public SourceConnector {
 public:
  static ConfigDef definition();

  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // One task: a file has one reader.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  KeyValue config_;
};

// Reads the file line by line from the committed position. The position of a record is the byte
// offset just past its line, so a resumed task starts at the first line not yet committed. A
// partial last line (no newline yet) is held back until it is completed. Truncation (the file got
// shorter than the position) restarts at 0; rotation (the path now names another inode) finishes
// the old file, then reads the new one from 0.
class FileSourceTask final : public SourceTask {
 public:
  void start(const KeyValue& config) override;
  void stop() override;
  std::vector<ConnectRecord> poll() override;

  ~FileSourceTask() override;

 private:
  bool open_file(bool use_committed_position);
  void close_file();
  // Appends complete lines from buffer_ to out (at most `limit`); returns how many.
  std::size_t take_lines(std::vector<ConnectRecord>& out, std::size_t limit, std::int64_t now_ms,
                         bool flush_partial);
  // Reads more bytes into buffer_; false at end of file.
  bool fill();
  // At end of file: handles truncation and rotation; true when reading should continue.
  bool check_file_changed(std::vector<ConnectRecord>& out, std::int64_t now_ms);
  ConnectRecord make_record(std::string_view line, std::int64_t next_position,
                            std::int64_t now_ms) const;
  void wait(std::chrono::milliseconds how_long);

  std::string filename_;
  RecordPartition partition_;
  std::size_t batch_size_ = 2000;
  std::size_t max_line_bytes_ = 1 << 20;
  std::chrono::milliseconds poll_interval_{100};
  bool key_is_filename_ = false;

  int fd_ = -1;
  std::uint64_t device_ = 0;
  std::uint64_t inode_ = 0;
  bool opened_once_ = false;
  bool missing_logged_ = false;
  // buffer_[consumed_..] holds bytes read but not emitted; position_ is the file offset of
  // buffer_[consumed_], i.e. of the next line to emit.
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::int64_t position_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace rmqc::connectors::file
