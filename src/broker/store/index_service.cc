#include "broker/store/index_service.h"

#include "base/logging.h"
#include "broker/store/byte_order.h"
#include "broker/store/file_util.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <unordered_set>

namespace rmqc::broker {

namespace {

// File layout (big-endian), docs/formats/broker-store.md "Message index".
constexpr uint32_t kIndexMagic = 0x524D5149;  // "RMQI"
constexpr uint32_t kIndexVersion = 1;
constexpr int64_t kHeaderBytes = 64;
constexpr int64_t kSlotBytes = 4;
constexpr int64_t kEntryBytes = 24;  // hash u32, prev u32, phys i64, store time i64

constexpr int kOffMagic = 0;
constexpr int kOffVersion = 4;
constexpr int kOffSlots = 8;
constexpr int kOffCapacity = 12;
constexpr int kOffCount = 16;
constexpr int kOffBeginTs = 24;
constexpr int kOffEndTs = 32;
constexpr int kOffBeginPhys = 40;
constexpr int kOffLastPhys = 48;
constexpr int kOffCovered = 56;

}  // namespace

struct IndexService::File {
  std::shared_ptr<SegmentFile> seg;
  uint32_t slots = 0;
  uint32_t capacity = 0;
  uint32_t count = 0;
  int64_t begin_ts = 0;
  int64_t end_ts = 0;
  int64_t begin_phys = 0;
  int64_t last_phys = 0;
  int64_t covered = 0;
  bool dirty = false;  // written since the last sync

  std::vector<uint32_t> slot_cache;  // newest file only, while it takes entries
  int64_t slot_pos(uint32_t hash) const { return slot_pos_of(hash % slots); }
  int64_t slot_pos_of(uint32_t slot) const { return kHeaderBytes + kSlotBytes * int64_t{slot}; }
  int64_t entry_pos(uint32_t number) const {  // numbers start at 1
    return kHeaderBytes + kSlotBytes * slots + kEntryBytes * (int64_t{number} - 1);
  }
  uint32_t load32(int64_t pos) const { return load_be32(seg->data() + pos); }
  int64_t load64(int64_t pos) const { return static_cast<int64_t>(load_be64(seg->data() + pos)); }

  Result<void> write_header() {
    uint8_t h[kHeaderBytes] = {};
    store_be32(h + kOffMagic, kIndexMagic);
    store_be32(h + kOffVersion, kIndexVersion);
    store_be32(h + kOffSlots, slots);
    store_be32(h + kOffCapacity, capacity);
    store_be32(h + kOffCount, count);
    store_be64(h + kOffBeginTs, static_cast<uint64_t>(begin_ts));
    store_be64(h + kOffEndTs, static_cast<uint64_t>(end_ts));
    store_be64(h + kOffBeginPhys, static_cast<uint64_t>(begin_phys));
    store_be64(h + kOffLastPhys, static_cast<uint64_t>(last_phys));
    store_be64(h + kOffCovered, static_cast<uint64_t>(covered));
    dirty = true;
    return seg->write_at(0, h, sizeof h);
  }
};

uint32_t IndexService::key_hash(std::string_view topic, std::string_view key) {
  // Word-at-a-time multiply-xorshift over topic, '#', key (stable across builds and hosts).
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x2545F4914F6CDD1Dull;
  auto mix = [&h](std::string_view s) {
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * kMul;
      h ^= h >> 29;
    }
    uint64_t tail = 0;
    for (size_t shift = 0; i < s.size(); ++i, shift += 8) {
      tail |= uint64_t{static_cast<unsigned char>(s[i])} << shift;
    }
    h = (h ^ tail ^ (uint64_t{s.size()} << 56)) * kMul;
    h ^= h >> 29;
  };
  mix(topic);
  mix(key);  // the length in each tail mix separates "a#bc" from "ab#c"
  h *= kMul;
  return static_cast<uint32_t>(h >> 32);
}

int64_t IndexService::file_bytes() const {
  return kHeaderBytes + kSlotBytes * config_.slots + kEntryBytes * config_.entries_per_file;
}

Result<std::unique_ptr<IndexService>> IndexService::open(std::string dir, IndexConfig config) {
  if (config.slots < 1 || config.entries_per_file < 1) {
    return Error(ErrorCode::kInvalidConfig, "index needs at least one slot and one entry per file");
  }
  RMQC_RETURN_IF_ERROR(make_dirs(dir));
  std::unique_ptr<IndexService> index(new IndexService(std::move(dir), config));
  RMQC_RETURN_IF_ERROR(index->load());
  return index;
}

