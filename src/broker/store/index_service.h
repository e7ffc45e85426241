#pragma once

#include "rmqc/base/result.h"

#include "broker/store/segment_file.h"
#include "broker/store/store_config.h"
#include "rocketmq/protocol/message_codec.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// The message index behind QUERY_MESSAGE: every `KEYS` word and the `UNIQ_KEY` of every stored
// message, as `topic#key`, in files of hash slots and chained entries (RocketMQ's IndexFile
// idea, our own layout). The store reports each appended record (add, under its write lock,
// no I/O: entries are buffered); flush() writes the buffered entries and the files' headers
// (the flusher does it every flush interval, queries do it first, so a query sees every
// acknowledged message). What the header says is covered is the restart point: recovery
// re-adds the commit-log records from covered() on, so after a crash the index again covers
// every record of the log. A hit is a candidate only: the store reads the record and checks
// topic, key and time (hash collisions and stale entries are dropped there).
class IndexService {
 public:
  static Result<std::unique_ptr<IndexService>> open(std::string dir, IndexConfig config = {});
  ~IndexService();
  IndexService(const IndexService&) = delete;
  IndexService& operator=(const IndexService&) = delete;

  // End of the last record whose keys are in the files (a commit-log offset; 0 for a new index).
  int64_t covered() const;

  // A record appended at `phys_offset` (decoded, `size` bytes in the log). Thread-safe; buffers
  // only.
  void add(const rocketmq::StoredMessageView& m, int64_t phys_offset, int64_t size);
  // The same when the caller already has the record's UNIQ_KEY and KEYS property values (last
  // value of each, empty if absent) and its place [phys_offset, end) in the log.
  void add_keys(std::string_view topic, std::string_view uniq_key, std::string_view keys,
                int32_t sys_flag, int64_t store_ts, int64_t phys_offset, int64_t end);

  // Writes the buffered entries; with `sync`, fdatasyncs the files written. Files whose every
  // entry lies below `log_min_offset` (aged out of the commit log) are deleted.
  Result<void> flush(bool sync, int64_t log_min_offset = 0);

  struct Hits {
    std::vector<int64_t> phys_offsets;    // newest first, no duplicates
    int64_t last_update_timestamp = 0;    // store time of the newest indexed record
    int64_t last_update_phys_offset = 0;  // its commit-log offset
  };
  // Candidates for `key` in `topic` stored within [begin_ms, end_ms], at most max_candidates.
  Result<Hits> lookup(std::string_view topic, std::string_view key, int64_t begin_ms,
                      int64_t end_ms, size_t max_candidates);

  // 32-bit FNV-1a of "topic#key" (stable across builds; stored in the entries).
  static uint32_t key_hash(std::string_view topic, std::string_view key);

 private:
  struct File;
  struct Pending {
    uint32_t hash;
    int64_t phys;
    int64_t store_ts;
  };

  IndexService(std::string dir, IndexConfig config);
  Result<void> load();
  Result<void> roll(int64_t first_phys);  // io_mu_
  Result<void> write_pending();           // io_mu_
  Result<void> write_batch(const std::vector<Pending>& batch, int64_t covered, int64_t last_phys,
                           int64_t last_ts);  // io_mu_
  int64_t file_bytes() const;

  const std::string dir_;
  const IndexConfig config_;

  // io_mu_: the files and writing them (flusher, queries); mu_: the buffer add() fills, held
  // only to append or swap it, so the store's appends never wait for index I/O.
  mutable std::mutex io_mu_;
  std::vector<std::unique_ptr<File>> files_;  // ascending; the last one takes new entries
  std::vector<Pending> spare_;                // the last written buffer, reused
  mutable std::mutex mu_;
  std::vector<Pending> pending_;
  int64_t pending_covered_ = 0;  // end of the last record added
  int64_t pending_last_phys_ = 0;
  int64_t pending_last_ts_ = 0;
};

}  // namespace rmqc::broker
