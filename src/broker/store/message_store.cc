#include "broker/store/message_store.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "broker/store/byte_order.h"
#include "broker/store/file_util.h"
#include "broker/store/tags_code.h"
#include "rocketmq/protocol/message_properties.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>

namespace rmqc::broker {

namespace {

namespace layout = rocketmq::stored_layout;

constexpr int64_t kMaxScannedEntries = 16000 / kCqEntryBytes;      // RocketMQ maxFilterMessageCount
constexpr auto kOffsetsPersistInterval = std::chrono::seconds(5);  // RocketMQ's default
constexpr const char* kCheckpointFile = "checkpoint";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Topics become directory names: RocketMQ's character set, no "." or "..".
bool valid_topic(std::string_view topic) {
  if (topic.empty() || topic.size() > 255) return false;
  for (char c : topic) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '%' || c == '|';
    if (!ok) return false;
  }
  return true;
}

int64_t record_tags_code(std::string_view properties) {
  std::string_view tag;
  if (!rocketmq::find_property(properties, rocketmq::property::TAGS, &tag)) return 0;
  return tags_code(tag);
}

int64_t record_store_timestamp(std::string_view record) {
  const auto* p = reinterpret_cast<const uint8_t*>(record.data());
  const auto sys_flag = static_cast<int32_t>(load_be32(p + layout::kSysFlagOffset));
  return static_cast<int64_t>(load_be64(p + layout::store_timestamp_offset(sys_flag)));
}

}  // namespace

std::string_view get_status_name(GetStatus status) {
  switch (status) {
    case GetStatus::kFound:
      return "FOUND";
    case GetStatus::kNoMatchedMessage:
      return "NO_MATCHED_MESSAGE";
    case GetStatus::kOffsetTooSmall:
      return "OFFSET_TOO_SMALL";
    case GetStatus::kOffsetOverflowOne:
      return "OFFSET_OVERFLOW_ONE";
    case GetStatus::kOffsetOverflowBadly:
      return "OFFSET_OVERFLOW_BADLY";
    case GetStatus::kNoMessageInQueue:
      return "NO_MESSAGE_IN_QUEUE";
    case GetStatus::kOffsetFoundNull:
      return "OFFSET_FOUND_NULL";
  }
  return "UNKNOWN";
}

std::string GetResult::body() const {
  std::string out;
  out.reserve(static_cast<size_t>(total_bytes));
  for (const auto& m : messages) out.append(m.bytes);
  return out;
}

std::vector<std::string_view> GetResult::ranges() const {
  std::vector<std::string_view> out;
  for (const auto& m : messages) {
    if (!out.empty() && out.back().data() + out.back().size() == m.bytes.data()) {
      out.back() = std::string_view(out.back().data(), out.back().size() + m.bytes.size());
    } else {
      out.push_back(m.bytes);
    }
  }
  return out;
}

Result<std::unique_ptr<MessageStore>> MessageStore::open(StoreConfig config) {
  if (config.dir.empty()) return Error(ErrorCode::kInvalidConfig, "store dir is empty");
  if (config.consume_queue_segment_entries < 1 ||
      config.max_message_bytes + kBlankBytes > config.commit_log_segment_bytes) {
    return Error(ErrorCode::kInvalidConfig,
                 "max_message_bytes must fit a commit log segment; consume queue files need >= 1 "
                 "entry");
  }
  RMQC_RETURN_IF_ERROR(make_dirs(config.dir));
  std::unique_ptr<MessageStore> store(new MessageStore(std::move(config)));
  RMQC_RETURN_IF_ERROR(store->recover());
  store->flusher_ = std::thread([s = store.get()] {
    set_thread_name("store-flush");
    s->flusher_loop();
  });
  return store;
}

MessageStore::~MessageStore() {
  auto closed = close();
  if (!closed.ok()) rmqc::logger("broker")->error("store close: {}", closed.error().to_string());
}

std::string MessageStore::queue_dir(std::string_view topic, int32_t queue_id) const {
  std::string dir = config_.dir + "/consumequeue/";
  dir.append(topic);
  dir += '/';
  dir += std::to_string(queue_id);
  return dir;
}

