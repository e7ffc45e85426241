#include "replicator/replicator_config.h"

#include "rmqc/api/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace rmqc::connectors::replicator {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > 127) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '%' || c == '|';
  });
}

}  // namespace

std::string TopicTags::expression() const {
  if (tags.empty()) return "*";
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : " || ") + t;
  return out;
}

bool TopicTags::accepts(std::string_view tag) const {
  if (tags.empty()) return true;
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::optional<std::string> parse_topic_tags(std::string_view text, std::vector<TopicTags>* out) {
  out->clear();
  const std::string key(kSrcTopicTags);
  while (!text.empty()) {
    auto semi = text.find(';');
    std::string_view entry = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (entry.empty()) continue;
    auto colon = entry.find(':');
    std::vector<std::string_view> topics;
    std::string_view expression;
    if (colon == std::string_view::npos) {
      for (std::string_view rest = entry; !rest.empty();) {
        auto comma = rest.find(',');
        std::string_view t = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (!t.empty()) topics.push_back(t);
      }
    } else {
      topics.push_back(trim(entry.substr(0, colon)));
      expression = trim(entry.substr(colon + 1));
    }
    for (auto t : topics) {
      if (!valid_topic(t)) {
        return key + ": '" + std::string(t) +
               "' is not a topic name (letters, digits, '_', '-', '%', '|')";
      }
      TopicTags tt;
      tt.topic = std::string(t);
      if (!expression.empty() && expression != "*") {
        for (std::string_view rest = expression;;) {
          auto bar = rest.find("||");
          std::string_view tag = trim(rest.substr(0, bar));
          if (tag.empty() || tag == "*") {
            return key + ": bad tag expression '" + std::string(expression) + "' of topic " +
                   tt.topic + " (expected tagA||tagB or *)";
          }
          tt.tags.emplace_back(tag);
          if (bar == std::string_view::npos) break;
          rest = rest.substr(bar + 2);
        }
      }
      for (const auto& seen : *out) {
        if (seen.topic == tt.topic) return key + ": topic " + tt.topic + " is listed twice";
      }
      out->push_back(std::move(tt));
    }
  }
  if (out->empty()) return key + ": at least one topic is needed";
  return std::nullopt;
}

std::string source_endpoint(const KeyValue& config) {
  std::string endpoint = config.get_string(kSrcEndpoint);
  if (endpoint.empty()) {
    std::string cluster = config.get_string(kSrcCluster);
    if (cluster.find(':') != std::string::npos) endpoint = cluster;
  }
  return endpoint;
}

std::string source_cluster_name(const KeyValue& config) {
  std::string cluster = config.get_string(kSrcCluster);
  return cluster.empty() ? source_endpoint(config) : cluster;
}

rocketmq::ClientConfig client_config(const KeyValue& config, std::string_view side,
                                     const std::string& endpoint, const std::string& tag) {
  rocketmq::ClientConfig c;
  c.namesrv_addr = endpoint;
  const std::string prefix(side);
  if (config.get_bool(prefix + ".acl.enable")) {
    c.access_key = config.get_string(prefix + ".access.key");
    c.secret_key = config.get_string(prefix + ".secret.key");
  }
  c.thread_tag = tag;
  return c;
}

void define_common_keys(ConfigDef& def) {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  def.define(std::string(kSrcEndpoint), T::kString, "", I::kHigh,
             "Name server list of the source cluster (host:port;host:port).");
  def.define(std::string(kSrcCluster), T::kString, "", I::kMedium,
             "Name of the source cluster, shown in origin properties and records; also taken "
             "as the name server list when src.endpoint is empty and it holds host:port.");
  def.define(std::string(kSrcTopicTags), T::kString, std::nullopt, I::kHigh,
             "Source topics and tag filters: TopicA,TopicB or TopicA:tagA||tagB;TopicB:*.",
             validators::non_empty());
  def.define(std::string(kSrcAclEnable), T::kBoolean, "false", I::kMedium,
             "Sign requests to the source cluster with src.access.key / src.secret.key.");
  def.define(std::string(kSrcAccessKey), T::kString, "", I::kMedium, "ACL access key (source).");
  def.define(std::string(kSrcSecretKey), T::kPassword, "", I::kMedium, "ACL secret key (source).");
  def.define(std::string(kDestEndpoint), T::kString, "", I::kMedium,
             "Name server list of the destination cluster (the worker's cluster).");
  def.define(std::string(kDestAclEnable), T::kBoolean, "false", I::kLow,
             "Sign the checkpoint connector's requests to dest.endpoint with dest.access.key / "
             "dest.secret.key.");
  def.define(std::string(kDestAccessKey), T::kString, "", I::kLow, "ACL access key (destination).");
  def.define(std::string(kDestSecretKey), T::kPassword, "", I::kLow,
             "ACL secret key (destination).");
  def.define(std::string(kOffsetSyncTopic), T::kString, std::string(kDefaultOffsetSyncTopic),
             I::kLow,
             "Destination topic of the offset-sync records (source -> destination offset).",
             validators::non_empty());
}

void validate_common(const KeyValue& parsed) {
  if (source_endpoint(parsed).empty()) {
    throw ConnectException(std::string(kSrcEndpoint) +
                           ": the source cluster's name server list (host:port) is needed");
  }
  std::vector<TopicTags> topics;
  if (auto e = parse_topic_tags(parsed.get_string(kSrcTopicTags), &topics)) {
    throw ConnectException(*e);
  }
  for (std::string side : {"src", "dest"}) {
    if (!parsed.get_bool(side + ".acl.enable")) continue;
    for (std::string k : {side + ".access.key", side + ".secret.key"}) {
      if (parsed.get_string(k).empty()) {
        throw ConnectException(k + ": needed when " + side + ".acl.enable is true");
      }
    }
  }
  if (!valid_topic(parsed.get_string(kOffsetSyncTopic))) {
    throw ConnectException(std::string(kOffsetSyncTopic) + ": not a topic name");
  }
}

std::string destination_topic(const KeyValue& config, const std::string& source_topic) {
  std::string fixed = config.get_string(kDestTopic);
  if (!fixed.empty()) return fixed;
  std::string format = config.get_string(kRenameFormat);
  if (format.empty()) return source_topic;
  static constexpr std::string_view kVar = "${topic}";
  std::string out;
  for (std::size_t at = 0;;) {
    auto next = format.find(kVar, at);
    out.append(format, at, next == std::string::npos ? std::string::npos : next - at);
    if (next == std::string::npos) break;
    out += source_topic;
    at = next + kVar.size();
  }
  return out;
}

std::vector<rocketmq::MessageQueue> queues_of_task(std::vector<rocketmq::MessageQueue> all,
                                                   int index, int count) {
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<rocketmq::MessageQueue> out;
  if (count <= 0) count = 1;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(count)) == index) out.push_back(all[i]);
  }
  return out;
}

