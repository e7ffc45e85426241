// The broker's query, admin and monitoring requests (what mqadmin and rocketmq-dashboard send):
// QUERY_MESSAGE (12), GET_ALL_TOPIC_CONFIG (21), GET_BROKER_CONFIG (26),
// GET_BROKER_RUNTIME_INFO (28), GET_TOPIC_STATS_INFO (202), GET_CONSUMER_CONNECTION_LIST (203),
// GET_CONSUME_STATS (208), QUERY_TOPIC_CONSUME_BY_WHO (300); and the counters behind them.
// Bodies as a 4.9.7 broker writes them (fastjson: members in alphabetical order, map keys that
// are JSON objects where the Java map is keyed by MessageQueue).
#include "base/logging.h"
#include "broker/server/broker.h"
#include "rocketmq/protocol/response_code.h"

#include <nlohmann/json.hpp>
#include <sys/statvfs.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <limits>
#include <set>

namespace rmqc::broker {
namespace rsp = rocketmq::response_code;
using nlohmann::json;
using rocketmq::RemotingCommand;

namespace {

constexpr std::int32_t kDefaultQueryMaxNum = 32;  // messageStoreConfig.defaultQueryMaxNum
constexpr std::int32_t kMaxMsgsNumBatch = 64;     // messageStoreConfig.maxMsgsNumBatch
constexpr std::string_view kVersionDesc = "V4_9_7";
constexpr std::int32_t kVersion = 407;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string field(const RemotingCommand& r, const char* name) {
  auto it = r.ext_fields.find(name);
  return it == r.ext_fields.end() ? std::string() : it->second;
}

// A MessageQueue as fastjson writes it (brokerName, queueId, topic).
std::string queue_key(const std::string& broker, std::int32_t queue_id, const std::string& topic) {
  return json{{"brokerName", broker}, {"queueId", queue_id}, {"topic", topic}}.dump();
}

// fastjson writes doubles with at least one decimal ("0.0", "12.5").
std::string java_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s(buf);
  // Shortest form that reads back the same.
  for (int precision = 1; precision < 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) {
      s = buf;
      break;
    }
  }
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

json subscription_json(const rocketmq::SubscriptionData& s) {
  return json{{"classFilterMode", s.class_filter_mode},
              {"codeSet", s.code_set},
              {"expressionType", s.expression_type.value_or("TAG")},
              {"subString", s.sub_string},
              {"subVersion", s.sub_version},
              {"tagsSet", s.tags_set},
              {"topic", s.topic}};
}

json topic_config_json(const rocketmq::TopicConfig& t) {
  return json{{"order", t.order},
              {"perm", t.perm},
              {"readQueueNums", t.read_queue_nums},
              {"topicFilterType", t.topic_filter_type},
              {"topicName", t.topic_name},
              {"topicSysFlag", t.topic_sys_flag},
              {"writeQueueNums", t.write_queue_nums}};
}

std::int64_t local_day(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return (tm.tm_year + 1900) * 1000 + tm.tm_yday;
}

}  // namespace

// --- counters -----------------------------------------------------------------------------------

void Broker::note_put(std::int64_t messages) {
  stats_.put_total.fetch_add(messages, std::memory_order_relaxed);
}

void Broker::note_get(const std::string& group, const std::string& topic, std::int64_t messages) {
  stats_.get_total.fetch_add(messages, std::memory_order_relaxed);
  std::lock_guard lock(stats_.mutex);
  stats_.group_gets[{group, topic}].total += messages;
}

void Broker::sample_stats() {
  const std::int64_t now = wall_ms();
  std::lock_guard lock(stats_.mutex);
  if (!stats_.samples.empty() && now - stats_.samples.back().at_ms < 1000) return;
  const std::int64_t put = stats_.put_total.load(std::memory_order_relaxed);
  const std::int64_t get = stats_.get_total.load(std::memory_order_relaxed);
  stats_.samples.push_back({now, put, get});
  while (stats_.samples.size() > 601) stats_.samples.pop_front();
  const std::int64_t day = local_day(now);
  if (stats_.day == 0) {
    stats_.day = day;
  } else if (day != stats_.day) {  // midnight: today's morning becomes yesterday's
    stats_.day = day;
    stats_.put_yesterday_morning = stats_.put_today_morning;
    stats_.get_yesterday_morning = stats_.get_today_morning;
    stats_.put_today_morning = put;
    stats_.get_today_morning = get;
  }
  if (now - stats_.group_sampled_ms >= 10'000) {  // consumeTps over the last ~10 s
    for (auto& [key, g] : stats_.group_gets) {
      g.previous = g.sampled;
      g.previous_ms = stats_.group_sampled_ms;
      g.sampled = g.total;
    }
    stats_.group_sampled_ms = now;
  }
}

