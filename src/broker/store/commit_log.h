#pragma once

#include "rmqc/base/result.h"

#include "broker/store/segment_file.h"
#include "rocketmq/protocol/message_codec.h"

#include <sys/uio.h>

#include <atomic>
#include <climits>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// Bytes kept free at the end of every segment for the end-of-file filler (RocketMQ's
// END_FILE_MIN_BLANK_LENGTH): TOTALSIZE = bytes left, MAGICCODE = kBlankMagic.
inline constexpr int64_t kBlankBytes = 8;

// A contiguous byte range of the commit log, valid while `segment` is held.
struct LogView {
  std::shared_ptr<SegmentFile> segment;
  std::string_view bytes;
};

// The commit log: every stored message of every queue, appended in arrival order to fixed-size
// segment files named by their first offset. An entry never crosses a segment end; the unused
// tail of a segment starts with a blank filler.
//
// Threads: one writer (the caller serializes begin_entry/add_entry/commit), readers (read) at any
// time, sync_to from any thread (group commit), retention (delete_oldest) from one thread.
class CommitLog {
 public:
  // Opens the files; checks nothing yet (recover does).
  static Result<std::unique_ptr<CommitLog>> open(std::string dir, int64_t segment_bytes);

  // Called for each valid entry during recovery, in log order.
  using EntryFn =
      std::function<Result<void>(const rocketmq::StoredMessageView& m, int64_t phys, int32_t size)>;
  // Scans from `from` (an entry boundary) to the end, validating every entry (size range, magic,
  // layout, PHYSICALOFFSET == its position, body CRC) and truncates at the first bad or torn
  // one, dropping later segments (renamed aside). Returns the end of the valid log.
  Result<int64_t> recover(int64_t from, const EntryFn& on_entry);
  // True if `offset` is a plausible recovery start: the log end or the start of a valid entry.
  bool is_entry_boundary(int64_t offset) const;

  int64_t min_offset() const { return min_offset_.load(std::memory_order_acquire); }
  int64_t max_offset() const { return written_.load(std::memory_order_acquire); }
  int64_t flushed_offset() const { return flushed_.load(std::memory_order_acquire); }
  int64_t segment_bytes() const { return segment_bytes_; }
  int64_t disk_bytes() const { return max_offset() - min_offset(); }

  // Writer: where an entry of `size` bytes goes. Writes pending entries and the blank filler
  // and opens a new segment if it does not fit in the current one.
  Result<int64_t> begin_entry(int32_t size);
  // Writer: whether begin_entry(size) writes the queued entries first (the entry does not fit
  // the active segment), and whether the next add_entry does (the queue is full). A caller that
  // must write something before queued entries become durable does it then.
  bool begin_entry_commits(int32_t size) const {
    return !active_ || staged_end_ - active_->base_offset() + size + kBlankBytes > segment_bytes_;
  }
  bool add_entry_commits() const { return iov_.size() + 1 >= static_cast<size_t>(IOV_MAX); }
  // Writer: queues the entry's bytes (must stay valid until commit) at the offset begin_entry
  // returned.
  Result<void> add_entry(const char* data, size_t size);
  // Writer: writes all queued entries (one pwritev per segment). On failure nothing past the
  // last successful commit is visible and the file is cut back.
  Result<void> commit();
  // Writer: forgets queued entries after a failure (nothing of them becomes visible).
  void abort_staged();

  // Makes everything below `offset` durable (fdatasync of the segments touched since the last
  // sync, plus the directory after a roll). Concurrent callers share one fsync.
  Result<void> sync_to(int64_t offset);

  // Reader: `size` bytes at `offset`, or an empty view if outside [min, max).
  LogView read(int64_t offset, int32_t size) const;
  // Reader: the whole entry at `offset` (validated), or an error.
  Result<LogView> read_entry(int64_t offset) const;

  // Retention: unlinks the oldest segments for which `doomed(segment)` is true, stopping at the
  // first one that is not and never touching the segment being written. Returns how many.
  Result<int> delete_oldest(const std::function<bool(const SegmentFile&)>& doomed);

 private:
  CommitLog(std::string dir, int64_t segment_bytes)
      : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

  std::shared_ptr<SegmentFile> segment_for(int64_t offset) const;
  Result<void> roll();  // writer: new active segment at the end of the current one
  Result<void> drop_segments_from(size_t index);

  const std::string dir_;
  const int64_t segment_bytes_;

  mutable std::shared_mutex mu_;                        // guards segments_ (the vector)
  std::vector<std::shared_ptr<SegmentFile>> segments_;  // contiguous, ascending

  // Writer state.
  std::shared_ptr<SegmentFile> active_;  // null until the first write after a full segment
  int64_t staged_end_ = 0;               // written_ + queued bytes
  std::vector<iovec> iov_;
  size_t iov_bytes_ = 0;

  std::atomic<int64_t> min_offset_{0};
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> flushed_{0};
  std::atomic<bool> dir_dirty_{false};  // a segment was created since the last directory fsync
  std::mutex sync_mu_;                  // one fsync at a time; waiters piggyback on it
};

}  // namespace rmqc::broker