Result<void> MessageStore::recover() {
  auto log = rmqc::logger("broker");
  const std::string& dir = config_.dir;
  int64_t checkpoint = 0;
  int64_t segment_bytes = config_.commit_log_segment_bytes;
  int64_t cq_entries = config_.consume_queue_segment_entries;
  if (auto text = read_file(dir + "/" + kCheckpointFile); text.ok()) {
    try {
      auto json = nlohmann::json::parse(*text);
      checkpoint = json.at("consumeQueueCovered").get<int64_t>();
      segment_bytes = json.value("commitLogSegmentBytes", segment_bytes);
      cq_entries = json.value("consumeQueueSegmentEntries", cq_entries);
    } catch (const std::exception& e) {
      log->warn("store: unreadable checkpoint ({}); rebuilding consume queues", e.what());
      checkpoint = 0;
    }
  }
  RMQC_ASSIGN_OR_RETURN(auto existing, list_segment_files(dir + "/commitlog"));
  if (existing.empty()) {  // a new store takes the configured sizes
    segment_bytes = config_.commit_log_segment_bytes;
    cq_entries = config_.consume_queue_segment_entries;
  } else if (segment_bytes != config_.commit_log_segment_bytes ||
             cq_entries != config_.consume_queue_segment_entries) {
    log->warn("store: keeping the segment sizes the existing files were written with");
  }
  segment_bytes_ = segment_bytes;
  cq_entries_ = cq_entries;

  RMQC_ASSIGN_OR_RETURN(log_, CommitLog::open(dir + "/commitlog", segment_bytes_));
  RMQC_ASSIGN_OR_RETURN(offsets_, ConsumerOffsets::open(dir + "/consumerOffset.json"));
  RMQC_ASSIGN_OR_RETURN(topics_, TopicConfigs::open(dir + "/topics.json"));
  RMQC_ASSIGN_OR_RETURN(index_, IndexService::open(dir + "/index", config_.index));

  // Consume queues: consumequeue/<topic>/<queueId>/<files>.
  bool any_entries = false;
  std::error_code ec;
  for (const auto& topic_dir : std::filesystem::directory_iterator(dir + "/consumequeue", ec)) {
    if (!topic_dir.is_directory()) continue;
    const std::string topic = topic_dir.path().filename().string();
    for (const auto& qdir : std::filesystem::directory_iterator(topic_dir.path(), ec)) {
      const std::string name = qdir.path().filename().string();
      if (!qdir.is_directory() || name.empty() ||
          name.find_first_not_of("0123456789") != std::string::npos || name.size() > 10 ||
          std::stoll(name) > std::numeric_limits<int32_t>::max()) {
        continue;
      }
      const auto qid = static_cast<int32_t>(std::stoll(name));
      RMQC_ASSIGN_OR_RETURN(auto cq,
                            ConsumeQueue::open(qdir.path().string(), topic, qid, cq_entries_));
      any_entries = any_entries || cq->next_offset() > cq->min_offset();
      queues_.emplace(QueueKey{topic, qid}, std::shared_ptr<ConsumeQueue>(std::move(cq)));
    }
  }

  // Redispatch point: everything below `checkpoint` has durable consume-queue entries. Without
  // any (consumequeue/ deleted, new store) rebuild from the start of the log.
  int64_t from = any_entries ? checkpoint : 0;
  // The message index may lag the consume queues (or be new): re-add from its restart point.
  const int64_t index_from = index_->covered();
  if (index_from < from) from = index_from;
  if (from < log_->min_offset()) from = log_->min_offset();
  if (!log_->is_entry_boundary(from)) {
    log->warn(
        "store: checkpoint {} is not a record boundary of the commit log; rebuilding consume "
        "queues from {}",
        from, log_->min_offset());
    from = log_->min_offset();
  }
  for (auto& [key, cq] : queues_) {
    RMQC_RETURN_IF_ERROR(cq->truncate_by_phys(from, std::numeric_limits<int64_t>::max()));
  }
  int64_t redispatched = 0;
  RMQC_ASSIGN_OR_RETURN(
      int64_t end,
      log_->recover(
          from,
          [&](const rocketmq::StoredMessageView& m, int64_t phys, int32_t size) -> Result<void> {
            if (!valid_topic(m.topic)) return {};  // never written by us; keep the bytes, no index
            RMQC_ASSIGN_OR_RETURN(auto cq, queue_for_write(m.topic, m.queue_id));
            if (phys >= index_from) index_->add(m, phys, size);
            ++redispatched;
            return cq->put(m.queue_offset, CqEntry{phys, size, record_tags_code(m.properties)});
          }));
  int64_t cq_bytes = 0;
  for (auto& [key, cq] : queues_) {
    RMQC_RETURN_IF_ERROR(cq->delete_before(log_->min_offset()));
    cq->publish(cq->next_offset());
    cq_bytes += cq->disk_bytes();
  }
  cq_bytes_ = cq_bytes;
  dispatched_end_ = end;
  log->info("store: opened {} (commit log [{}, {}), {} queues, {} records re-indexed from {})", dir,
            log_->min_offset(), end, queues_.size(), redispatched, from);
  return flush_once();
}

