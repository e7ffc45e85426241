#pragma once

#include "rmqc/base/result.h"

#include "broker/store/commit_log.h"
#include "broker/store/consume_queue.h"
#include "broker/store/consumer_offsets.h"
#include "broker/store/index_service.h"
#include "broker/store/store_config.h"
#include "broker/store/topic_configs.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace rmqc::broker {

struct PutResult {
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int64_t store_timestamp = 0;
  int32_t size = 0;
};

// RocketMQ's GetMessageStatus; the broker maps them to PULL response codes (spec 2.3.4).
enum class GetStatus {
  kFound,
  kNoMatchedMessage,
  kOffsetTooSmall,
  kOffsetOverflowOne,
  kOffsetOverflowBadly,
  kNoMessageInQueue,
  kOffsetFoundNull,
};
// RocketMQ spelling, used as the PULL `remark`: "FOUND", "NO_MATCHED_MESSAGE", ...
std::string_view get_status_name(GetStatus status);

// The tag hash codes of a subscription ("TagA || TagB"); a message matches when its tags code
// (as int32, like RocketMQ's codeSet.contains(tagsCode.intValue())) is one of them.
struct TagFilter {
  std::vector<int32_t> codes;
  bool matches(int64_t tags_code) const {
    for (int32_t c : codes) {
      if (c == static_cast<int32_t>(tags_code)) return true;
    }
    return false;
  }
};

// One stored entry returned by a read: its bytes are in the commit-log mapping.
struct MessageRef {
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  std::string_view bytes;  // the full stored record (spec section 3)
};

struct GetResult {
  GetStatus status = GetStatus::kNoMessageInQueue;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  std::vector<MessageRef> messages;
  int64_t total_bytes = 0;
  // Keeps the mapped segments alive while `messages` are in use (retention may unlink them).
  std::vector<std::shared_ptr<SegmentFile>> pins;

  // The PULL body: records concatenated. Copies; prefer ranges() for a gathered socket write.
  std::string body() const;
  // Maximal contiguous byte ranges of messages (adjacent records merged), for writev.
  std::vector<std::string_view> ranges() const;
};

// QUERY_MESSAGE: the records found by key, and how far the index reaches.
struct QueryMessageResult {
  GetResult found;  // messages (queue_offset unused), pins, body()
  int64_t index_last_update_timestamp = 0;
  int64_t index_last_update_phys_offset = 0;
};

// Called after messages become visible (and durable in SYNC mode) in a queue, for long polling.
// Runs on the putting thread: keep it short and thread-safe.
using ArrivalListener = std::function<void(std::string_view topic, int32_t queue_id,
                                           int64_t max_offset, int64_t tags_code)>;

// The embedded broker's durable store: one commit log for all messages, one consume queue per
// (topic, queueId), consumer offsets and topic configs. On-disk format and recovery:
// docs/formats/broker-store.md.
//
// Threads: puts from any thread (serialized internally; SYNC puts share fsyncs), reads from any
// number of threads concurrently with puts, one internal flusher/retention thread.
class MessageStore {
 public:
  // Opens or creates the store under config.dir and recovers it (see the format doc).
  static Result<std::unique_ptr<MessageStore>> open(StoreConfig config);
  ~MessageStore();
  MessageStore(const MessageStore&) = delete;
  MessageStore& operator=(const MessageStore&) = delete;

  // Appends one encoded stored record (rocketmq::encode_stored_message). The store checks it,
  // patches QUEUEOFFSET, PHYSICALOFFSET and STORETIMESTAMP in place and takes topic, queue id and
  // the TAGS property from the record. Errors: kInvalidArgument (malformed record, bad topic),
  // kResourceExhausted (too large, store or disk full; retriable), kIoError.
  //
  // body_crc_computed: the caller set BODYCRC itself from the body it encoded
  // (rocketmq::append_stored_message, as the broker does), so the store does not compute it a
  // second time; records from anywhere else keep the check (verify_crc_on_put).
  Result<PutResult> put_message(std::span<char> record, bool body_crc_computed = false);
  // Several records, one write per segment and one fsync in SYNC mode. On an error after some
  // records were written, those stay stored (their results are lost to the caller: at-least-once).
  Result<std::vector<PutResult>> put_messages(std::span<const std::span<char>> records,
                                              bool body_crc_computed = false);

  // Up to max_count records from `offset` (at least one even if larger than max_bytes), skipping
  // records whose tags code does not match `filter` (null = all). At most 800 queue entries are
  // scanned per call, as RocketMQ does.
  Result<GetResult> get_messages(std::string_view topic, int32_t queue_id, int64_t offset,
                                 int32_t max_count, int64_t max_bytes,
                                 const TagFilter* filter = nullptr) const;

