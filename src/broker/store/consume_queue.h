#pragma once

#include "rmqc/base/result.h"

#include "broker/store/segment_file.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

namespace rmqc::broker {

// One consume-queue entry: where a message of this queue sits in the commit log.
// On disk: 20 bytes, big-endian int64 commit-log offset, int32 size, int64 tags code.
struct CqEntry {
  int64_t phys_offset = 0;
  int32_t size = 0;
  int64_t tags_code = 0;
};
inline constexpr int64_t kCqEntryBytes = 20;

// The index of one (topic, queueId): entry i describes the message with queue offset i, so a
// lookup by logical offset is one multiplication. Files are named by their first byte offset
// (entry index * 20), as RocketMQ names them.
//
// Threads: one writer (MessageStore holds its write lock around append/truncate), any number of
// readers (read/for_each_entry), and the flusher (sync) and retention (delete_before) threads.
class ConsumeQueue {
 public:
  // Loads existing files (a missing directory is an empty queue) and drops a torn tail: a
  // partial entry, trailing zero entries (an extended but unwritten file), files after a short one.
  static Result<std::unique_ptr<ConsumeQueue>> open(std::string dir, std::string topic,
                                                    int32_t queue_id, int64_t entries_per_segment);

  const std::string& topic() const { return topic_; }
  int32_t queue_id() const { return queue_id_; }

  // Visible to readers.
  int64_t min_offset() const { return min_offset_.load(std::memory_order_acquire); }
  int64_t max_offset() const { return max_offset_.load(std::memory_order_acquire); }

  // Writer side. next_offset() is the offset the next appended entry gets (>= max_offset()).
  int64_t next_offset() const { return next_offset_.load(std::memory_order_relaxed); }
  // Writes the entry for `queue_offset`; normally == next_offset(). A larger value leaves a hole
  // of empty entries (readers skip them), a smaller one truncates first (recovery only).
  Result<void> put(int64_t queue_offset, const CqEntry& entry);
  // Writes entries for queue_offset, queue_offset + 1, ...: one write per segment they fall in
  // (a batch's entries usually go to one queue, so one syscall instead of one per message). On an
  // error, next_offset() says how far it got.
  Result<void> put_run(int64_t queue_offset, std::span<const CqEntry> entries);
  // Makes entries below max_offset visible to readers and wakes nobody: MessageStore notifies.
  void publish(int64_t max_offset);
  // Drops entries at offsets >= offset (recovery).
  Result<void> truncate(int64_t offset);
  // Recovery: drops trailing entries at or past the first commit-log byte that is not durable
  // or not valid any more (phys_offset + size > valid_end, or phys_offset >= redispatch_from).
  Result<void> truncate_by_phys(int64_t redispatch_from, int64_t valid_end);

  Result<void> sync();  // fdatasync every segment written since the last sync

  // Reader side: entry at `offset`, or false when it is outside [min, max) or an empty hole.
  bool read(int64_t offset, CqEntry* out) const;
  // Last written entry (any thread; recovery uses it), false if the queue has none.
  bool last_entry(CqEntry* out) const;

  // Retention: sets min_offset to the first entry whose message is at or beyond commit_log_min
  // and deletes whole files below it, never the last one.
  Result<void> delete_before(int64_t commit_log_min);
  int64_t disk_bytes() const;
  // Deletes every file and the directory (topic deletion).
  Result<void> destroy();

 private:
  ConsumeQueue(std::string dir, std::string topic, int32_t queue_id, int64_t per_segment)
      : dir_(std::move(dir)),
        topic_(std::move(topic)),
        queue_id_(queue_id),
        per_segment_(per_segment) {}

  // Segment holding `offset` (any thread), or null.
  std::shared_ptr<SegmentFile> segment_for(int64_t offset) const;
  Result<std::shared_ptr<SegmentFile>> writable_segment_for(int64_t offset);
  bool read_raw(int64_t offset, CqEntry* out) const;

  const std::string dir_;
  const std::string topic_;
  const int32_t queue_id_;
  const int64_t per_segment_;  // entries per file

  mutable std::shared_mutex mu_;  // guards segments_ (the vector; files are internally safe)
  std::vector<std::shared_ptr<SegmentFile>> segments_;  // by base offset, ascending
  std::vector<uint8_t> scratch_;                        // writer: put_run's encoded entries

  std::atomic<int64_t> min_offset_{0};
  std::atomic<int64_t> max_offset_{0};
  std::atomic<int64_t> next_offset_{0};
  std::atomic<int64_t> synced_offset_{0};  // flusher only
  std::atomic<bool> dir_dirty_{false};     // a file was created: fsync the directories
};

}  // namespace rmqc::broker