Result<std::shared_ptr<ConsumeQueue>> MessageStore::queue_for_write(std::string_view topic,
                                                                    int32_t queue_id) {
  // Only the writer inserts, so it may look up without queues_mu_.
  auto it = queues_.find(QueueKeyView{topic, queue_id});
  if (it != queues_.end()) return it->second;
  RMQC_ASSIGN_OR_RETURN(auto cq, ConsumeQueue::open(queue_dir(topic, queue_id), std::string(topic),
                                                    queue_id, cq_entries_));
  std::shared_ptr<ConsumeQueue> shared(std::move(cq));
  std::unique_lock lock(queues_mu_);
  queues_.emplace(QueueKey{std::string(topic), queue_id}, shared);
  return shared;
}

std::shared_ptr<ConsumeQueue> MessageStore::find_queue(std::string_view topic,
                                                       int32_t queue_id) const {
  std::shared_lock lock(queues_mu_);
  auto it = queues_.find(QueueKeyView{topic, queue_id});
  return it == queues_.end() ? nullptr : it->second;
}

Result<void> MessageStore::check_writable() const {
  if (failed_.load()) {
    return Error::fatal(ErrorCode::kIoError, "store refuses writes after a failed fsync");
  }
  if (closed_) return Error(ErrorCode::kCancelled, "store is closed");
  return {};
}

Result<PutResult> MessageStore::put_message(std::span<char> record, bool body_crc_computed) {
  std::span<char> one[1] = {record};
  RMQC_ASSIGN_OR_RETURN(auto results, put_messages(one, body_crc_computed));
  return results.front();
}

