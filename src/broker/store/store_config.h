#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rmqc::broker {

enum class FlushMode {
  kAsync,  // a flusher thread fsyncs every flush_interval; a crash may lose the last interval
  kSync,  // put returns only after the bytes it wrote are fsynced (concurrent puts share one fsync)
};

// Size of the message index files (docs/formats/broker-store.md, "Message index").
struct IndexConfig {
  int32_t slots = 131'072;             // hash slots per file (512 KiB)
  int32_t entries_per_file = 1 << 20;  // entries per file (24 MiB, sparse until used)
};

struct StoreConfig {
  std::string dir;  // root: commitlog/, consumequeue/, checkpoint, *.json

  int64_t commit_log_segment_bytes = int64_t{1} << 30;  // 1 GiB, as RocketMQ
  int64_t consume_queue_segment_entries = 300'000;      // 6 MB files, as RocketMQ
  int32_t max_message_bytes = 4 * 1024 * 1024;          // one stored entry

  FlushMode flush_mode = FlushMode::kAsync;
  std::chrono::milliseconds flush_interval{
      500};  // ASYNC commit-log flush and consume-queue checkpoint

  std::chrono::milliseconds retention_age = std::chrono::hours(72);
  int64_t retention_bytes = 0;  // delete oldest segments while the store is larger; 0 = no limit
  int64_t max_store_bytes = 0;  // reject puts (kResourceExhausted) beyond this; 0 = no limit
  std::chrono::milliseconds retention_check_interval{10'000};  // 0 = only on explicit calls

  IndexConfig index;  // QUERY_MESSAGE's index of KEYS and UNIQ_KEY

  bool verify_crc_on_put = true;  // an entry that would fail recovery must never be written
};

}  // namespace rmqc::broker