  int64_t min_offset(std::string_view topic, int32_t queue_id) const;  // 0 for unknown queues
  int64_t max_offset(std::string_view topic, int32_t queue_id) const;  // next offset to assign
  // RocketMQ 4.x semantics (spec 2.3.5): exact match, else the nearer neighbour (lower on a
  // tie), min offset before the first message, max-1 after the last, 0 for an empty queue.
  int64_t search_offset_by_timestamp(std::string_view topic, int32_t queue_id,
                                     int64_t timestamp_ms) const;
  // Store time of the first available message of the queue, -1 if it has none.
  int64_t earliest_message_store_time(std::string_view topic, int32_t queue_id) const;
  // The record starting at a commit-log offset (VIEW_MESSAGE_BY_ID); kNotFound otherwise.
  Result<LogView> read_message(int64_t physical_offset) const;

  // Messages of `topic` whose KEYS contain `key` or whose UNIQ_KEY is `key`, stored within
  // [begin_ms, end_ms], newest first, at most max_num (index: docs/formats/broker-store.md).
  Result<QueryMessageResult> query_messages(std::string_view topic, std::string_view key,
                                            int32_t max_num, int64_t begin_ms,
                                            int64_t end_ms) const;

  int64_t commit_log_min_offset() const { return log_->min_offset(); }
  int64_t commit_log_max_offset() const { return log_->max_offset(); }
  int64_t disk_bytes() const;
  // (topic, queueId) of every queue the store has.
  std::vector<std::pair<std::string, int32_t>> queues() const;

  // Set before the first put.
  void set_arrival_listener(ArrivalListener listener) { listener_ = std::move(listener); }

  const StoreConfig& config() const { return config_; }
  ConsumerOffsets& consumer_offsets() { return *offsets_; }
  TopicConfigs& topic_configs() { return *topics_; }

  // Makes everything written so far durable and writes the checkpoint (what close() does).
  Result<void> flush();
  // Retention pass (the flusher runs it every retention_check_interval): deletes commit-log
  // segments last modified before now - retention_age, then oldest ones while the store exceeds
  // retention_bytes; never the active segment. Returns the number of segments deleted.
  Result<int> delete_expired_segments(int64_t now_ms);
  // Drops the consume queues of a topic (its records stay in the log until retention).
  Result<void> delete_topic(std::string_view topic);

  // Flushes, stops the flusher, persists offsets. Idempotent; the destructor calls it.
  Result<void> close();
  // Tests: stops the flusher without any flush or checkpoint, leaving the files as a kill -9
  // would (written data in the page cache, checkpoint as of the last flusher run).
  void close_without_flush_for_testing();

 private:
  struct QueueKey {
    std::string topic;
    int32_t queue_id;
  };
  struct QueueKeyView {
    std::string_view topic;
    int32_t queue_id;
  };
  struct QueueKeyHash {
    using is_transparent = void;
    size_t operator()(const QueueKeyView& k) const {
      return std::hash<std::string_view>()(k.topic) * 31 + static_cast<size_t>(k.queue_id);
    }
    size_t operator()(const QueueKey& k) const {
      return (*this)(QueueKeyView{k.topic, k.queue_id});
    }
  };
  struct QueueKeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.queue_id == b.queue_id && std::string_view(a.topic) == std::string_view(b.topic);
    }
  };
  using QueueTable =
      std::unordered_map<QueueKey, std::shared_ptr<ConsumeQueue>, QueueKeyHash, QueueKeyEq>;

  explicit MessageStore(StoreConfig config) : config_(std::move(config)) {}

  Result<void> recover();
  Result<std::shared_ptr<ConsumeQueue>> queue_for_write(std::string_view topic, int32_t queue_id);
  std::shared_ptr<ConsumeQueue> find_queue(std::string_view topic, int32_t queue_id) const;
  std::string queue_dir(std::string_view topic, int32_t queue_id) const;
  int64_t store_timestamp_at(const ConsumeQueue& cq, int64_t offset) const;
  Result<void> write_checkpoint(int64_t covered);
  Result<void> flush_once();
  void flusher_loop();
  Result<void> check_writable() const;

  const StoreConfig config_;
  std::unique_ptr<CommitLog> log_;
  std::unique_ptr<ConsumerOffsets> offsets_;
  std::unique_ptr<TopicConfigs> topics_;
  std::unique_ptr<IndexService> index_;
  ArrivalListener listener_;

  std::mutex write_mu_;  // one appender at a time: offsets are assigned in log order
  mutable std::shared_mutex queues_mu_;
  QueueTable queues_;  // writes under write_mu_ + exclusive queues_mu_

  std::atomic<int64_t> dispatched_end_{0};  // every record below has its consume-queue entry
  std::atomic<int64_t> cq_bytes_{0};        // approximate consume-queue disk usage
  std::atomic<bool> failed_{false};         // an fsync failed: refuse further puts
  int64_t checkpoint_written_ = -1;         // flush_mu_
  int64_t segment_bytes_ = 0;               // as the existing files were written
  int64_t cq_entries_ = 0;

  std::mutex flush_mu_;      // flush_once callers
  std::mutex retention_mu_;  // one retention pass at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> closed_{false};  // set after the flusher stopped
  std::thread flusher_;
};

}  // namespace rmqc::broker