IndexService::IndexService(std::string dir, IndexConfig config)
    : dir_(std::move(dir)), config_(config) {}

IndexService::~IndexService() = default;

Result<void> IndexService::load() {
  RMQC_ASSIGN_OR_RETURN(auto listed, list_segment_files(dir_));
  auto log = rmqc::logger("broker");
  for (const auto& info : listed) {
    RMQC_ASSIGN_OR_RETURN(auto size, [&]() -> Result<int64_t> {
      RMQC_ASSIGN_OR_RETURN(auto probe, SegmentFile::open(info.path, info.base_offset, kHeaderBytes,
                                                          /*create=*/false));
      return probe->file_size();
    }());
    if (size < kHeaderBytes) {
      log->warn("index: dropping {} (no header)", info.path);
      (void)std::remove(info.path.c_str());
      continue;
    }
    RMQC_ASSIGN_OR_RETURN(auto seg,
                          SegmentFile::open(info.path, info.base_offset, size, /*create=*/false));
    auto f = std::make_unique<File>();
    f->seg = seg;
    const uint8_t* h = seg->data();
    f->slots = load_be32(h + kOffSlots);
    f->capacity = load_be32(h + kOffCapacity);
    f->count = load_be32(h + kOffCount);
    const int64_t expected =
        kHeaderBytes + kSlotBytes * int64_t{f->slots} + kEntryBytes * int64_t{f->capacity};
    if (load_be32(h + kOffMagic) != kIndexMagic || load_be32(h + kOffVersion) != kIndexVersion ||
        f->slots == 0 || f->capacity == 0 || f->count > f->capacity || expected != size) {
      // Recovery re-adds from the previous file's coverage: nothing is lost by dropping it.
      log->warn("index: dropping {} (bad header)", info.path);
      f.reset();
      seg.reset();
      (void)std::remove(info.path.c_str());
      continue;
    }
    f->begin_ts = f->load64(kOffBeginTs);
    f->end_ts = f->load64(kOffEndTs);
    f->begin_phys = f->load64(kOffBeginPhys);
    f->last_phys = f->load64(kOffLastPhys);
    f->covered = f->load64(kOffCovered);
    files_.push_back(std::move(f));
  }
  // Later files start where earlier ones ended: a file after a dropped one would leave a gap.
  for (size_t i = 1; i < files_.size(); ++i) {
    if (files_[i]->begin_phys > files_[i - 1]->covered) {
      for (size_t j = files_.size(); j-- > i;) {
        (void)files_[j]->seg->unlink();
        files_.pop_back();
      }
      break;
    }
  }
  // Entries written after the header's count (a crash between the two): their slot heads are
  // unwound to the last counted entry; recovery adds those records again.
  if (!files_.empty()) {
    File& f = *files_.back();
    for (uint32_t s = 0; s < f.slots; ++s) {
      const int64_t pos = kHeaderBytes + kSlotBytes * int64_t{s};
      uint32_t head = f.load32(pos);
      const uint32_t original = head;
      while (head > f.count) {
        const uint32_t prev = f.load32(f.entry_pos(head) + 4);
        head = prev < head ? prev : 0;
      }
      if (head != original) {
        uint8_t b[4];
        store_be32(b, head);
        RMQC_RETURN_IF_ERROR(f.seg->write_at(pos, b, 4));
      }
    }
    pending_covered_ = f.covered;
    pending_last_phys_ = f.last_phys;
    pending_last_ts_ = f.end_ts;
  }
  return {};
}

int64_t IndexService::covered() const {
  std::lock_guard lock(io_mu_);
  return files_.empty() ? 0 : files_.back()->covered;
}

void IndexService::add(const rocketmq::StoredMessageView& m, int64_t phys_offset, int64_t size) {
  // One pass over the properties; the last value of each name wins, as Java's map.
  std::string_view uniq;
  std::string_view keys;
  rocketmq::for_each_property(m.properties, [&](std::string_view name, std::string_view value) {
    if (name == rocketmq::property::UNIQ_KEY) {
      uniq = value;
    } else if (name == rocketmq::property::KEYS) {
      keys = value;
    }
  });
  add_keys(m.topic, uniq, keys, m.sys_flag, m.store_timestamp, phys_offset, phys_offset + size);
}

