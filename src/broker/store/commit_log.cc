#include "broker/store/commit_log.h"

#include "base/logging.h"
#include "broker/store/byte_order.h"
#include "broker/store/file_util.h"

#include <climits>
#include <cstdio>

namespace rmqc::broker {

namespace {

namespace layout = rocketmq::stored_layout;

enum class Slot { kEntry, kBlank, kEnd, kBad };

// What sits at `pos` of a segment holding `file_size` bytes. For kEntry, *view and *total are set.
Slot inspect(const SegmentFile& seg, int64_t pos, int64_t file_size, bool check_crc,
             rocketmq::StoredMessageView* view, int32_t* total) {
  const int64_t cap = seg.capacity();
  if (pos == file_size || pos + kBlankBytes > cap) return Slot::kEnd;
  if (pos + kBlankBytes > file_size) return Slot::kBad;  // a few torn bytes
  const uint8_t* p = seg.data() + pos;
  const auto size = static_cast<int32_t>(load_be32(p));
  const auto magic = static_cast<int32_t>(load_be32(p + 4));
  if (size == 0 && magic == 0) return Slot::kEnd;  // extended but never written
  if (magic == rocketmq::kBlankMagic) {
    return size == cap - pos ? Slot::kBlank : Slot::kBad;
  }
  if (magic != rocketmq::kMessageMagicV1 && magic != rocketmq::kMessageMagicV2) return Slot::kBad;
  if (size < static_cast<int32_t>(layout::kMinRecordSize) || pos + size + kBlankBytes > cap ||
      pos + size > file_size) {
    return Slot::kBad;
  }
  auto decoded = rocketmq::decode_stored_message(
      {reinterpret_cast<const char*>(p), static_cast<size_t>(size)});
  if (!decoded.ok()) return Slot::kBad;
  if (decoded->physical_offset != seg.base_offset() + pos) return Slot::kBad;  // stale bytes
  if (check_crc && rocketmq::body_crc32(decoded->body) != decoded->body_crc) return Slot::kBad;
  if (view != nullptr) *view = *decoded;
  if (total != nullptr) *total = size;
  return Slot::kEntry;
}

}  // namespace

Result<std::unique_ptr<CommitLog>> CommitLog::open(std::string dir, int64_t segment_bytes) {
  if (segment_bytes < 4096) {
    return Error(ErrorCode::kInvalidConfig, "commit log segment must be at least 4096 bytes");
  }
  std::unique_ptr<CommitLog> log(new CommitLog(std::move(dir), segment_bytes));
  RMQC_RETURN_IF_ERROR(make_dirs(log->dir_));
  RMQC_ASSIGN_OR_RETURN(auto files, list_segment_files(log->dir_));
  for (const auto& f : files) {
    const bool contiguous =
        log->segments_.empty()
            ? f.base_offset % segment_bytes == 0
            : f.base_offset == log->segments_.back()->base_offset() + segment_bytes;
    if (!contiguous) {
      // A gap: what follows cannot be reached in order. Keep it aside for an operator.
      rmqc::logger("broker")->error(
          "commit log: {} does not follow the previous segment; moved "
          "aside as .dropped",
          f.path);
      std::rename(f.path.c_str(), (f.path + ".dropped").c_str());
      continue;
    }
    RMQC_ASSIGN_OR_RETURN(auto seg, SegmentFile::open(f.path, f.base_offset, segment_bytes, false));
    log->segments_.push_back(std::move(seg));
  }
  const int64_t min = log->segments_.empty() ? 0 : log->segments_.front()->base_offset();
  log->min_offset_.store(min);
  log->written_.store(min);
  log->flushed_.store(min);
  log->staged_end_ = min;
  return log;
}

std::shared_ptr<SegmentFile> CommitLog::segment_for(int64_t offset) const {
  std::shared_lock lock(mu_);
  if (segments_.empty() || offset < segments_.front()->base_offset()) return nullptr;
  const auto idx =
      static_cast<size_t>((offset - segments_.front()->base_offset()) / segment_bytes_);
  return idx < segments_.size() ? segments_[idx] : nullptr;
}

bool CommitLog::is_entry_boundary(int64_t offset) const {
  std::shared_ptr<SegmentFile> seg;
  {
    std::shared_lock lock(mu_);
    if (segments_.empty()) return offset == 0;
    const int64_t end = segments_.back()->base_offset() + segment_bytes_;
    if (offset == end) return true;
    if (offset < segments_.front()->base_offset() || offset > end) return false;
  }
  seg = segment_for(offset);
  auto size = seg->file_size();
  if (!size.ok()) return false;
  Slot slot =
      inspect(*seg, offset - seg->base_offset(), *size, /*check_crc=*/false, nullptr, nullptr);
  return slot != Slot::kBad;
}

Result<void> CommitLog::drop_segments_from(size_t index) {
  std::unique_lock lock(mu_);
  while (segments_.size() > index) {
    auto& seg = segments_.back();
    auto size = seg->file_size();
    if (size.ok() && *size == 0) {
      RMQC_RETURN_IF_ERROR(seg->unlink());
    } else {
      rmqc::logger("broker")->error("commit log: dropping {} after a bad entry; moved aside",
                                    seg->path());
      if (std::rename(seg->path().c_str(), (seg->path() + ".dropped").c_str()) != 0) {
        return errno_error("rename", seg->path(), errno);
      }
    }
    segments_.pop_back();
  }
  dir_dirty_ = true;
  return {};
}

Result<int64_t> CommitLog::recover(int64_t from, const EntryFn& on_entry) {
  if (segments_.empty()) {
    active_ = nullptr;
    return written_.load();
  }
  const int64_t first = segments_.front()->base_offset();
  if (from < first || from > segments_.back()->base_offset() + segment_bytes_) from = first;
  size_t idx = static_cast<size_t>((from - first) / segment_bytes_);
  int64_t pos = from - segments_[std::min(idx, segments_.size() - 1)]->base_offset();
  int64_t end = from;
  if (idx == segments_.size()) {  // from is the end of the last (full) segment
    active_ = nullptr;
  }
  for (; idx < segments_.size(); ++idx, pos = 0) {
    auto seg = segments_[idx];
    RMQC_ASSIGN_OR_RETURN(int64_t file_size, seg->file_size());
    Slot slot;
    for (;;) {
      rocketmq::StoredMessageView view;
      int32_t total = 0;
      slot = inspect(*seg, pos, file_size, /*check_crc=*/true, &view, &total);
      if (slot != Slot::kEntry) break;
      RMQC_RETURN_IF_ERROR(on_entry(view, seg->base_offset() + pos, total));
      pos += total;
    }
    if (slot == Slot::kBlank && idx + 1 < segments_.size()) continue;
    if (slot == Slot::kBlank) {  // last segment is full: the next write opens a new one
      end = seg->base_offset() + segment_bytes_;
      active_ = nullptr;
      break;
    }
    end = seg->base_offset() + pos;
    if (pos < file_size) {
      rmqc::logger("broker")->warn(
          "commit log: {} has a torn or corrupt entry at byte {} ({} bytes after it); truncating",
          seg->path(), pos, file_size - pos);
      RMQC_RETURN_IF_ERROR(seg->truncate(pos));
      RMQC_RETURN_IF_ERROR(seg->sync());
    }
    RMQC_RETURN_IF_ERROR(drop_segments_from(idx + 1));
    active_ = seg;
    break;
  }
  // What survived a process crash may still be only in the page cache: make it durable before
  // anything new is acknowledged on top of it.
  {
    std::shared_lock lock(mu_);
    for (const auto& s : segments_) {
      if (s->base_offset() + segment_bytes_ > from) RMQC_RETURN_IF_ERROR(s->sync());
    }
  }
  RMQC_RETURN_IF_ERROR(fsync_dir(dir_));
  written_.store(end);
  flushed_.store(end);
  staged_end_ = end;
  return end;
}

Result<void> CommitLog::roll() {
  const int64_t base = active_ ? active_->base_offset() + segment_bytes_ : written_.load();
  RMQC_ASSIGN_OR_RETURN(auto seg, SegmentFile::open(dir_ + "/" + segment_file_name(base), base,
                                                    segment_bytes_, /*create=*/true));
  {
    std::unique_lock lock(mu_);
    if (segments_.empty()) min_offset_.store(base);
    segments_.push_back(seg);
  }
  dir_dirty_ = true;
  active_ = std::move(seg);
  return {};
}

Result<int64_t> CommitLog::begin_entry(int32_t size) {
  if (size + kBlankBytes > segment_bytes_) {
    return Error(ErrorCode::kResourceExhausted,
                 "message of " + std::to_string(size) + " bytes does not fit a commit log segment");
  }
  // One definition of when queued entries get written, shared with the callers that must write
  // something first (MessageStore's consume-queue runs).
  if (!begin_entry_commits(size)) return staged_end_;
  RMQC_RETURN_IF_ERROR(commit());
  if (active_) {
    const int64_t pos = written_.load() - active_->base_offset();
    uint8_t blank[kBlankBytes];
    store_be32(blank, static_cast<uint32_t>(segment_bytes_ - pos));
    store_be32(blank + 4, static_cast<uint32_t>(rocketmq::kBlankMagic));
    RMQC_RETURN_IF_ERROR(active_->write_at(pos, blank, sizeof(blank)));
    written_.store(active_->base_offset() + segment_bytes_, std::memory_order_release);
    staged_end_ = written_.load();
  }
  RMQC_RETURN_IF_ERROR(roll());
  return staged_end_;
}

Result<void> CommitLog::add_entry(const char* data, size_t size) {
  const bool commits = add_entry_commits();
  iov_.push_back({const_cast<char*>(data), size});
  iov_bytes_ += size;
  staged_end_ += static_cast<int64_t>(size);
  if (commits) return commit();
  return {};
}

Result<void> CommitLog::commit() {
  if (iov_.empty()) return {};
  const int64_t pos = written_.load() - active_->base_offset();
  auto written = active_->writev_at(pos, iov_.data(), static_cast<int>(iov_.size()), iov_bytes_);
  iov_.clear();
  iov_bytes_ = 0;
  if (!written.ok()) {
    (void)active_->truncate(pos);  // best effort: give back a partial write's blocks
    staged_end_ = written_.load();
    return written;
  }
  written_.store(staged_end_, std::memory_order_release);
  return {};
}

void CommitLog::abort_staged() {
  iov_.clear();
  iov_bytes_ = 0;
  staged_end_ = written_.load();
}

Result<void> CommitLog::sync_to(int64_t offset) {
  if (flushed_.load(std::memory_order_acquire) >= offset) return {};
  std::lock_guard lock(sync_mu_);
  const int64_t from = flushed_.load();
  if (from >= offset) return {};  // the fsync we waited for covered us (group commit)
  const int64_t target = written_.load(std::memory_order_acquire);
  std::vector<std::shared_ptr<SegmentFile>> dirty;
  {
    std::shared_lock seg_lock(mu_);
    for (const auto& s : segments_) {
      if (s->base_offset() < target && s->base_offset() + segment_bytes_ > from) dirty.push_back(s);
    }
  }
  for (const auto& s : dirty) RMQC_RETURN_IF_ERROR(s->sync());
  if (dir_dirty_.exchange(false)) {
    auto synced = fsync_dir(dir_);
    if (!synced.ok()) {
      dir_dirty_ = true;
      return synced;
    }
  }
  flushed_.store(target, std::memory_order_release);
  return {};
}

LogView CommitLog::read(int64_t offset, int32_t size) const {
  if (offset < min_offset() || offset + size > max_offset()) return {};
  auto seg = segment_for(offset);
  if (!seg || offset + size > seg->base_offset() + segment_bytes_) return {};
  const char* p = reinterpret_cast<const char*>(seg->data()) + (offset - seg->base_offset());
  return {std::move(seg), std::string_view(p, static_cast<size_t>(size))};
}

Result<LogView> CommitLog::read_entry(int64_t offset) const {
  const int64_t end = max_offset();
  auto seg = segment_for(offset);
  if (!seg || offset < min_offset() || offset + kBlankBytes > end) {
    return Error(ErrorCode::kNotFound, "no message at commit log offset " + std::to_string(offset));
  }
  const int64_t pos = offset - seg->base_offset();
  const int64_t visible = std::min(end - seg->base_offset(), segment_bytes_);
  int32_t total = 0;
  if (inspect(*seg, pos, visible, /*check_crc=*/false, nullptr, &total) != Slot::kEntry) {
    return Error(ErrorCode::kNotFound, "no message at commit log offset " + std::to_string(offset));
  }
  const char* p = reinterpret_cast<const char*>(seg->data()) + pos;
  return LogView{std::move(seg), std::string_view(p, static_cast<size_t>(total))};
}

Result<int> CommitLog::delete_oldest(const std::function<bool(const SegmentFile&)>& doomed) {
  int deleted = 0;
  for (;;) {
    std::shared_ptr<SegmentFile> front;
    {
      std::shared_lock lock(mu_);
      if (segments_.size() <= 1) break;  // the last segment is (or precedes) the active one
      front = segments_.front();
    }
    if (!doomed(*front)) break;
    {
      std::unique_lock lock(mu_);
      segments_.erase(segments_.begin());
      min_offset_.store(segments_.front()->base_offset(), std::memory_order_release);
    }
    RMQC_RETURN_IF_ERROR(front->unlink());
    ++deleted;
  }
  return deleted;
}

}  // namespace rmqc::broker
