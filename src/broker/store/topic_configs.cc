#include "broker/store/topic_configs.h"

#include "broker/store/file_util.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace rmqc::broker {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<TopicConfigs>> TopicConfigs::open(std::string path) {
  std::unique_ptr<TopicConfigs> configs(new TopicConfigs(std::move(path)));
  auto content = read_file(configs->path_);
  if (!content.ok()) {
    if (content.error().code() == ErrorCode::kNotFound) return configs;
    return std::move(content).error();
  }
  try {
    auto json = nlohmann::json::parse(*content);
    for (const auto& [name, t] : json.at("topicConfigTable").items()) {
      TopicConfig c;
      c.topic_name = t.value("topicName", name);
      c.read_queue_nums = t.value("readQueueNums", 4);
      c.write_queue_nums = t.value("writeQueueNums", 4);
      c.perm = t.value("perm", kPermRead | kPermWrite);
      c.topic_sys_flag = t.value("topicSysFlag", 0);
      c.order = t.value("order", false);
      configs->table_[name] = std::move(c);
    }
    if (json.contains("dataVersion")) {
      configs->version_.timestamp = json["dataVersion"].value("timestamp", int64_t{0});
      configs->version_.counter = json["dataVersion"].value("counter", int64_t{0});
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kDataLoss, configs->path_ + ": corrupt topic configs: " + e.what());
  }
  return configs;
}

Result<void> TopicConfigs::persist_locked() {
  nlohmann::json table = nlohmann::json::object();
  for (const auto& [name, c] : table_) {
    table[name] = {{"topicName", c.topic_name},
                   {"readQueueNums", c.read_queue_nums},
                   {"writeQueueNums", c.write_queue_nums},
                   {"perm", c.perm},
                   {"topicFilterType", "SINGLE_TAG"},
                   {"topicSysFlag", c.topic_sys_flag},
                   {"order", c.order}};
  }
  nlohmann::json doc{
      {"topicConfigTable", std::move(table)},
      {"dataVersion", {{"timestamp", version_.timestamp}, {"counter", version_.counter}}}};
  return atomic_write_file(path_, doc.dump(2));
}

Result<void> TopicConfigs::put(const TopicConfig& config) {
  if (config.topic_name.empty()) return Error(ErrorCode::kInvalidArgument, "empty topic name");
  std::lock_guard lock(mu_);
  auto it = table_.find(config.topic_name);
  std::optional<TopicConfig> old;
  if (it != table_.end()) {
    if (it->second == config) return {};
    old = it->second;
  }
  table_[config.topic_name] = config;
  const DataVersion old_version = version_;
  version_ = {now_ms(), version_.counter + 1};
  auto written = persist_locked();
  if (!written.ok()) {  // keep memory equal to disk
    if (old) {
      table_[config.topic_name] = *old;
    } else {
      table_.erase(config.topic_name);
    }
    version_ = old_version;
  }
  return written;
}

Result<void> TopicConfigs::remove(std::string_view topic) {
  std::lock_guard lock(mu_);
  auto it = table_.find(topic);
  if (it == table_.end()) {
    return Error(ErrorCode::kNotFound, "topic " + std::string(topic) + " does not exist");
  }
  TopicConfig old = it->second;
  table_.erase(it);
  const DataVersion old_version = version_;
  version_ = {now_ms(), version_.counter + 1};
  auto written = persist_locked();
  if (!written.ok()) {
    table_[old.topic_name] = std::move(old);
    version_ = old_version;
  }
  return written;
}

std::optional<TopicConfig> TopicConfigs::get(std::string_view topic) const {
  std::lock_guard lock(mu_);
  auto it = table_.find(topic);
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicConfig> TopicConfigs::list() const {
  std::lock_guard lock(mu_);
  std::vector<TopicConfig> out;
  out.reserve(table_.size());
  for (const auto& [name, c] : table_) out.push_back(c);
  return out;
}

DataVersion TopicConfigs::data_version() const {
  std::lock_guard lock(mu_);
  return version_;
}

}  // namespace rmqc::broker