void IndexService::add_keys(std::string_view topic, std::string_view uniq, std::string_view keys,
                            int32_t sys_flag, int64_t store_ts, int64_t phys_offset, int64_t end) {
  // Rolled-back transaction records are not indexed (as RocketMQ's IndexService).
  const bool rolled_back = (sys_flag & 0xC) == 0xC;
  uint32_t hashes[16];
  size_t n = 0;
  if (!rolled_back) {
    if (!uniq.empty()) hashes[n++] = key_hash(topic, uniq);
    while (!keys.empty() && n < std::size(hashes)) {
      auto sp = keys.find(' ');
      std::string_view k = keys.substr(0, sp);
      keys = sp == std::string_view::npos ? std::string_view() : keys.substr(sp + 1);
      if (!k.empty()) hashes[n++] = key_hash(topic, k);
    }
    // More than 15 KEYS words (rare): the rest still go in, through the slow path below.
    if (!keys.empty()) {
      std::lock_guard lock(mu_);
      while (!keys.empty()) {
        auto sp = keys.find(' ');
        std::string_view k = keys.substr(0, sp);
        keys = sp == std::string_view::npos ? std::string_view() : keys.substr(sp + 1);
        if (!k.empty()) pending_.push_back({key_hash(topic, k), phys_offset, store_ts});
      }
    }
  }
  std::lock_guard lock(mu_);
  pending_covered_ = std::max(pending_covered_, end);
  pending_last_phys_ = phys_offset;
  pending_last_ts_ = store_ts;
  for (size_t i = 0; i < n; ++i) pending_.push_back({hashes[i], phys_offset, store_ts});
}

Result<void> IndexService::roll(int64_t first_phys) {
  const std::string path = dir_ + "/" + segment_file_name(first_phys);
  RMQC_ASSIGN_OR_RETURN(auto seg,
                        SegmentFile::open(path, first_phys, file_bytes(), /*create=*/true));
  RMQC_RETURN_IF_ERROR(seg->truncate(file_bytes()));  // sparse: holes read as empty slots
  auto f = std::make_unique<File>();
  f->seg = std::move(seg);
  f->slots = static_cast<uint32_t>(config_.slots);
  f->capacity = static_cast<uint32_t>(config_.entries_per_file);
  f->begin_phys = first_phys;
  f->covered = files_.empty() ? first_phys : files_.back()->covered;
  f->last_phys = files_.empty() ? 0 : files_.back()->last_phys;
  RMQC_RETURN_IF_ERROR(f->write_header());
  RMQC_RETURN_IF_ERROR(fsync_dir(dir_));
  files_.push_back(std::move(f));
  return {};
}

Result<void> IndexService::write_pending() {
  std::vector<Pending> batch = std::move(spare_);  // keeps its capacity: no regrowth per flush
  batch.clear();
  int64_t covered = 0;
  int64_t last_phys = 0;
  int64_t last_ts = 0;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
    covered = pending_covered_;
    last_phys = pending_last_phys_;
    last_ts = pending_last_ts_;
  }
  if (batch.empty() && (files_.empty() ? 0 : files_.back()->covered) >= covered) return {};
  auto written = write_batch(batch, covered, last_phys, last_ts);
  if (!written.ok()) {
    // Keep the entries for the next attempt (a full disk may free up); the header was not
    // advanced past them, so a restart re-adds them anyway.
    std::lock_guard lock(mu_);
    batch.insert(batch.end(), pending_.begin(), pending_.end());
    pending_.swap(batch);
    return written;
  }
  batch.clear();
  spare_ = std::move(batch);
  return written;
}