// "<10 s> <1 min> <10 min>" rates, as StoreStatsService prints them (empty while too young).
std::string Broker::tps_text(bool puts) {
  std::lock_guard lock(stats_.mutex);
  std::string out;
  for (std::size_t window : {10u, 60u, 600u}) {
    if (!out.empty() || window != 10) out += ' ';
    if (stats_.samples.size() <= window) continue;
    const auto& last = stats_.samples.back();
    const auto& first = stats_.samples[stats_.samples.size() - 1 - window];
    const double seconds = static_cast<double>(last.at_ms - first.at_ms) / 1000.0;
    const std::int64_t n = puts ? last.put - first.put : last.get - first.get;
    out += seconds > 0 ? java_double(static_cast<double>(n) / seconds) : "0.0";
  }
  return out;
}

double Broker::consume_tps(const std::string& group, const std::string& topic) {
  std::lock_guard lock(stats_.mutex);
  auto it = stats_.group_gets.find({group, topic});
  if (it == stats_.group_gets.end() || it->second.previous_ms == 0) return 0.0;
  const double seconds =
      static_cast<double>(stats_.group_sampled_ms - it->second.previous_ms) / 1000.0;
  return seconds > 0 ? static_cast<double>(it->second.sampled - it->second.previous) / seconds
                     : 0.0;
}

// --- topics a real broker creates at start ------------------------------------------------------

std::vector<rocketmq::TopicConfig> Broker::system_topic_configs() const {
  // TopicConfigManager's start-up topics (4.9.7): new TopicConfig(name) has 16/16 queues, perm 6.
  auto make = [](std::string name, std::int32_t queues, std::int32_t perm) {
    rocketmq::TopicConfig t;
    t.topic_name = std::move(name);
    t.read_queue_nums = t.write_queue_nums = queues;
    t.perm = perm;
    return t;
  };
  const std::int32_t rwx = kPermRead | kPermWrite | kPermInherit;
  std::vector<rocketmq::TopicConfig> out;
  out.push_back(make("SELF_TEST_TOPIC", 1, 6));
  if (config_.auto_create_topic)
    out.push_back(make("TBW102", config_.default_topic_queue_nums, rwx));
  out.push_back(make("BenchmarkTest", 1024, 6));
  out.push_back(make(config_.cluster_name, 16, rwx));  // clusterTopicEnable
  out.push_back(make(config_.broker_name, 1, rwx));    // brokerTopicEnable
  out.push_back(make("OFFSET_MOVED_EVENT", 1, 6));
  out.push_back(make(config_.cluster_name + "_REPLY_TOPIC", 1, 6));
  return out;
}

// --- QUERY_MESSAGE (12) -------------------------------------------------------------------------

RemotingCommand Broker::query_message(const RemotingCommand& request) {
  auto h = rocketmq::QueryMessageRequestHeader::from_ext_fields(request.ext_fields);
  if (!h.ok()) {
    return RemotingCommand::response_to(request, rsp::SYSTEM_ERROR, h.error().message());
  }
  // A unique-key query is answered with the default maximum, as QueryMessageProcessor does.
  std::int32_t max_num = h->unique_key_query.value_or(false) ? kDefaultQueryMaxNum : h->max_num;
  max_num = std::min(max_num, kMaxMsgsNumBatch);
  auto found =
      store_.query_messages(h->topic, h->key, max_num, h->begin_timestamp, h->end_timestamp);
  if (!found.ok()) {
    return RemotingCommand::response_to(request, rsp::SYSTEM_ERROR, found.error().message());
  }
  if (found->found.messages.empty()) {
    auto r = RemotingCommand::response_to(request, rsp::QUERY_NOT_FOUND,
                                          "can not find message, maybe time range not correct");
    r.ext_fields = rocketmq::QueryMessageResponseHeader{0, 0}.to_ext_fields();
    return r;
  }
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.ext_fields = rocketmq::QueryMessageResponseHeader{found->index_last_update_timestamp,
                                                      found->index_last_update_phys_offset}
                     .to_ext_fields();
  r.body = found->found.body();
  return r;
}

