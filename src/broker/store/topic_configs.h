#pragma once

#include "rmqc/base/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// RocketMQ PermName bits.
inline constexpr int32_t kPermInherit = 1;
inline constexpr int32_t kPermWrite = 2;
inline constexpr int32_t kPermRead = 4;

struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 4;
  int32_t write_queue_nums = 4;
  int32_t perm = kPermRead | kPermWrite;
  int32_t topic_sys_flag = 0;
  bool order = false;

  bool operator==(const TopicConfig&) const = default;
};

// RocketMQ's DataVersion: bumped on every topic change, sent with broker registrations.
struct DataVersion {
  int64_t timestamp = 0;
  int64_t counter = 0;
};

// Topic configs persisted as RocketMQ's topics.json ({"topicConfigTable":{...},"dataVersion":
// {...}}). Every change is written atomically before the call returns (changes are rare and a
// created topic must survive a crash). Thread-safe.
class TopicConfigs {
 public:
  static Result<std::unique_ptr<TopicConfigs>> open(std::string path);

  Result<void> put(const TopicConfig& config);  // create or update
  Result<void> remove(std::string_view topic);  // kNotFound if absent
  std::optional<TopicConfig> get(std::string_view topic) const;
  std::vector<TopicConfig> list() const;
  DataVersion data_version() const;

 private:
  explicit TopicConfigs(std::string path) : path_(std::move(path)) {}
  Result<void> persist_locked();

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, TopicConfig, std::less<>> table_;
  DataVersion version_;
};

}  // namespace rmqc::broker