Result<std::vector<PutResult>> MessageStore::put_messages(std::span<const std::span<char>> records,
                                                          bool body_crc_computed) {
  if (records.empty()) return std::vector<PutResult>();
  struct Placed {
    ConsumeQueue* cq;  // held by `queues` below (delete_topic may race once unlocked)
    int64_t max_offset;
    int64_t tags_code;
  };
  std::vector<Placed> placed;
  placed.reserve(records.size());
  std::vector<PutResult> results;
  results.reserve(records.size());
  std::vector<std::shared_ptr<ConsumeQueue>> queues;  // each distinct queue of the batch, once
  // Readers and parked pulls hear of each run of one queue and tags code once, with its last
  // offset: what waking per message would wake, at a fraction of the calls.
  auto for_each_arrival = [&placed](auto&& fn) {
    for (size_t i = 0; i < placed.size(); ++i) {
      if (i + 1 < placed.size() && placed[i + 1].cq == placed[i].cq &&
          placed[i + 1].tags_code == placed[i].tags_code) {
        continue;
      }
      fn(placed[i]);
    }
  };
  int64_t end = 0;
  Result<void> failure;
  {
    std::lock_guard lock(write_mu_);
    RMQC_RETURN_IF_ERROR(check_writable());
    // Check every record before writing any, so a bad one never leaves half a batch behind.
    struct Checked {
      ConsumeQueue* cq;
      int64_t tags_code;
      std::string_view topic;  // views into the record, for the index
      std::string_view uniq_key;
      std::string_view keys;
      int32_t sys_flag;
    };
    std::vector<Checked> checked;
    checked.reserve(records.size());
    int64_t bytes = 0;
    std::string_view last_topic;
    int32_t last_queue_id = -1;
    ConsumeQueue* last_cq = nullptr;
    for (const auto& r : records) {
      auto m = rocketmq::decode_stored_message(std::string_view(r.data(), r.size()));
      if (!m.ok()) {
        return Error(ErrorCode::kInvalidArgument, "malformed record: " + m.error().message());
      }
      if (static_cast<size_t>(load_be32(reinterpret_cast<const uint8_t*>(r.data()))) != r.size()) {
        return Error(ErrorCode::kInvalidArgument, "record TOTALSIZE differs from its length");
      }
      if (r.size() > static_cast<size_t>(config_.max_message_bytes)) {
        return Error(ErrorCode::kResourceExhausted, "message of " + std::to_string(r.size()) +
                                                        " bytes exceeds the limit of " +
                                                        std::to_string(config_.max_message_bytes));
      }
      if (config_.verify_crc_on_put && !body_crc_computed &&
          rocketmq::body_crc32(m->body) != m->body_crc) {
        return Error(ErrorCode::kInvalidArgument, "record BODYCRC does not match its body");
      }
      // A batch's records share their topic and queue: checked and looked up once.
      if (last_cq == nullptr || m->queue_id != last_queue_id || m->topic != last_topic) {
        if (!valid_topic(m->topic)) {
          return Error(ErrorCode::kInvalidArgument,
                       "invalid topic name '" + std::string(m->topic) + "'");
        }
        if (m->queue_id < 0) return Error(ErrorCode::kInvalidArgument, "negative queue id");
        RMQC_ASSIGN_OR_RETURN(auto cq, queue_for_write(m->topic, m->queue_id));
        last_cq = cq.get();
        if (std::find(queues.begin(), queues.end(), cq) == queues.end()) {
          queues.push_back(std::move(cq));
        }
        last_topic = m->topic;
        last_queue_id = m->queue_id;
      }
      // One pass over the properties for the queue's tags code and the index's keys (the last
      // value of each name wins, as Java's map).
      std::string_view tags, uniq, keys;
      rocketmq::for_each_property(m->properties, [&](std::string_view name, std::string_view v) {
        if (name == rocketmq::property::TAGS) {
          tags = v;
        } else if (name == rocketmq::property::UNIQ_KEY) {
          uniq = v;
        } else if (name == rocketmq::property::KEYS) {
          keys = v;
        }
      });
      checked.push_back(
          {last_cq, tags.empty() ? 0 : tags_code(tags), m->topic, uniq, keys, m->sys_flag});
      bytes += static_cast<int64_t>(r.size()) + kCqEntryBytes;
    }
    if (config_.max_store_bytes > 0 && disk_bytes() + bytes > config_.max_store_bytes) {
      return Error(ErrorCode::kResourceExhausted,
                   "store is full: " + std::to_string(disk_bytes()) + " of " +
                       std::to_string(config_.max_store_bytes) + " bytes used",
                   /*retriable=*/true);
    }

    // Consume-queue entries are collected in runs (consecutive offsets of one queue) and each run
    // is written with one write. They are written before the log commit that makes their records
    // durable, so a record that reached the log always has its entry (the rollback below relies
    // on it): before begin_entry or add_entry commit queued records, and before the last commit.
    struct Run {
      ConsumeQueue* cq;
      int64_t first;
      size_t begin;
      size_t count;
    };
    std::vector<CqEntry> entries;
    entries.reserve(records.size());
    std::vector<Run> runs;
    auto write_runs = [&]() -> Result<void> {
      for (const Run& run : runs) {
        RMQC_RETURN_IF_ERROR(
            run.cq->put_run(run.first, std::span(entries).subspan(run.begin, run.count)));
      }
      runs.clear();
      entries.clear();
      return {};
    };
    const int64_t store_ts = now_ms();
    for (size_t i = 0; i < records.size(); ++i) {
      std::span<char> r = records[i];
      ConsumeQueue* cq = checked[i].cq;
      const auto size = static_cast<int32_t>(r.size());
      if (log_->begin_entry_commits(size)) {
        failure = write_runs();
        if (!failure.ok()) break;
      }
      auto phys = log_->begin_entry(size);
      if (!phys.ok()) {
        failure = std::move(phys).error();
        break;
      }
      // The queue's next offset: after its entries staged in this batch, if any.
      int64_t qoff = -1;
      for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        if (run->cq == cq) {
          qoff = run->first + static_cast<int64_t>(run->count);
          break;
        }
      }
      if (qoff < 0) qoff = cq->next_offset();
      rocketmq::patch_queue_offset(r, qoff);
      rocketmq::patch_physical_offset(r, *phys);
      rocketmq::patch_store_timestamp(r, store_ts);
      if (!runs.empty() && runs.back().cq == cq &&
          runs.back().first + static_cast<int64_t>(runs.back().count) == qoff) {
        ++runs.back().count;
      } else {
        runs.push_back({cq, qoff, entries.size(), 1});
      }
      entries.push_back(CqEntry{*phys, size, checked[i].tags_code});
      placed.push_back({cq, qoff + 1, checked[i].tags_code});
      results.push_back({qoff, *phys, store_ts, size});
      if (log_->add_entry_commits()) {
        failure = write_runs();
        if (!failure.ok()) break;
      }
      // Its bytes may be queued even on an error: the rollback below decides by offset.
      failure = log_->add_entry(r.data(), r.size());
      if (!failure.ok()) break;
    }
    if (failure.ok()) failure = write_runs();
    if (failure.ok()) failure = log_->commit();
    end = log_->max_offset();
    if (!failure.ok()) {
      log_->abort_staged();
      // Keep what reached the log (recovery would find it anyway); forget the rest.
      size_t keep = 0;
      while (keep < results.size() && results[keep].physical_offset + results[keep].size <= end) {
        ++keep;
      }
      for (size_t i = results.size(); i-- > keep;) {
        (void)placed[i].cq->truncate(results[i].queue_offset);
      }
      results.resize(keep);
      placed.resize(keep);
    }
    for (size_t i = 0; i < results.size(); ++i) {  // message index (buffered, no I/O)
      const Checked& c = checked[i];
      index_->add_keys(c.topic, c.uniq_key, c.keys, c.sys_flag, store_ts,
                       results[i].physical_offset, results[i].physical_offset + results[i].size);
    }
    dispatched_end_.store(end, std::memory_order_release);
    cq_bytes_ += static_cast<int64_t>(results.size()) * kCqEntryBytes;
    if (config_.flush_mode == FlushMode::kAsync) {
      for_each_arrival([](const Placed& p) { p.cq->publish(p.max_offset); });
    }
  }
  if (config_.flush_mode == FlushMode::kSync && !results.empty()) {
    auto synced = log_->sync_to(end);
    if (!synced.ok()) {
      rmqc::logger("broker")->error("store: fsync failed, refusing further writes: {}",
                                    synced.error().to_string());
      failed_ = true;
    }
    if (failed_.load()) {
      return Error::fatal(ErrorCode::kIoError, "commit log fsync failed; the store is read-only");
    }
    for_each_arrival([](const Placed& p) { p.cq->publish(p.max_offset); });
  }
  if (listener_) {
    for_each_arrival([this](const Placed& p) {
      listener_(p.cq->topic(), p.cq->queue_id(), p.max_offset, p.tags_code);
    });
  }
  if (!failure.ok()) return std::move(failure).error();
  return results;
}