std::string OffsetSync::to_json() const {
  nlohmann::json j = {
      {"cluster", cluster},         {"srcTopic", src_topic},        {"srcBroker", src_broker},
      {"srcQueueId", src_queue_id}, {"srcOffset", src_offset},      {"destTopic", dest_topic},
      {"destBroker", dest_broker},  {"destQueueId", dest_queue_id}, {"destOffset", dest_offset}};
  return j.dump();
}

std::optional<OffsetSync> OffsetSync::from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    OffsetSync s;
    s.cluster = j.value("cluster", "");
    s.src_topic = j.at("srcTopic").get<std::string>();
    s.src_broker = j.at("srcBroker").get<std::string>();
    s.src_queue_id = j.at("srcQueueId").get<std::int32_t>();
    s.src_offset = j.at("srcOffset").get<std::int64_t>();
    s.dest_topic = j.at("destTopic").get<std::string>();
    s.dest_broker = j.at("destBroker").get<std::string>();
    s.dest_queue_id = j.at("destQueueId").get<std::int32_t>();
    s.dest_offset = j.at("destOffset").get<std::int64_t>();
    return s;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string Checkpoint::to_json() const {
  nlohmann::json j = {{"group", group},
                      {"cluster", cluster},
                      {"srcTopic", src_topic},
                      {"srcBroker", src_broker},
                      {"srcQueueId", src_queue_id},
                      {"srcOffset", src_offset},
                      {"destTopic", dest_topic},
                      {"destBroker", dest_broker},
                      {"destQueueId", dest_queue_id},
                      {"destOffset", dest_offset},
                      {"srcMaxOffset", src_max_offset},
                      {"replicatedOffset", replicated_offset},
                      {"replicationLag", replication_lag()},
                      {"timestamp", timestamp_ms}};
  return j.dump();
}

std::optional<Checkpoint> Checkpoint::from_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    Checkpoint c;
    c.group = j.at("group").get<std::string>();
    c.cluster = j.value("cluster", "");
    c.src_topic = j.at("srcTopic").get<std::string>();
    c.src_broker = j.at("srcBroker").get<std::string>();
    c.src_queue_id = j.at("srcQueueId").get<std::int32_t>();
    c.src_offset = j.at("srcOffset").get<std::int64_t>();
    c.dest_topic = j.at("destTopic").get<std::string>();
    c.dest_broker = j.at("destBroker").get<std::string>();
    c.dest_queue_id = j.at("destQueueId").get<std::int32_t>();
    c.dest_offset = j.at("destOffset").get<std::int64_t>();
    c.src_max_offset = j.value("srcMaxOffset", std::int64_t{0});
    c.replicated_offset = j.value("replicatedOffset", std::int64_t{0});
    c.timestamp_ms = j.value("timestamp", std::int64_t{0});
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::optional<std::int64_t> translate(const std::map<std::int64_t, std::int64_t>& syncs,
                                      std::int64_t group_offset) {
  auto it = syncs.upper_bound(group_offset);  // first entry with s > G
  if (it == syncs.begin()) return std::nullopt;
  --it;  // greatest s <= G
  return it->first == group_offset ? it->second : it->second + 1;
}

}  // namespace rmqc::connectors::replicator