// --- GET_ALL_TOPIC_CONFIG (21) ------------------------------------------------------------------

RemotingCommand Broker::all_topic_config(const RemotingCommand& request) {
  auto reg = registration();
  json table = json::object();
  for (const auto& [name, t] : reg.topic_config_table) table[name] = topic_config_json(t);
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.ext_fields_present = true;
  r.body =
      json{{"dataVersion",
            {{"counter", reg.data_version.counter}, {"timestamp", reg.data_version.timestamp}}},
           {"topicConfigTable", std::move(table)}}
          .dump();
  return r;
}

// --- GET_BROKER_CONFIG (26) ---------------------------------------------------------------------

RemotingCommand Broker::broker_config(const RemotingCommand& request) {
  const auto port = broker_addr_.substr(broker_addr_.rfind(':') + 1);
  const auto host = broker_addr_.substr(0, broker_addr_.rfind(':'));
  std::map<std::string, std::string> props = {
      {"brokerClusterName", config_.cluster_name},
      {"brokerName", config_.broker_name},
      {"brokerId", "0"},
      {"brokerRole", "ASYNC_MASTER"},
      {"brokerIP1", host},
      {"listenPort", port},
      {"autoCreateTopicEnable", config_.auto_create_topic ? "true" : "false"},
      {"autoCreateSubscriptionGroup", "true"},
      {"defaultTopicQueueNums", std::to_string(config_.default_topic_queue_nums)},
      {"messageDelayLevel", config_.message_delay_level},
      {"maxReconsumeTimes", std::to_string(config_.max_reconsume_times)},
      {"aclEnable", config_.acl_enable ? "true" : "false"},
      {"clusterTopicEnable", "true"},
      {"brokerTopicEnable", "true"},
      {"longPollingEnable", "true"},
      {"maxMessageSize", std::to_string(store_.config().max_message_bytes)},
      {"storePathRootDir", store_.config().dir},
      {"flushDiskType",
       store_.config().flush_mode == FlushMode::kSync ? "SYNC_FLUSH" : "ASYNC_FLUSH"},
      {"fileReservedTime",
       std::to_string(
           std::chrono::duration_cast<std::chrono::hours>(store_.config().retention_age).count())},
  };
  std::string body;
  for (const auto& [k, v] : props) body += k + "=" + v + "\n";  // MixAll.properties2String
  auto version = store_.topic_configs().data_version();
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.ext_fields["version"] =
      json{{"counter", version.counter}, {"timestamp", version.timestamp}}.dump();
  r.body = std::move(body);
  return r;
}

// --- GET_BROKER_RUNTIME_INFO (28) ---------------------------------------------------------------