Result<GetResult> MessageStore::get_messages(std::string_view topic, int32_t queue_id,
                                             int64_t offset, int32_t max_count, int64_t max_bytes,
                                             const TagFilter* filter) const {
  GetResult r;
  auto cq = find_queue(topic, queue_id);
  if (!cq) {
    r.status = GetStatus::kNoMessageInQueue;
    return r;
  }
  r.min_offset = cq->min_offset();
  r.max_offset = cq->max_offset();
  if (r.max_offset == 0) {
    r.status = GetStatus::kNoMessageInQueue;
    r.next_begin_offset = 0;
  } else if (offset < r.min_offset) {
    r.status = GetStatus::kOffsetTooSmall;
    r.next_begin_offset = r.min_offset;
  } else if (offset == r.max_offset) {
    r.status = GetStatus::kOffsetOverflowOne;
    r.next_begin_offset = offset;
  } else if (offset > r.max_offset) {
    r.status = GetStatus::kOffsetOverflowBadly;
    r.next_begin_offset = r.max_offset;
  } else {
    const int64_t log_min = log_->min_offset();
    const int64_t scan_end = std::min(r.max_offset, offset + kMaxScannedEntries);
    bool filtered = false;
    int64_t i = offset;
    SegmentFile* last_pin = nullptr;
    for (; i < scan_end && static_cast<int32_t>(r.messages.size()) < max_count; ++i) {
      CqEntry e;
      if (!cq->read(i, &e) || e.phys_offset < log_min) continue;  // hole or aged out
      if (!r.messages.empty() && r.total_bytes + e.size > max_bytes) break;
      if (filter != nullptr && !filter->matches(e.tags_code)) {
        filtered = true;
        continue;
      }
      LogView view = log_->read(e.phys_offset, e.size);
      if (view.bytes.empty()) continue;  // deleted under us
      if (view.segment.get() != last_pin) {
        last_pin = view.segment.get();
        r.pins.push_back(std::move(view.segment));
      }
      r.messages.push_back({i, e.phys_offset, view.bytes});
      r.total_bytes += e.size;
    }
    r.next_begin_offset = i;
    r.status = !r.messages.empty() ? GetStatus::kFound
               : filtered          ? GetStatus::kNoMatchedMessage
                                   : GetStatus::kOffsetFoundNull;
  }
  return r;
}

