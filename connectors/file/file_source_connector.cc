#include "file/file_source_connector.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"
#include "rmqc/api/schema.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

namespace rmqc::connectors::file {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

const Logger& log() {
  static const Logger logger("file-source");
  return logger;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = FileSourceConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace

ConfigDef FileSourceConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  def.define(std::string(kFilenameConfig), T::kString, std::nullopt, I::kHigh,
             "The file to tail, one record per line. It need not exist yet.",
             validators::non_empty());
  def.define(std::string(kBatchSizeConfig), T::kInt, "2000", I::kLow,
             "Most lines returned by one poll.", validators::between(1, 1'000'000));
  def.define(std::string(kPollIntervalConfig), T::kLong, "100", I::kLow,
             "How long a poll waits when the file has nothing new, in milliseconds.",
             validators::between(1, 1000));
  def.define(std::string(kMaxLineBytesConfig), T::kInt, "1048576", I::kLow,
             "A line longer than this is emitted in pieces of this many bytes, so a file without "
             "newlines cannot exhaust memory.",
             validators::between(1, 64 * 1024 * 1024));
  def.define(std::string(kRecordKeyConfig), T::kString, "none", I::kLow,
             "The record key: none, or filename (the file path, so every line of the file goes to "
             "the same queue in order).",
             validators::one_of({"none", "filename"}));
  return def;
}

void FileSourceConnector::validate(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  struct stat st {};
  const std::string name = parsed.get_string(kFilenameConfig);
  if (::stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw ConnectException("filename '" + name + "' is a directory");
  }
}

void FileSourceConnector::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
}

std::vector<KeyValue> FileSourceConnector::task_configs(int /*max_tasks*/) {
  return {config_};
}

std::string FileSourceConnector::task_class() const {
  return "org.apache.rocketmq.connect.file.FileSourceTask";
}

std::unique_ptr<Task> FileSourceConnector::create_task() const {
  return std::make_unique<FileSourceTask>();
}

// --- FileSourceTask ------------------------------------------------------------------------

FileSourceTask::~FileSourceTask() {
  close_file();
}

void FileSourceTask::start(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  filename_ = parsed.get_string(kFilenameConfig);
  partition_ = RecordPartition{{std::string(kFilenameField), Value(filename_)}};
  batch_size_ = static_cast<std::size_t>(parsed.get_int(kBatchSizeConfig, 2000));
  poll_interval_ = std::chrono::milliseconds(parsed.get_long(kPollIntervalConfig, 100));
  max_line_bytes_ = static_cast<std::size_t>(parsed.get_int(kMaxLineBytesConfig, 1 << 20));
  key_is_filename_ = parsed.get_string(kRecordKeyConfig, "none") == "filename";
  close_file();
  opened_once_ = false;
  missing_logged_ = false;
  std::lock_guard lock(mutex_);
  stopping_ = false;
}