Result<void> IndexService::write_batch(const std::vector<Pending>& batch, int64_t covered,
                                       int64_t last_phys, int64_t last_ts) {
  if (files_.empty()) RMQC_RETURN_IF_ERROR(roll(batch.empty() ? 0 : batch.front().phys));
  size_t i = 0;
  std::string run;  // entries contiguous in the current file, written with one pwrite
  std::vector<uint8_t> slot_bytes;
  while (i < batch.size()) {
    if (files_.back()->count >= files_.back()->capacity) {
      File& full = *files_.back();
      full.covered = batch[i].phys;  // every earlier record is in it (or in older files)
      RMQC_RETURN_IF_ERROR(full.write_header());
      full.slot_cache.clear();
      full.slot_cache.shrink_to_fit();
      RMQC_RETURN_IF_ERROR(roll(batch[i].phys));
    }
    File& f = *files_.back();
    if (f.slot_cache.empty()) {  // the newest file's slots, kept in memory while it fills
      f.slot_cache.resize(f.slots);
      for (uint32_t s = 0; s < f.slots; ++s) f.slot_cache[s] = f.load32(f.slot_pos_of(s));
    }
    const uint32_t first = f.count + 1;
    uint32_t lo = f.slots;
    uint32_t hi = 0;
    run.clear();
    for (; i < batch.size() && f.count < f.capacity; ++i) {
      const Pending& p = batch[i];
      const uint32_t slot = p.hash % f.slots;
      const uint32_t number = f.count + 1;
      uint8_t e[kEntryBytes];
      store_be32(e, p.hash);
      store_be32(e + 4, f.slot_cache[slot]);
      store_be64(e + 8, static_cast<uint64_t>(p.phys));
      store_be64(e + 16, static_cast<uint64_t>(p.store_ts));
      run.append(reinterpret_cast<const char*>(e), sizeof e);
      f.slot_cache[slot] = number;
      lo = std::min(lo, slot);
      hi = std::max(hi, slot);
      if (f.count == 0) f.begin_ts = p.store_ts;
      f.count = number;
      f.end_ts = std::max(f.end_ts, p.store_ts);
    }
    // The entries before the slots that point at them, both before the header counts them.
    RMQC_RETURN_IF_ERROR(f.seg->write_at(f.entry_pos(first), run.data(), run.size()));
    if (lo <= hi) {
      slot_bytes.resize(size_t{hi - lo + 1} * kSlotBytes);
      for (uint32_t s = lo; s <= hi; ++s)
        store_be32(&slot_bytes[(s - lo) * kSlotBytes], f.slot_cache[s]);
      RMQC_RETURN_IF_ERROR(
          f.seg->write_at(f.slot_pos_of(lo), slot_bytes.data(), slot_bytes.size()));
    }
  }
  File& last = *files_.back();
  last.covered = std::max(last.covered, covered);
  last.last_phys = last_phys;
  last.end_ts = std::max(last.end_ts, last_ts);
  return last.write_header();
}

Result<void> IndexService::flush(bool sync, int64_t log_min_offset) {
  std::lock_guard lock(io_mu_);
  RMQC_RETURN_IF_ERROR(write_pending());
  if (sync) {
    for (auto& f : files_) {
      if (!f->dirty) continue;
      RMQC_RETURN_IF_ERROR(f->seg->sync());
      f->dirty = false;
    }
  }
  while (files_.size() > 1 && files_.front()->covered <= log_min_offset) {
    RMQC_RETURN_IF_ERROR(files_.front()->seg->unlink());
    files_.erase(files_.begin());
  }
  return {};
}

Result<IndexService::Hits> IndexService::lookup(std::string_view topic, std::string_view key,
                                                int64_t begin_ms, int64_t end_ms,
                                                size_t max_candidates) {
  std::lock_guard lock(io_mu_);
  RMQC_RETURN_IF_ERROR(write_pending());
  Hits hits;
  if (files_.empty()) return hits;
  hits.last_update_timestamp = files_.back()->end_ts;
  hits.last_update_phys_offset = files_.back()->last_phys;
  const uint32_t hash = key_hash(topic, key);
  std::unordered_set<int64_t> seen;
  for (size_t i = files_.size(); i-- > 0 && hits.phys_offsets.size() < max_candidates;) {
    const File& f = *files_[i];
    if (f.count == 0 || f.begin_ts > end_ms || f.end_ts < begin_ms) continue;
    uint32_t n = f.load32(f.slot_pos(hash));
    while (n != 0 && n <= f.count && hits.phys_offsets.size() < max_candidates) {
      const int64_t pos = f.entry_pos(n);
      const uint32_t prev = f.load32(pos + 4);
      const int64_t ts = f.load64(pos + 16);
      if (f.load32(pos) == hash && ts >= begin_ms && ts <= end_ms) {
        const int64_t phys = f.load64(pos + 8);
        if (seen.insert(phys).second) hits.phys_offsets.push_back(phys);
      }
      if (prev >= n) break;  // chains only point back; anything else is damage
      n = prev;
    }
  }
  return hits;
}

}  // namespace rmqc::broker