int64_t MessageStore::min_offset(std::string_view topic, int32_t queue_id) const {
  auto cq = find_queue(topic, queue_id);
  return cq ? cq->min_offset() : 0;
}

int64_t MessageStore::max_offset(std::string_view topic, int32_t queue_id) const {
  auto cq = find_queue(topic, queue_id);
  return cq ? cq->max_offset() : 0;
}

int64_t MessageStore::store_timestamp_at(const ConsumeQueue& cq, int64_t offset) const {
  CqEntry e;
  if (!cq.read(offset, &e)) return -1;
  LogView view = log_->read(e.phys_offset, e.size);
  if (view.bytes.size() < layout::kMinRecordSize) return -1;
  return record_store_timestamp(view.bytes);
}

int64_t MessageStore::search_offset_by_timestamp(std::string_view topic, int32_t queue_id,
                                                 int64_t timestamp_ms) const {
  auto cq = find_queue(topic, queue_id);
  if (!cq) return 0;
  // First readable entry at or after min (entries whose message aged out are skipped).
  int64_t lo = cq->min_offset();
  const int64_t max = cq->max_offset();
  while (lo < max && store_timestamp_at(*cq, lo) < 0) ++lo;
  if (lo >= max) return max > 0 ? std::max<int64_t>(cq->min_offset(), max - 1) : 0;
  const int64_t first = lo;
  // Smallest offset in [first, max) with store time >= timestamp (binary search; store times
  // are non-decreasing along a queue because appends are serialized).
  int64_t hi = max;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    int64_t ts = store_timestamp_at(*cq, mid);
    if (ts >= 0 && ts < timestamp_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == first) return first;
  if (lo == max) return max - 1;
  const int64_t after = store_timestamp_at(*cq, lo);
  if (after == timestamp_ms) return lo;
  const int64_t before = store_timestamp_at(*cq, lo - 1);
  if (before < 0) return lo;
  return timestamp_ms - before <= after - timestamp_ms ? lo - 1 : lo;
}