RemotingCommand Broker::broker_runtime_info(const RemotingCommand& request) {
  sample_stats();
  std::map<std::string, std::string> t;
  const std::int64_t now = wall_ms();
  const std::int64_t put = stats_.put_total.load(std::memory_order_relaxed);
  const std::int64_t get = stats_.get_total.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(stats_.mutex);
    t["msgPutTotalYesterdayMorning"] = std::to_string(stats_.put_yesterday_morning);
    t["msgPutTotalTodayMorning"] = std::to_string(stats_.put_today_morning);
    t["msgGetTotalYesterdayMorning"] = std::to_string(stats_.get_yesterday_morning);
    t["msgGetTotalTodayMorning"] = std::to_string(stats_.get_today_morning);
  }
  t["msgPutTotalTodayNow"] = std::to_string(put);
  t["msgGetTotalTodayNow"] = std::to_string(get);
  t["putMessageTimesTotal"] = std::to_string(put);
  t["putTps"] = tps_text(true);
  t["getTransferedTps"] = tps_text(false);
  t["getTotalTps"] = tps_text(false);
  t["getFoundTps"] = tps_text(false);
  t["getMissTps"] = tps_text(false).empty() ? "" : "0.0 0.0 0.0";
  t["brokerVersionDesc"] = std::string(kVersionDesc);
  t["brokerVersion"] = std::to_string(kVersion);
  t["bootTimestamp"] = std::to_string(stats_.boot_ms);
  const std::int64_t up = (now - stats_.boot_ms) / 1000;
  t["runtime"] = "[ " + std::to_string(up / 86400) + " days, " + std::to_string(up / 3600 % 24) +
                 " hours, " + std::to_string(up / 60 % 60) + " minutes, " +
                 std::to_string(up % 60) + " seconds ]";
  t["commitLogMinOffset"] = std::to_string(store_.commit_log_min_offset());
  t["commitLogMaxOffset"] = std::to_string(store_.commit_log_max_offset());
  t["dispatchBehindBytes"] = "0";
  t["pageCacheLockTimeMills"] = "0";
  t["remainHowManyDataToFlush"] = "0 B";
  for (const char* pool : {"send", "pull", "query"}) {
    t[std::string(pool) + "ThreadPoolQueueSize"] = "0";
    t[std::string(pool) + "ThreadPoolQueueHeadWaitTimeMills"] = "0";
  }
  t["sendThreadPoolQueueCapacity"] = "10000";
  t["pullThreadPoolQueueCapacity"] = "100000";
  t["queryThreadPoolQueueCapacity"] = "20000";
  t["startAcceptSendRequestTimeStamp"] = "0";
  // Store time of the oldest message (clusterList's "#Hour" column); now when the store is empty.
  std::int64_t earliest = now;
  if (auto first = store_.read_message(store_.commit_log_min_offset()); first.ok()) {
    if (auto m = rocketmq::decode_stored_message(first->bytes); m.ok()) {
      earliest = m->store_timestamp;
    }
  }
  t["earliestMessageTimeStamp"] = std::to_string(earliest);
  std::string ratio = "0.0";
  std::string capacity;
  struct statvfs vfs {};
  if (::statvfs(store_.config().dir.c_str(), &vfs) == 0 && vfs.f_blocks > 0) {
    const double total = static_cast<double>(vfs.f_blocks) * static_cast<double>(vfs.f_frsize);
    const double free = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize);
    ratio = java_double((total - free) / total);
    char buf[96];
    std::snprintf(buf, sizeof buf, "Total : %.1f GiB, Free : %.1f GiB.", total / (1 << 30),
                  free / (1 << 30));
    capacity = buf;
  }
  t["commitLogDiskRatio"] = ratio;
  t["consumeQueueDiskRatio"] = ratio;
  if (!capacity.empty()) t["commitLogDirCapacity"] = capacity;
  for (int level = 1; level <= schedule_->max_level(); ++level) {
    const std::int64_t max = store_.max_offset(kScheduleTopic, level - 1);
    const auto delivered =
        store_.consumer_offsets().query(kScheduleProgressGroup, kScheduleTopic, level - 1);
    t["scheduleMessageOffset_" + std::to_string(level)] =
        std::to_string(delivered.value_or(0)) + "," + std::to_string(max);
  }
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.body = json{{"table", t}}.dump();
  return r;
}

// --- GET_TOPIC_STATS_INFO (202) -----------------------------------------------------------------

RemotingCommand Broker::topic_stats(const RemotingCommand& request) {
  const std::string topic = field(request, "topic");
  auto config = store_.topic_configs().get(topic);
  if (!config) {
    return RemotingCommand::response_to(request, rsp::TOPIC_NOT_EXIST,
                                        "topic[" + topic + "] not exist");
  }
  std::string body = "{\"offsetTable\":{";
  for (std::int32_t q = 0; q < config->write_queue_nums; ++q) {
    const std::int64_t max = std::max<std::int64_t>(0, store_.max_offset(topic, q));
    const std::int64_t min = std::max<std::int64_t>(0, store_.min_offset(topic, q));
    std::int64_t last = 0;
    if (max > 0) {
      // Store time of the last message: search from after it lands on max - 1.
      auto got = store_.get_messages(topic, q, max - 1, 1, 1);
      if (got.ok() && !got->messages.empty()) {
        if (auto m = rocketmq::decode_stored_message(got->messages.front().bytes); m.ok()) {
          last = m->store_timestamp;
        }
      }
    }
    if (q) body += ',';
    body += queue_key(config_.broker_name, q, topic);
    body += ':';
    body += json{{"lastUpdateTimestamp", last}, {"maxOffset", max}, {"minOffset", min}}.dump();
  }
  body += "}}";
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.body = std::move(body);
  return r;
}

// --- GET_CONSUMER_CONNECTION_LIST (203) ---------------------------------------------------------

