#pragma once

#include "rmqc/base/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::broker {

// Committed consumer offsets (group, topic, queueId) -> next offset to consume, persisted as
// RocketMQ's consumerOffset.json ({"offsetTable":{"<topic>@<group>":{"<queueId>":offset}}}).
// Commits only touch memory; persist() (the store's flusher calls it periodically and on close)
// writes the file atomically when something changed. Thread-safe.
class ConsumerOffsets {
 public:
  // Loads `path` if it exists; a corrupt file is an error (kDataLoss), never silently reset.
  static Result<std::unique_ptr<ConsumerOffsets>> open(std::string path);

  // Stored verbatim, -1 and values beyond maxOffset included (as the Java broker does).
  void commit(std::string_view group, std::string_view topic, int32_t queue_id, int64_t offset);
  std::optional<int64_t> query(std::string_view group, std::string_view topic,
                               int32_t queue_id) const;
  // queueId -> offset for one group and topic.
  std::map<int32_t, int64_t> query_all(std::string_view group, std::string_view topic) const;
  void remove_group(std::string_view group);
  // (topic, group) of every committed offset table (GET_CONSUME_STATS, QUERY_TOPIC_CONSUME_BY_WHO).
  std::vector<std::pair<std::string, std::string>> topic_groups() const;
  void remove_topic(std::string_view topic);

  Result<void> persist();  // no-op when nothing changed
  std::string to_json() const;

 private:
  explicit ConsumerOffsets(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<int32_t, int64_t>, std::less<>> table_;  // "topic@group"
  uint64_t version_ = 0;                                                  // bumped by every change
  uint64_t persisted_version_ = 0;                                        // version_ last written
  std::mutex persist_mu_;  // one writer of the file at a time
};

}  // namespace rmqc::broker