int64_t MessageStore::earliest_message_store_time(std::string_view topic, int32_t queue_id) const {
  auto cq = find_queue(topic, queue_id);
  if (!cq) return -1;
  const int64_t max = cq->max_offset();
  for (int64_t i = cq->min_offset(); i < max; ++i) {
    const int64_t ts = store_timestamp_at(*cq, i);
    if (ts >= 0) return ts;
  }
  return -1;
}

Result<QueryMessageResult> MessageStore::query_messages(std::string_view topic,
                                                        std::string_view key, int32_t max_num,
                                                        int64_t begin_ms, int64_t end_ms) const {
  QueryMessageResult out;
  if (max_num <= 0 || key.empty()) return out;
  RMQC_ASSIGN_OR_RETURN(auto hits, index_->lookup(topic, key, begin_ms, end_ms,
                                                  static_cast<size_t>(max_num) * 2 + 16));
  out.index_last_update_timestamp = hits.last_update_timestamp;
  out.index_last_update_phys_offset = hits.last_update_phys_offset;
  // Index hits are candidates: keep the records that really carry the key (hash collisions,
  // records aged out or cut by recovery are dropped here).
  for (int64_t phys : hits.phys_offsets) {
    if (static_cast<int32_t>(out.found.messages.size()) >= max_num) break;
    auto view = log_->read_entry(phys);
    if (!view.ok()) continue;
    auto m = rocketmq::decode_stored_message(view->bytes);
    if (!m.ok() || m->topic != topic || m->store_timestamp < begin_ms ||
        m->store_timestamp > end_ms) {
      continue;
    }
    bool match = false;
    std::string_view v;
    if (rocketmq::find_property(m->properties, rocketmq::property::UNIQ_KEY, &v) && v == key) {
      match = true;
    } else if (rocketmq::find_property(m->properties, rocketmq::property::KEYS, &v)) {
      while (!match && !v.empty()) {
        auto sp = v.find(' ');
        match = v.substr(0, sp) == key;
        v = sp == std::string_view::npos ? std::string_view() : v.substr(sp + 1);
      }
    }
    if (!match) continue;
    out.found.messages.push_back({m->queue_offset, phys, view->bytes});
    out.found.total_bytes += static_cast<int64_t>(view->bytes.size());
    out.found.pins.push_back(std::move(view->segment));
  }
  out.found.status = out.found.messages.empty() ? GetStatus::kNoMessageInQueue : GetStatus::kFound;
  return out;
}

Result<LogView> MessageStore::read_message(int64_t physical_offset) const {
  return log_->read_entry(physical_offset);
}

int64_t MessageStore::disk_bytes() const {
  return log_->disk_bytes() + cq_bytes_.load(std::memory_order_relaxed);
}

std::vector<std::pair<std::string, int32_t>> MessageStore::queues() const {
  std::shared_lock lock(queues_mu_);
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(queues_.size());
  for (const auto& [key, cq] : queues_) out.emplace_back(key.topic, key.queue_id);
  return out;
}

Result<void> MessageStore::write_checkpoint(int64_t covered) {
  nlohmann::json doc{{"version", 1},
                     {"consumeQueueCovered", covered},
                     {"commitLogSegmentBytes", segment_bytes_},
                     {"consumeQueueSegmentEntries", cq_entries_}};
  return atomic_write_file(config_.dir + "/" + kCheckpointFile, doc.dump());
}

Result<void> MessageStore::flush_once() {
  std::lock_guard lock(flush_mu_);
  // Read before syncing: consume-queue entries of every record below it are already written.
  const int64_t dispatched = dispatched_end_.load(std::memory_order_acquire);
  auto synced = log_->sync_to(log_->max_offset());
  if (!synced.ok()) {
    failed_ = true;
    return synced;
  }
  std::vector<std::shared_ptr<ConsumeQueue>> cqs;
  {
    std::shared_lock qlock(queues_mu_);
    cqs.reserve(queues_.size());
    for (const auto& [key, cq] : queues_) cqs.push_back(cq);
  }
  for (const auto& cq : cqs) RMQC_RETURN_IF_ERROR(cq->sync());
  RMQC_RETURN_IF_ERROR(index_->flush(/*sync=*/true, log_->min_offset()));
  const int64_t covered = std::min(dispatched, log_->flushed_offset());
  if (covered != checkpoint_written_) {
    RMQC_RETURN_IF_ERROR(write_checkpoint(covered));
    checkpoint_written_ = covered;
  }
  return {};
}