void FileSourceTask::stop() {
  // May be called from another thread while poll() waits: wake it. The file is closed by the
  // next poll() or the destructor, never under a concurrent read.
  std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void FileSourceTask::wait(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

void FileSourceTask::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  consumed_ = 0;
}

bool FileSourceTask::open_file(bool use_committed_position) {
  const int fd = ::open(filename_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      if (!missing_logged_) log().info(filename_, " does not exist yet; waiting for it");
      missing_logged_ = true;
      return false;
    }
    throw ConnectException("cannot open " + filename_ + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw ConnectException("cannot stat " + filename_ + ": " + errno_text(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw ConnectException(filename_ + " is a directory");
  }

  std::int64_t position = 0;
  if (use_committed_position && context() != nullptr) {
    if (auto offset = context()->offset_storage_reader().read_offset(partition_)) {
      if (const Value* p = offset->find(kPositionField); p != nullptr && p->to_int64(position)) {
        position = std::max<std::int64_t>(position, 0);
      }
    }
    if (position > static_cast<std::int64_t>(st.st_size)) {
      log().warn(filename_, " is shorter (", st.st_size, " bytes) than the committed position ",
                 position, ": truncated while the task was stopped; reading from the start");
      position = 0;
    }
  }
  fd_ = fd;
  device_ = static_cast<std::uint64_t>(st.st_dev);
  inode_ = static_cast<std::uint64_t>(st.st_ino);
  opened_once_ = true;
  missing_logged_ = false;
  buffer_.clear();
  consumed_ = 0;
  position_ = position;
  log().info("reading ", filename_, " from byte ", position_);
  return true;
}

bool FileSourceTask::fill() {
  // Drop what was emitted once it is most of the buffer, so the buffer stays O(chunk + line).
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  const std::size_t old_size = buffer_.size();
  const auto read_at =
      static_cast<off_t>(position_ + static_cast<std::int64_t>(old_size - consumed_));
  buffer_.resize(old_size + kReadChunk);
  ssize_t n;
  do {
    n = ::pread(fd_, buffer_.data() + old_size, kReadChunk, read_at);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    buffer_.resize(old_size);
    throw RetriableException("cannot read " + filename_ + ": " + errno_text(err));
  }
  buffer_.resize(old_size + static_cast<std::size_t>(n));
  return n > 0;
}

ConnectRecord FileSourceTask::make_record(std::string_view line, std::int64_t next_position,
                                          std::int64_t now_ms) const {
  ConnectRecord record(partition_,
                       RecordOffset{{std::string(kPositionField), Value(next_position)}}, now_ms);
  if (key_is_filename_) {
    record.key_schema = schemas::string(true);
    record.key = Value(filename_);
  }
  record.value_schema = schemas::string(true);
  record.value = Value(line);
  return record;
}

std::size_t FileSourceTask::take_lines(std::vector<ConnectRecord>& out, std::size_t limit,
                                       std::int64_t now_ms, bool flush_partial) {
  std::size_t taken = 0;
  while (taken < limit && consumed_ < buffer_.size()) {
    const char* begin = buffer_.data() + consumed_;
    const std::size_t pending = buffer_.size() - consumed_;
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', pending));
    std::size_t line_len;
    std::size_t advance;
    if (nl != nullptr && static_cast<std::size_t>(nl - begin) <= max_line_bytes_) {
      line_len = static_cast<std::size_t>(nl - begin);
      advance = line_len + 1;
      if (line_len > 0 && begin[line_len - 1] == '\r') --line_len;  // CRLF files
    } else if (pending >= max_line_bytes_) {
      log().warn(filename_, ": line at byte ", position_, " is longer than ", max_line_bytes_,
                 " bytes; emitting it in pieces");
      line_len = advance = max_line_bytes_;
    } else if (flush_partial) {
      line_len = advance = pending;  // the last line of a rotated file that never got a newline
    } else {
      break;  // a partial line: wait for its newline
    }
    position_ += static_cast<std::int64_t>(advance);
    out.push_back(make_record(std::string_view(begin, line_len), position_, now_ms));
    consumed_ += advance;
    ++taken;
  }
  return taken;
}

bool FileSourceTask::check_file_changed(std::vector<ConnectRecord>& out, std::int64_t now_ms) {
  struct stat open_st {};
  if (::fstat(fd_, &open_st) == 0) {
    const std::int64_t read_to = position_ + static_cast<std::int64_t>(buffer_.size() - consumed_);
    if (static_cast<std::int64_t>(open_st.st_size) < read_to) {
      log().warn(filename_, " was truncated (", open_st.st_size, " bytes, read up to ", read_to,
                 "); reading from the start");
      buffer_.clear();
      consumed_ = 0;
      position_ = 0;
      return true;
    }
  }
  struct stat path_st {};
  if (::stat(filename_.c_str(), &path_st) != 0) {
    return false;  // renamed away and not recreated yet: keep the old file until it is
  }
  if (static_cast<std::uint64_t>(path_st.st_ino) == inode_ &&
      static_cast<std::uint64_t>(path_st.st_dev) == device_) {
    return false;
  }
  // Rotated: drain what the writer appended to the old file before it switched, including a last
  // line without newline (nobody will complete it now), then start the new file at 0.
  while (fill()) {
  }
  take_lines(out, std::numeric_limits<std::size_t>::max(), now_ms, /*flush_partial=*/true);
  log().info(filename_, " was rotated; finished the old file at byte ", position_,
             ", reading the new one from 0");
  close_file();
  open_file(/*use_committed_position=*/false);
  return fd_ >= 0;
}

std::vector<ConnectRecord> FileSourceTask::poll() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      close_file();
      return {};
    }
  }
  std::vector<ConnectRecord> records;
  if (fd_ < 0 && !open_file(/*use_committed_position=*/!opened_once_)) {
    wait(poll_interval_);
    return records;
  }
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  records.reserve(std::min<std::size_t>(batch_size_, 4096));
  take_lines(records, batch_size_, now_ms, false);
  while (records.size() < batch_size_) {
    if (!fill()) {
      // End of file. Only with nothing to return look for truncation or rotation, so a file
      // being appended to quickly costs no extra stat() calls.
      if (records.empty() && check_file_changed(records, now_ms)) {
        if (!records.empty()) break;  // the rotated file's tail: deliver it first
        continue;
      }
      break;
    }
    take_lines(records, batch_size_ - records.size(), now_ms, false);
  }
  if (records.empty()) wait(poll_interval_);
  return records;
}

}  // namespace rmqc::connectors::file
