#include "broker/store/consume_queue.h"

#include "base/logging.h"
#include "broker/store/byte_order.h"
#include "broker/store/file_util.h"

#include <algorithm>
#include <filesystem>
#include <mutex>

namespace rmqc::broker {

Result<std::unique_ptr<ConsumeQueue>> ConsumeQueue::open(std::string dir, std::string topic,
                                                         int32_t queue_id,
                                                         int64_t entries_per_segment) {
  std::unique_ptr<ConsumeQueue> cq(
      new ConsumeQueue(std::move(dir), std::move(topic), queue_id, entries_per_segment));
  const int64_t capacity = entries_per_segment * kCqEntryBytes;
  RMQC_ASSIGN_OR_RETURN(auto files, list_segment_files(cq->dir_));
  int64_t next = 0;
  bool ended = false;  // a short file ends the queue: later files cannot be trusted
  for (const auto& f : files) {
    if (ended || f.base_offset % capacity != 0) {
      rmqc::logger("broker")->warn("consume queue: removing unexpected file {}", f.path);
      std::filesystem::remove(f.path);
      continue;
    }
    RMQC_ASSIGN_OR_RETURN(auto seg, SegmentFile::open(f.path, f.base_offset, capacity, false));
    RMQC_ASSIGN_OR_RETURN(int64_t size, seg->file_size());
    int64_t entries = std::min(size, capacity) / kCqEntryBytes;
    // Trailing zero entries are space the file system extended but we never wrote.
    while (entries > 0 && load_be32(seg->data() + (entries - 1) * kCqEntryBytes + 8) == 0) {
      --entries;
    }
    if (entries * kCqEntryBytes != size)
      RMQC_RETURN_IF_ERROR(seg->truncate(entries * kCqEntryBytes));
    if (!cq->segments_.empty() && f.base_offset != cq->segments_.back()->base_offset() + capacity) {
      // A gap between files: keep the earlier part only.
      rmqc::logger("broker")->warn("consume queue: gap before {}, dropping the rest", f.path);
      RMQC_RETURN_IF_ERROR(seg->unlink());
      ended = true;
      continue;
    }
    next = f.base_offset / kCqEntryBytes + entries;
    cq->segments_.push_back(std::move(seg));
    if (entries < entries_per_segment) ended = true;
  }
  const int64_t min =
      cq->segments_.empty() ? 0 : cq->segments_.front()->base_offset() / kCqEntryBytes;
  cq->min_offset_.store(std::min(min, next));
  cq->max_offset_.store(next);
  cq->next_offset_.store(next);
  cq->synced_offset_.store(next);
  return cq;
}

std::shared_ptr<SegmentFile> ConsumeQueue::segment_for(int64_t offset) const {
  const int64_t byte = offset * kCqEntryBytes;
  std::shared_lock lock(mu_);
  auto it = std::upper_bound(segments_.begin(), segments_.end(), byte,
                             [](int64_t b, const auto& s) { return b < s->base_offset(); });
  if (it == segments_.begin()) return nullptr;
  --it;
  if (byte >= (*it)->base_offset() + (*it)->capacity()) return nullptr;
  return *it;
}

Result<std::shared_ptr<SegmentFile>> ConsumeQueue::writable_segment_for(int64_t offset) {
  if (auto seg = segment_for(offset)) return seg;
  const int64_t capacity = per_segment_ * kCqEntryBytes;
  const int64_t base = offset * kCqEntryBytes / capacity * capacity;
  RMQC_RETURN_IF_ERROR(make_dirs(dir_));
  RMQC_ASSIGN_OR_RETURN(
      auto seg, SegmentFile::open(dir_ + "/" + segment_file_name(base), base, capacity, true));
  std::unique_lock lock(mu_);
  auto it = std::upper_bound(segments_.begin(), segments_.end(), base,
                             [](int64_t b, const auto& s) { return b < s->base_offset(); });
  segments_.insert(it, seg);
  dir_dirty_ = true;
  return seg;
}

Result<void> ConsumeQueue::put(int64_t queue_offset, const CqEntry& entry) {
  return put_run(queue_offset, std::span<const CqEntry>(&entry, 1));
}

Result<void> ConsumeQueue::put_run(int64_t queue_offset, std::span<const CqEntry> entries) {
  if (entries.empty()) return {};
  if (queue_offset < next_offset()) RMQC_RETURN_IF_ERROR(truncate(queue_offset));
  scratch_.resize(entries.size() * kCqEntryBytes);
  uint8_t* p = scratch_.data();
  for (const CqEntry& e : entries) {
    store_be64(p, static_cast<uint64_t>(e.phys_offset));
    store_be32(p + 8, static_cast<uint32_t>(e.size));
    store_be64(p + 12, static_cast<uint64_t>(e.tags_code));
    p += kCqEntryBytes;
  }
  size_t done = 0;
  while (done < entries.size()) {
    const int64_t offset = queue_offset + static_cast<int64_t>(done);
    RMQC_ASSIGN_OR_RETURN(auto seg, writable_segment_for(offset));
    const int64_t pos = offset * kCqEntryBytes - seg->base_offset();
    const auto n = std::min(entries.size() - done,
                            static_cast<size_t>((seg->capacity() - pos) / kCqEntryBytes));
    RMQC_RETURN_IF_ERROR(
        seg->write_at(pos, scratch_.data() + done * kCqEntryBytes, n * kCqEntryBytes));
    done += n;
    next_offset_.store(queue_offset + static_cast<int64_t>(done), std::memory_order_release);
  }
  return {};
}

void ConsumeQueue::publish(int64_t max_offset) {
  int64_t cur = max_offset_.load(std::memory_order_relaxed);
  while (cur < max_offset &&
         !max_offset_.compare_exchange_weak(cur, max_offset, std::memory_order_release)) {
  }
}

Result<void> ConsumeQueue::truncate(int64_t offset) {
  const int64_t byte = offset * kCqEntryBytes;
  std::unique_lock lock(mu_);
  while (!segments_.empty() && segments_.back()->base_offset() >= byte) {
    RMQC_RETURN_IF_ERROR(segments_.back()->unlink());
    segments_.pop_back();
  }
  if (!segments_.empty()) {
    auto& last = segments_.back();
    if (byte < last->base_offset() + last->capacity()) {
      RMQC_RETURN_IF_ERROR(last->truncate(byte - last->base_offset()));
    }
  }
  next_offset_.store(offset);
  if (max_offset_.load() > offset) max_offset_.store(offset);
  if (min_offset_.load() > offset) min_offset_.store(offset);
  if (synced_offset_.load() > offset) synced_offset_.store(offset);
  return {};
}

Result<void> ConsumeQueue::truncate_by_phys(int64_t redispatch_from, int64_t valid_end) {
  int64_t n = next_offset();
  const int64_t min = min_offset();
  CqEntry e;
  while (n > min) {
    if (read_raw(n - 1, &e) && e.size > 0 && e.phys_offset < redispatch_from &&
        e.phys_offset + e.size <= valid_end) {
      break;
    }
    --n;
  }
  if (n != next_offset()) RMQC_RETURN_IF_ERROR(truncate(n));
  return {};
}

Result<void> ConsumeQueue::sync() {
  const int64_t target = next_offset_.load(std::memory_order_acquire);
  const int64_t from = synced_offset_.load();
  if (target <= from) return {};
  std::vector<std::shared_ptr<SegmentFile>> dirty;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : segments_) {
      if (s->base_offset() + s->capacity() > from * kCqEntryBytes) dirty.push_back(s);
    }
  }
  for (const auto& s : dirty) RMQC_RETURN_IF_ERROR(s->sync());
  if (dir_dirty_.exchange(false)) {
    // The queue's directory, its topic directory and consumequeue/ may all be new.
    std::filesystem::path dir(dir_);
    for (int i = 0; i < 3 && !dir.empty(); ++i, dir = dir.parent_path()) {
      auto synced = fsync_dir(dir.string());
      if (!synced.ok()) {
        dir_dirty_ = true;
        return synced;
      }
    }
  }
  synced_offset_.store(target);
  return {};
}