RemotingCommand Broker::consumer_connection_list(const RemotingCommand& request) {
  const std::string group = field(request, "consumerGroup");
  json body;
  {
    std::lock_guard lock(groups_mutex_);
    auto g = groups_.find(group);
    if (g != groups_.end() && !g->second.members.empty()) {
      json connections = json::array();
      for (const auto& [id, m] : g->second.members) {
        auto c = m.connection.lock();
        connections.push_back({{"clientAddr", c ? c->remote_address() : std::string()},
                               {"clientId", m.client_id},
                               {"language", m.language},
                               {"version", m.version}});
      }
      json subs = json::object();
      for (const auto& [topic, s] : g->second.subscriptions) subs[topic] = subscription_json(s);
      body = {{"connectionSet", std::move(connections)},
              {"consumeFromWhere", g->second.consume_from_where},
              {"consumeType", g->second.consume_type},
              {"messageModel", g->second.message_model},
              {"subscriptionTable", std::move(subs)}};
    }
  }
  if (body.is_null()) {
    return RemotingCommand::response_to(request, rsp::CONSUMER_NOT_ONLINE,
                                        "the consumer group[" + group + "] not online");
  }
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.body = body.dump();
  return r;
}

// --- GET_CONSUME_STATS (208) --------------------------------------------------------------------

RemotingCommand Broker::consume_stats(const RemotingCommand& request) {
  const std::string group = field(request, "consumerGroup");
  const std::string requested = field(request, "topic");
  std::set<std::string> topics;
  if (requested.empty()) {
    for (const auto& [topic, g] : store_.consumer_offsets().topic_groups()) {
      if (g == group) topics.insert(topic);
    }
  } else {
    topics.insert(requested);
  }
  std::map<std::string, bool, std::less<>> subscribed;  // the group's online subscriptions
  {
    std::lock_guard lock(groups_mutex_);
    if (auto g = groups_.find(group); g != groups_.end() && !g->second.members.empty()) {
      for (const auto& [topic, s] : g->second.subscriptions) subscribed[topic] = true;
    }
  }
  double tps = 0;
  std::string table;
  for (const auto& topic : topics) {
    auto config = store_.topic_configs().get(topic);
    if (!config) continue;
    // An online group that does not subscribe to the topic is left out (as the Java broker).
    if (!subscribed.empty() && !subscribed.contains(topic)) continue;
    for (std::int32_t q = 0; q < config->read_queue_nums; ++q) {
      const std::int64_t broker_offset = std::max<std::int64_t>(0, store_.max_offset(topic, q));
      std::int64_t consumer_offset = store_.consumer_offsets().query(group, topic, q).value_or(-1);
      if (consumer_offset < 0) consumer_offset = 0;
      std::int64_t last = 0;
      if (consumer_offset > 0) {
        auto got = store_.get_messages(topic, q, consumer_offset - 1, 1, 1);
        if (got.ok() && !got->messages.empty()) {
          if (auto m = rocketmq::decode_stored_message(got->messages.front().bytes); m.ok()) {
            last = m->store_timestamp;
          }
        }
      }
      if (!table.empty()) table += ',';
      table += queue_key(config_.broker_name, q, topic);
      table += ':';
      table += json{
          {"brokerOffset", broker_offset},
          {"consumerOffset", consumer_offset},
          {"lastTimestamp",
           last}}.dump();
    }
    tps += consume_tps(group, topic);
  }
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.body = "{\"consumeTps\":" + java_double(tps) + ",\"offsetTable\":{" + table + "}}";
  return r;
}

// --- QUERY_TOPIC_CONSUME_BY_WHO (300) -----------------------------------------------------------

RemotingCommand Broker::topic_consume_by_who(const RemotingCommand& request) {
  const std::string topic = field(request, "topic");
  std::set<std::string> groups;
  {
    std::lock_guard lock(groups_mutex_);
    for (const auto& [name, g] : groups_) {
      if (!g.members.empty() && g.subscriptions.contains(topic)) groups.insert(name);
    }
  }
  for (const auto& [t, g] : store_.consumer_offsets().topic_groups()) {
    if (t == topic) groups.insert(g);
  }
  auto r = RemotingCommand::response_to(request, rsp::SUCCESS);
  r.body = json{{"groupList", std::vector<std::string>(groups.begin(), groups.end())}}.dump();
  return r;
}

}  // namespace rmqc::broker
