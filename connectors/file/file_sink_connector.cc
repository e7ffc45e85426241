#include "file/file_sink_connector.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include "file/file_source_connector.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace rmqc::connectors::file {
namespace {

constexpr std::string_view kBufferBytesConfig = "buffer.bytes";

const Logger& log() {
  static const Logger logger("file-sink");
  return logger;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = FileSinkConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

// A full disk may clear up: let the worker retry the batch rather than fail the task.
[[noreturn]] void throw_io(const std::string& what, int err) {
  const std::string message = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EINTR || err == EAGAIN) {
    throw RetriableException(message);
  }
  throw ConnectException(message);
}

// A worker killed (SIGKILL, power loss) inside write() can leave the file ending in part of a
// line. That part was never committed (offsets are committed only after a flush), so its record
// is delivered again; appending after it would glue the torn piece and the next line into one
// line that was never sent. Cut the file back to its last newline before appending. (Tasks of
// one connector start together, so this never cuts a line another task is writing.)
// Regression: tests/integration/worker_crash_test.cc.
void drop_torn_tail(int fd, const std::string& filename) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
  char last = '\n';
  if (::pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n') return;
  off_t cut = 0;  // no newline at all: the whole file is one torn line
  char block[65536];
  for (off_t end = st.st_size - 1; end > 0 && cut == 0;) {
    off_t from = std::max<off_t>(0, end - static_cast<off_t>(sizeof(block)));
    ssize_t n = ::pread(fd, block, static_cast<std::size_t>(end - from), from);
    if (n <= 0) return;  // unreadable: leave the file as it is
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (block[i] == '\n') {
        cut = from + i + 1;
        break;
      }
    }
    end = from;
  }
  if (::ftruncate(fd, cut) != 0) {
    log().warn(filename, ": cannot cut a torn last line: ", std::strerror(errno));
    return;
  }
  log().warn(filename, ": dropped a torn last line of ", st.st_size - cut,
             " bytes (left by a crash; it is delivered again)");
}

}  // namespace

ConfigDef FileSinkConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  def.define(std::string(kFilenameConfig), T::kString, std::nullopt, I::kHigh,
             "The file records are appended to, one line each; created if missing. All tasks "
             "append to this one file.",
             validators::non_empty());
  def.define(std::string(kBufferBytesConfig), T::kInt, "1048576", I::kLow,
             "put() renders its records into a buffer and writes it (without fsync) at the end "
             "of the call, or sooner once it holds this many bytes; flush syncs the file.",
             validators::between(1, 256 * 1024 * 1024));
  return def;
}

void FileSinkConnector::validate(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  struct stat st {};
  const std::string name = parsed.get_string(kFilenameConfig);
  if (::stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw ConnectException("filename '" + name + "' is a directory");
  }
}

void FileSinkConnector::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
}

std::vector<KeyValue> FileSinkConnector::task_configs(int max_tasks) {
  // Each task consumes its own queues and appends to the same file (O_APPEND).
  return std::vector<KeyValue>(static_cast<std::size_t>(std::max(max_tasks, 1)), config_);
}

std::string FileSinkConnector::task_class() const {
  return "org.apache.rocketmq.connect.file.FileSinkTask";
}

std::unique_ptr<Task> FileSinkConnector::create_task() const {
  return std::make_unique<FileSinkTask>();
}

// --- FileSinkTask --------------------------------------------------------------------------

FileSinkTask::~FileSinkTask() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSinkTask::start(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  filename_ = parsed.get_string(kFilenameConfig);
  buffer_limit_ = static_cast<std::size_t>(parsed.get_int(kBufferBytesConfig, 1 << 20));
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(filename_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_io("cannot open " + filename_, errno);
  drop_torn_tail(fd_, filename_);
  buffer_.clear();
  buffer_.reserve(buffer_limit_ + 4096);
  unsynced_ = false;
}

void FileSinkTask::stop() {
  if (fd_ < 0) return;
  // Whatever was put but not flushed is not committed either: write it anyway (it will be
  // delivered again, at-least-once), but never let a failure here keep the file open.
  try {
    write_buffer();
    sync();
  } catch (const std::exception& e) {
    log().warn(filename_, ": flush at stop failed: ", e.what());
  }
  ::close(fd_);
  fd_ = -1;
}

void FileSinkTask::render(const Value& value, std::string& out) {
  if (const auto* text = value.get_if<std::string>()) {
    out += *text;
  } else if (const auto* bytes = value.get_if<Bytes>()) {
    // Raw, like a string: file -> ByteArrayConverter -> file copies lines byte for byte.
    out.append(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  } else if (!value.is_null()) {
    out += value.to_string();
  }
}

void FileSinkTask::put(std::vector<ConnectRecord>& records) {
  if (fd_ < 0) throw ConnectException("FileSinkTask: put() before start()");
  // Lines a failed write left behind go first. If they still cannot be written the batch is
  // refused as a whole (retriable) before any of it is rendered, so the worker's retry of the
  // same batch never buffers it twice, and memory stays bounded while the disk is full.
  if (!buffer_.empty()) write_buffer();
  for (const auto& record : records) {
    render(record.value, buffer_);
    buffer_ += '\n';
    if (buffer_.size() >= buffer_limit_) write_quietly();
  }
  // Lines show up as soon as they are put (one write per put); flush makes them durable. Keeping
  // them until the next flush would hold a trickle of lines back for a whole commit interval.
  write_quietly();
}

void FileSinkTask::write_quietly() {
  // The batch is accepted (rendered into the buffer); a failed write keeps it there for the next
  // put() or flush(), which report the failure. Offsets are committed only after flush().
  try {
    write_buffer();
  } catch (const RetriableException& e) {
    log().warn(filename_, ": write failed, kept ", buffer_.size(),
               " bytes for the next attempt: ", e.what());
  }
}

void FileSinkTask::flush(const OffsetMap& /*current_offsets*/) {
  if (fd_ < 0) return;
  write_buffer();
  sync();
}

void FileSinkTask::write_buffer() {
  // One write() for the whole buffer of whole lines: with O_APPEND, tasks sharing the file never
  // interleave inside a line. After a failed or short write the unwritten rest stays buffered
  // for the retry, so nothing is written twice.
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      buffer_.erase(0, done);
      throw_io("cannot write " + filename_, err);
    }
    done += static_cast<std::size_t>(n);
    unsynced_ = true;
  }
  buffer_.clear();
}

void FileSinkTask::sync() {
  if (!unsynced_) return;
  if (::fdatasync(fd_) != 0) throw_io("cannot sync " + filename_, errno);
  unsynced_ = false;
}

}  // namespace rmqc::connectors::file