bool ConsumeQueue::read_raw(int64_t offset, CqEntry* out) const {
  auto seg = segment_for(offset);
  if (!seg) return false;
  const uint8_t* p = seg->data() + (offset * kCqEntryBytes - seg->base_offset());
  out->phys_offset = static_cast<int64_t>(load_be64(p));
  out->size = static_cast<int32_t>(load_be32(p + 8));
  out->tags_code = static_cast<int64_t>(load_be64(p + 12));
  return true;
}

bool ConsumeQueue::read(int64_t offset, CqEntry* out) const {
  if (offset < min_offset() || offset >= max_offset()) return false;
  return read_raw(offset, out) && out->size > 0;
}

bool ConsumeQueue::last_entry(CqEntry* out) const {
  const int64_t n = next_offset();
  return n > min_offset() && read_raw(n - 1, out) && out->size > 0;
}

Result<void> ConsumeQueue::delete_before(int64_t commit_log_min) {
  int64_t min = min_offset();
  const int64_t max = max_offset();
  CqEntry e;
  // Linear: entries are ordered by phys offset, but holes (size 0) break a binary search, and
  // this runs once per deleted commit-log segment.
  while (min < max && (!read_raw(min, &e) || e.size <= 0 || e.phys_offset < commit_log_min)) {
    ++min;
  }
  if (min == min_offset()) return {};
  min_offset_.store(min, std::memory_order_release);
  const int64_t byte = min * kCqEntryBytes;
  std::vector<std::shared_ptr<SegmentFile>> doomed;
  {
    std::unique_lock lock(mu_);
    while (segments_.size() > 1 &&
           segments_.front()->base_offset() + segments_.front()->capacity() <= byte) {
      doomed.push_back(std::move(segments_.front()));
      segments_.erase(segments_.begin());
    }
  }
  for (const auto& s : doomed) RMQC_RETURN_IF_ERROR(s->unlink());
  return {};
}

int64_t ConsumeQueue::disk_bytes() const {
  std::shared_lock lock(mu_);
  if (segments_.empty()) return 0;
  return next_offset() * kCqEntryBytes - segments_.front()->base_offset();
}

Result<void> ConsumeQueue::destroy() {
  std::unique_lock lock(mu_);
  for (const auto& s : segments_) RMQC_RETURN_IF_ERROR(s->unlink());
  segments_.clear();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  return {};
}

}  // namespace rmqc::broker