Result<void> MessageStore::flush() {
  RMQC_RETURN_IF_ERROR(flush_once());
  return offsets_->persist();
}

Result<int> MessageStore::delete_expired_segments(int64_t now) {
  std::lock_guard retention_lock(retention_mu_);
  const int64_t age = config_.retention_age.count();
  RMQC_ASSIGN_OR_RETURN(int deleted, log_->delete_oldest([&](const SegmentFile& seg) {
    auto mtime = seg.mtime_ms();
    return mtime.ok() && *mtime + age < now;
  }));
  if (config_.retention_bytes > 0) {
    RMQC_ASSIGN_OR_RETURN(int by_size, log_->delete_oldest([&](const SegmentFile&) {
      return disk_bytes() > config_.retention_bytes;
    }));
    deleted += by_size;
  }
  if (deleted > 0) {
    std::vector<std::shared_ptr<ConsumeQueue>> cqs;
    {
      std::shared_lock qlock(queues_mu_);
      for (const auto& [key, cq] : queues_) cqs.push_back(cq);
    }
    int64_t cq_bytes = 0;
    for (const auto& cq : cqs) {
      RMQC_RETURN_IF_ERROR(cq->delete_before(log_->min_offset()));
      cq_bytes += cq->disk_bytes();
    }
    cq_bytes_ = cq_bytes;
    rmqc::logger("broker")->info("store: retention deleted {} commit log segments; min offset {}",
                                 deleted, log_->min_offset());
  }
  return deleted;
}

Result<void> MessageStore::delete_topic(std::string_view topic) {
  std::lock_guard lock(write_mu_);
  std::vector<std::shared_ptr<ConsumeQueue>> doomed;
  {
    std::unique_lock qlock(queues_mu_);
    for (auto it = queues_.begin(); it != queues_.end();) {
      if (it->first.topic == topic) {
        doomed.push_back(std::move(it->second));
        it = queues_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& cq : doomed) {
    cq_bytes_ -= cq->disk_bytes();
    RMQC_RETURN_IF_ERROR(cq->destroy());
  }
  std::error_code ec;
  std::filesystem::remove_all(config_.dir + "/consumequeue/" + std::string(topic), ec);
  return {};
}

void MessageStore::flusher_loop() {
  using Clock = std::chrono::steady_clock;
  auto last_offsets = Clock::now();
  auto last_retention = Clock::now();
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, config_.flush_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (auto r = flush_once(); !r.ok()) {
      rmqc::logger("broker")->error("store flush: {}", r.error().to_string());
    }
    const auto now = Clock::now();
    if (now - last_offsets >= kOffsetsPersistInterval) {
      last_offsets = now;
      if (auto r = offsets_->persist(); !r.ok()) {
        rmqc::logger("broker")->error("store: persisting consumer offsets: {}",
                                      r.error().to_string());
      }
    }
    if (config_.retention_check_interval.count() > 0 &&
        now - last_retention >= config_.retention_check_interval) {
      last_retention = now;
      if (auto r = delete_expired_segments(now_ms()); !r.ok()) {
        rmqc::logger("broker")->error("store retention: {}", r.error().to_string());
      }
    }
    lock.lock();
  }
}

Result<void> MessageStore::close() {
  {
    std::lock_guard lock(stop_mu_);
    if (closed_) return {};
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  {
    std::lock_guard lock(write_mu_);
    closed_ = true;
  }
  if (failed_.load()) return offsets_->persist();  // never checkpoint past a failed fsync
  RMQC_RETURN_IF_ERROR(flush_once());
  return offsets_->persist();
}

void MessageStore::close_without_flush_for_testing() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard lock(write_mu_);
  closed_ = true;
}

}  // namespace rmqc::broker
