#include "broker/store/consumer_offsets.h"

#include "broker/store/file_util.h"

#include <nlohmann/json.hpp>

namespace rmqc::broker {

namespace {

// "topic@group" in a reused buffer: commits happen on every pull, so no allocation per call.
std::string_view make_key(std::string_view topic, std::string_view group) {
  thread_local std::string key;
  key.assign(topic);
  key.push_back('@');
  key.append(group);
  return key;
}

}  // namespace

Result<std::unique_ptr<ConsumerOffsets>> ConsumerOffsets::open(std::string path) {
  std::unique_ptr<ConsumerOffsets> offsets(new ConsumerOffsets(std::move(path)));
  auto content = read_file(offsets->path_);
  if (!content.ok()) {
    if (content.error().code() == ErrorCode::kNotFound) return offsets;
    return std::move(content).error();
  }
  try {
    auto json = nlohmann::json::parse(*content);
    for (const auto& [key, queues] : json.at("offsetTable").items()) {
      auto& q = offsets->table_[key];
      for (const auto& [qid, off] : queues.items()) q[std::stoi(qid)] = off.get<int64_t>();
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kDataLoss, offsets->path_ + ": corrupt consumer offsets: " + e.what());
  }
  return offsets;
}

void ConsumerOffsets::commit(std::string_view group, std::string_view topic, int32_t queue_id,
                             int64_t offset) {
  std::lock_guard lock(mu_);
  const auto key = make_key(topic, group);
  auto it = table_.find(key);
  if (it == table_.end()) it = table_.emplace(std::string(key), std::map<int32_t, int64_t>()).first;
  auto [qit, inserted] = it->second.try_emplace(queue_id, offset);
  if (!inserted) {
    if (qit->second == offset) return;
    qit->second = offset;
  }
  ++version_;
}

std::optional<int64_t> ConsumerOffsets::query(std::string_view group, std::string_view topic,
                                              int32_t queue_id) const {
  std::lock_guard lock(mu_);
  auto it = table_.find(make_key(topic, group));
  if (it == table_.end()) return std::nullopt;
  auto qit = it->second.find(queue_id);
  if (qit == it->second.end()) return std::nullopt;
  return qit->second;
}

std::map<int32_t, int64_t> ConsumerOffsets::query_all(std::string_view group,
                                                      std::string_view topic) const {
  std::lock_guard lock(mu_);
  auto it = table_.find(make_key(topic, group));
  return it == table_.end() ? std::map<int32_t, int64_t>() : it->second;
}

void ConsumerOffsets::remove_group(std::string_view group) {
  std::lock_guard lock(mu_);
  for (auto it = table_.begin(); it != table_.end();) {
    std::string_view key = it->first;
    auto at = key.rfind('@');
    if (at != std::string_view::npos && key.substr(at + 1) == group) {
      it = table_.erase(it);
      ++version_;
    } else {
      ++it;
    }
  }
}

void ConsumerOffsets::remove_topic(std::string_view topic) {
  std::lock_guard lock(mu_);
  for (auto it = table_.begin(); it != table_.end();) {
    std::string_view key = it->first;
    auto at = key.rfind('@');
    if (at != std::string_view::npos && key.substr(0, at) == topic) {
      it = table_.erase(it);
      ++version_;
    } else {
      ++it;
    }
  }
}

std::vector<std::pair<std::string, std::string>> ConsumerOffsets::topic_groups() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, queues] : table_) {
    const auto at = key.find('@');
    if (at != std::string::npos) out.emplace_back(key.substr(0, at), key.substr(at + 1));
  }
  return out;
}

std::string ConsumerOffsets::to_json() const {
  nlohmann::json table = nlohmann::json::object();
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, queues] : table_) {
      auto& q = table[key];
      q = nlohmann::json::object();
      for (const auto& [qid, off] : queues) q[std::to_string(qid)] = off;
    }
  }
  return nlohmann::json{{"offsetTable", std::move(table)}}.dump(2);
}

Result<void> ConsumerOffsets::persist() {
  std::lock_guard persist_lock(persist_mu_);
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = version_;
  }
  if (version == persisted_version_) return {};
  // Snapshot taken after reading version: a commit racing in is either included or bumps
  // version_ again and gets written next time.
  RMQC_RETURN_IF_ERROR(atomic_write_file(path_, to_json()));
  persisted_version_ = version;
  return {};
}

}  // namespace rmqc::broker
