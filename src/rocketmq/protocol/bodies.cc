#include "rocketmq/protocol/bodies.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>

namespace rmqc::rocketmq {

namespace {

using json = nlohmann::json;

Error body_error(std::string_view what, std::string_view detail) {
  return Error(ErrorCode::kProtocolError, std::string(what) + ": " + std::string(detail));
}

// fastjson writes raw UTF-8 by default and \uXXXX in "browser compatible" mode; replace invalid
// UTF-8 rather than throwing.
std::string dump(const json& j, bool ascii = false) {
  return j.dump(-1, ' ', ascii, json::error_handler_t::replace);
}

Result<json> parse_body(std::string_view text, std::string_view what) {
  RMQC_ASSIGN_OR_RETURN(std::string normalized, normalize_legacy_json(text));
  json j = json::parse(normalized, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return body_error(what, "body is not valid JSON");
  if (!j.is_object()) return body_error(what, "body is not a JSON object");
  return j;
}

// Runs a reader that may throw nlohmann exceptions (missing keys, wrong types) and turns them
// into a Result naming the body; nothing escapes the library.
template <typename T, typename Fn>
Result<T> read_body(std::string_view text, std::string_view what, Fn&& fn) {
  RMQC_ASSIGN_OR_RETURN(json j, parse_body(text, what));
  try {
    return fn(j);
  } catch (const json::exception& e) {
    return body_error(what, e.what());
  }
}

// --- lenient readers -------------------------------------------------------------------------
// A Java broker reads bodies with fastjson, which converts between JSON types the way a Java bean
// setter expects: a number may come as a numeric string, a boolean as "true"/"false" or 0/1, an
// enum as its name or its ordinal (number or numeric string). Other clients rely on it (the
// official C++ client sends enums as ordinals and subVersion as a string), so every body read
// here goes through these helpers. Failures throw nlohmann exceptions, which read_body turns into
// an error naming the body.

// A whole decimal integer with an optional sign, nothing else.
std::optional<std::int64_t> parse_integer(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// nlohmann's get<int>() casts out-of-range floats (UB) and wraps large integers; range-check
// instead and fail like any other type error.
template <typename T>
T to_int(const json& j) {
  constexpr auto lo = std::numeric_limits<T>::min();
  constexpr auto hi = std::numeric_limits<T>::max();
  if (j.is_number_unsigned()) {
    auto v = j.get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(hi)) return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    auto v = j.get<std::int64_t>();
    if (v >= lo && v <= hi) return static_cast<T>(v);
  } else if (j.is_number_float()) {
    double d = j.get<double>();
    // -lo is 2^(bits-1), exactly representable; NaN fails both comparisons.
    if (d >= static_cast<double>(lo) && d < -static_cast<double>(lo)) return static_cast<T>(d);
  } else if (j.is_string()) {
    auto v = parse_integer(j.get_ref<const std::string&>());
    if (!v) {
      throw json::type_error::create(302, "string " + j.dump() + " is not a number", nullptr);
    }
    if (*v >= static_cast<std::int64_t>(lo) &&
        (*v < 0 || static_cast<std::uint64_t>(*v) <= static_cast<std::uint64_t>(hi))) {
      return static_cast<T>(*v);
    }
  } else {
    throw json::type_error::create(302, "type must be number, but is " + std::string(j.type_name()),
                                   nullptr);
  }
  throw json::out_of_range::create(406, "number " + j.dump() + " is out of range", nullptr);
}

bool to_bool(const json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  } else if (j.is_number_integer() || j.is_number_unsigned()) {
    auto v = j.get<std::int64_t>();
    if (v == 0 || v == 1) return v == 1;
  }
  throw json::type_error::create(302, "value " + j.dump() + " is not a boolean", nullptr);
}

template <typename T>
T get_value(const json& j) {
  if constexpr (std::is_same_v<T, bool>) {
    return to_bool(j);
  } else if constexpr (std::is_integral_v<T>) {
    return to_int<T>(j);
  } else {
    return j.get<T>();
  }
}

// A missing key, null, and (like fastjson) an empty string for a number or boolean all read as
// the fallback.
template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T>) {
    if (it->is_string() && it->get_ref<const std::string&>().empty()) return fallback;
  }
  return get_value<T>(*it);
}

// A Java enum given by name or by ordinal (number or numeric string); returns its name, or the
// fallback when the key is missing or null.
std::string get_enum_or(const json& j, const char* key, std::span<const std::string_view> names,
                        std::string fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (std::find(names.begin(), names.end(), s) != names.end()) return s;
    if (!parse_integer(s)) {
      throw json::other_error::create(501, std::string(key) + ": unknown value " + it->dump(),
                                      nullptr);
    }
  }
  auto ordinal = to_int<std::int64_t>(*it);
  if (ordinal < 0 || ordinal >= static_cast<std::int64_t>(names.size())) {
    throw json::other_error::create(501, std::string(key) + ": no value with ordinal " + it->dump(),
                                    nullptr);
  }
  return std::string(names[static_cast<size_t>(ordinal)]);
}

// The Java enums, in declaration (= ordinal) order.
constexpr std::string_view kConsumeTypes[] = {"CONSUME_ACTIVELY", "CONSUME_PASSIVELY"};
constexpr std::string_view kMessageModels[] = {"BROADCASTING", "CLUSTERING"};
constexpr std::string_view kTopicFilterTypes[] = {"SINGLE_TAG", "MULTI_TAG"};
// The three deprecated members keep their places: ordinal 4 is CONSUME_FROM_FIRST_OFFSET.
constexpr std::string_view kConsumeFromWhere[] = {
    "CONSUME_FROM_LAST_OFFSET",  "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",   "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP"};

const json& member(const json& j, const char* key) {
  static const json kEmptyArray = json::array();
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? kEmptyArray : *it;
}

json message_queue_json(const MessageQueue& mq) {
  return {{"brokerName", mq.broker_name}, {"queueId", mq.queue_id}, {"topic", mq.topic}};
}

MessageQueue message_queue_from(const json& j) {
  return MessageQueue{j.at("topic").get<std::string>(), j.at("brokerName").get<std::string>(),
                      to_int<std::int32_t>(j.at("queueId"))};
}

std::string broker_data_text(const BrokerData& b, bool standard) {
  std::string out = "{\"brokerAddrs\":{";
  bool first = true;
  for (const auto& [id, addr] : b.broker_addrs) {
    if (!first) out.push_back(',');
    first = false;
    // Java's map has Long keys; fastjson quotes them only in browser-compatible mode.
    if (standard) out.push_back('"');
    out += std::to_string(id);
    if (standard) out.push_back('"');
    out.push_back(':');
    out += dump(addr, standard);
  }
  out += "},\"brokerName\":" + dump(b.broker_name, standard) +
         ",\"cluster\":" + dump(b.cluster, standard) + "}";
  return out;
}

BrokerData broker_data_from(const json& j) {
  BrokerData b;
  b.cluster = get_or<std::string>(j, "cluster", "");
  b.broker_name = j.at("brokerName").get<std::string>();
  for (const auto& [key, addr] : member(j, "brokerAddrs").items()) {
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size()) {
      throw json::other_error::create(501, "brokerAddrs key '" + key + "' is not a broker id",
                                      nullptr);
    }
    b.broker_addrs[id] = addr.get<std::string>();
  }
  return b;
}

}  // namespace

std::int32_t java_string_hash(std::string_view s) {
  std::uint32_t h = 0;
  auto mix = [&h](std::uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
           (s[i + 3] & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
      len = 2;
    }
    if (cp >= 0x10000) {  // surrogate pair, as Java strings hold it
      cp -= 0x10000;
      mix(0xD800 + (cp >> 10));
      mix(0xDC00 + (cp & 0x3FF));
    } else {
      mix(cp);
    }
    i += len;
  }
  return static_cast<std::int32_t>(h);
}

Result<std::string> normalize_legacy_json(std::string_view text, int max_depth) {
  std::string out;
  std::vector<char> stack;
  bool in_string = false;
  bool escape = false;
  bool expect_key = false;
  bool rewritten = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
      }
      out.push_back(c);
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        expect_key = false;
        break;
      case '{':
      case '[':
        if (static_cast<int>(stack.size()) >= max_depth) {
          return Error(ErrorCode::kProtocolError,
                       "JSON nested deeper than " + std::to_string(max_depth));
        }
        stack.push_back(c);
        expect_key = c == '{';
        break;
      case '}':
      case ']':
        if (!stack.empty()) stack.pop_back();
        expect_key = false;
        break;
      case ',':
        expect_key = !stack.empty() && stack.back() == '{';
        break;
      case ' ':
      case '\t':
      case '\r':
      case '\n':
        break;
      default:
        if (expect_key && (std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
          size_t end = i + 1;
          while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                       text[end] == '-' || text[end] == '.' || text[end] == '+')) {
            ++end;
          }
          out.push_back('"');
          out.append(text.substr(i, end - i));
          out.push_back('"');
          i = end - 1;
          rewritten = true;
          expect_key = false;
          continue;
        }
        expect_key = false;
    }
    out.push_back(c);
  }
  if (!rewritten) return std::string(text);
  return out;
}

// --- TopicRouteData --------------------------------------------------------------------------

std::string TopicRouteData::to_json(bool standard) const {
  std::string out = "{\"brokerDatas\":[";
  for (size_t i = 0; i < broker_datas.size(); ++i) {
    if (i) out.push_back(',');
    out += broker_data_text(broker_datas[i], standard);
  }
  json fst = json::object();
  for (const auto& [addr, servers] : filter_server_table) fst[addr] = servers;
  out += "],\"filterServerTable\":" + dump(fst, standard);
  if (order_topic_conf) out += ",\"orderTopicConf\":" + dump(*order_topic_conf, standard);
  json qds = json::array();
  for (const auto& q : queue_datas) {
    qds.push_back({{"brokerName", q.broker_name},
                   {"perm", q.perm},
                   {"readQueueNums", q.read_queue_nums},
                   {"topicSysFlag", q.topic_sys_flag},
                   {"writeQueueNums", q.write_queue_nums}});
  }
  out += ",\"queueDatas\":" + dump(qds, standard) + "}";
  return out;
}

Result<TopicRouteData> TopicRouteData::from_json(std::string_view text) {
  return read_body<TopicRouteData>(text, "TopicRouteData", [](const json& j) {
    TopicRouteData r;
    if (auto it = j.find("orderTopicConf"); it != j.end() && it->is_string()) {
      r.order_topic_conf = it->get<std::string>();
    }
    for (const auto& q : member(j, "queueDatas")) {
      QueueData qd;
      qd.broker_name = q.at("brokerName").get<std::string>();
      qd.read_queue_nums = get_or<std::int32_t>(q, "readQueueNums", 0);
      qd.write_queue_nums = get_or<std::int32_t>(q, "writeQueueNums", 0);
      qd.perm = get_or<std::int32_t>(q, "perm", 0);
      qd.topic_sys_flag =
          get_or<std::int32_t>(q, "topicSysFlag", get_or<std::int32_t>(q, "topicSynFlag", 0));
      r.queue_datas.push_back(std::move(qd));
    }
    for (const auto& b : member(j, "brokerDatas")) r.broker_datas.push_back(broker_data_from(b));
    if (auto it = j.find("filterServerTable"); it != j.end() && it->is_object()) {
      for (const auto& [addr, servers] : it->items()) {
        r.filter_server_table[addr] = servers.get<std::vector<std::string>>();
      }
    }
    return r;
  });
}

// --- ClusterInfo -----------------------------------------------------------------------------

std::string ClusterInfo::to_json(bool standard) const {
  std::string out = "{\"brokerAddrTable\":{";
  bool first = true;
  for (const auto& [name, data] : broker_addr_table) {
    if (!first) out.push_back(',');
    first = false;
    out += dump(name, standard) + ":" + broker_data_text(data, standard);
  }
  json clusters = json::object();
  for (const auto& [cluster, brokers] : cluster_addr_table) clusters[cluster] = brokers;
  out += "},\"clusterAddrTable\":" + dump(clusters, standard) + "}";
  return out;
}

Result<ClusterInfo> ClusterInfo::from_json(std::string_view text) {
  return read_body<ClusterInfo>(text, "ClusterInfo", [](const json& j) {
    ClusterInfo info;
    if (auto it = j.find("brokerAddrTable"); it != j.end() && it->is_object()) {
      for (const auto& [name, data] : it->items()) {
        info.broker_addr_table[name] = broker_data_from(data);
      }
    }
    if (auto it = j.find("clusterAddrTable"); it != j.end() && it->is_object()) {
      for (const auto& [cluster, brokers] : it->items()) {
        info.cluster_addr_table[cluster] = brokers.get<std::vector<std::string>>();
      }
    }
    return info;
  });
}

// --- small list bodies -----------------------------------------------------------------------

std::string TopicList::to_json() const {
  json j = {{"topicList", topic_list}};
  if (broker_addr) j["brokerAddr"] = *broker_addr;
  return dump(j);
}

Result<TopicList> TopicList::from_json(std::string_view text) {
  return read_body<TopicList>(text, "TopicList", [](const json& j) {
    TopicList t;
    t.topic_list = member(j, "topicList").get<std::vector<std::string>>();
    if (auto it = j.find("brokerAddr"); it != j.end() && it->is_string()) {
      t.broker_addr = it->get<std::string>();
    }
    return t;
  });
}

std::string ConsumerListBody::to_json() const {
  return dump(json{{"consumerIdList", consumer_id_list}});
}

Result<ConsumerListBody> ConsumerListBody::from_json(std::string_view text) {
  return read_body<ConsumerListBody>(text, "ConsumerListBody", [](const json& j) {
    return ConsumerListBody{member(j, "consumerIdList").get<std::vector<std::string>>()};
  });
}

// --- heartbeats ------------------------------------------------------------------------------

SubscriptionData SubscriptionData::build(std::string topic, std::string_view sub_string,
                                         std::int64_t sub_version) {
  SubscriptionData s;
  s.topic = std::move(topic);
  s.sub_version = sub_version;
  s.expression_type = "TAG";
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  sub_string = trim(sub_string);
  if (sub_string.empty() || sub_string == SUB_ALL) {
    s.sub_string = SUB_ALL;
    return s;
  }
  s.sub_string = sub_string;
  while (true) {
    auto sep = sub_string.find("||");
    auto tag = trim(sub_string.substr(0, sep));
    if (!tag.empty() && std::find(s.tags_set.begin(), s.tags_set.end(), tag) == s.tags_set.end()) {
      s.tags_set.emplace_back(tag);
      s.code_set.push_back(java_string_hash(tag));
    }
    if (sep == std::string_view::npos) break;
    sub_string.remove_prefix(sep + 2);
  }
  return s;
}

std::string HeartbeatData::to_json() const {
  json consumers = json::array();
  for (const auto& c : consumer_data_set) {
    json subs = json::array();
    for (const auto& s : c.subscription_data_set) {
      json sj = {{"classFilterMode", s.class_filter_mode},
                 {"codeSet", s.code_set},
                 {"subString", s.sub_string},
                 {"subVersion", s.sub_version},
                 {"tagsSet", s.tags_set},
                 {"topic", s.topic}};
      if (s.expression_type) sj["expressionType"] = *s.expression_type;
      subs.push_back(std::move(sj));
    }
    consumers.push_back({{"consumeFromWhere", c.consume_from_where},
                         {"consumeType", c.consume_type},
                         {"groupName", c.group_name},
                         {"messageModel", c.message_model},
                         {"subscriptionDataSet", std::move(subs)},
                         {"unitMode", c.unit_mode}});
  }
  json producers = json::array();
  for (const auto& p : producer_data_set) producers.push_back({{"groupName", p.group_name}});
  return dump(json{{"clientID", client_id},
                   {"consumerDataSet", std::move(consumers)},
                   {"producerDataSet", std::move(producers)}});
}

Result<HeartbeatData> HeartbeatData::from_json(std::string_view text) {
  return read_body<HeartbeatData>(text, "HeartbeatData", [](const json& j) {
    HeartbeatData h;
    h.client_id = j.at("clientID").get<std::string>();
    for (const auto& p : member(j, "producerDataSet")) {
      h.producer_data_set.push_back(ProducerData{p.at("groupName").get<std::string>()});
    }
    for (const auto& c : member(j, "consumerDataSet")) {
      ConsumerData cd;
      cd.group_name = c.at("groupName").get<std::string>();
      cd.consume_type = get_enum_or(c, "consumeType", kConsumeTypes, cd.consume_type);
      cd.message_model = get_enum_or(c, "messageModel", kMessageModels, cd.message_model);
      cd.consume_from_where =
          get_enum_or(c, "consumeFromWhere", kConsumeFromWhere, cd.consume_from_where);
      cd.unit_mode = get_or<bool>(c, "unitMode", false);
      for (const auto& s : member(c, "subscriptionDataSet")) {
        SubscriptionData sd;
        sd.topic = s.at("topic").get<std::string>();
        sd.sub_string = get_or<std::string>(s, "subString", std::string(SubscriptionData::SUB_ALL));
        sd.class_filter_mode = get_or<bool>(s, "classFilterMode", false);
        sd.sub_version = get_or<std::int64_t>(s, "subVersion", 0);
        sd.tags_set = member(s, "tagsSet").get<std::vector<std::string>>();
        for (const auto& code : member(s, "codeSet"))
          sd.code_set.push_back(to_int<std::int32_t>(code));
        if (auto it = s.find("expressionType"); it != s.end() && it->is_string()) {
          sd.expression_type = it->get<std::string>();
        }
        cd.subscription_data_set.push_back(std::move(sd));
      }
      h.consumer_data_set.push_back(std::move(cd));
    }
    return h;
  });
}

// --- locks -----------------------------------------------------------------------------------

std::string LockBatchRequestBody::to_json() const {
  json mqs = json::array();
  for (const auto& mq : mq_set) mqs.push_back(message_queue_json(mq));
  json j = {{"clientId", client_id}, {"consumerGroup", consumer_group}, {"mqSet", std::move(mqs)}};
  if (only_this_broker) j["onlyThisBroker"] = *only_this_broker;
  return dump(j);
}

Result<LockBatchRequestBody> LockBatchRequestBody::from_json(std::string_view text) {
  return read_body<LockBatchRequestBody>(text, "LockBatchRequestBody", [](const json& j) {
    LockBatchRequestBody b;
    b.consumer_group = j.at("consumerGroup").get<std::string>();
    b.client_id = j.at("clientId").get<std::string>();
    for (const auto& mq : member(j, "mqSet")) b.mq_set.push_back(message_queue_from(mq));
    if (auto it = j.find("onlyThisBroker"); it != j.end() && !it->is_null()) {
      b.only_this_broker = to_bool(*it);
    }
    return b;
  });
}

std::string LockBatchResponseBody::to_json() const {
  json mqs = json::array();
  for (const auto& mq : lock_ok_mq_set) mqs.push_back(message_queue_json(mq));
  return dump(json{{"lockOKMQSet", std::move(mqs)}});
}

Result<LockBatchResponseBody> LockBatchResponseBody::from_json(std::string_view text) {
  return read_body<LockBatchResponseBody>(text, "LockBatchResponseBody", [](const json& j) {
    LockBatchResponseBody b;
    for (const auto& mq : member(j, "lockOKMQSet"))
      b.lock_ok_mq_set.push_back(message_queue_from(mq));
    return b;
  });
}

// --- broker registration ---------------------------------------------------------------------

std::string RegisterBrokerBody::to_json() const {
  json table = json::object();
  for (const auto& [name, t] : topic_config_table) {
    table[name] = {{"order", t.order},
                   {"perm", t.perm},
                   {"readQueueNums", t.read_queue_nums},
                   {"topicFilterType", t.topic_filter_type},
                   {"topicName", t.topic_name},
                   {"topicSysFlag", t.topic_sys_flag},
                   {"writeQueueNums", t.write_queue_nums}};
  }
  return dump(json{
      {"filterServerList", filter_server_list},
      {"topicConfigSerializeWrapper",
       {{"dataVersion", {{"counter", data_version.counter}, {"timestamp", data_version.timestamp}}},
        {"topicConfigTable", std::move(table)}}}});
}

Result<RegisterBrokerBody> RegisterBrokerBody::from_json(std::string_view text) {
  return read_body<RegisterBrokerBody>(text, "RegisterBrokerBody", [](const json& j) {
    RegisterBrokerBody b;
    b.filter_server_list = member(j, "filterServerList").get<std::vector<std::string>>();
    const json& wrapper = j.at("topicConfigSerializeWrapper");
    if (auto it = wrapper.find("dataVersion"); it != wrapper.end() && it->is_object()) {
      b.data_version.counter = get_or<std::int64_t>(*it, "counter", 0);
      b.data_version.timestamp = get_or<std::int64_t>(*it, "timestamp", 0);
    }
    if (auto it = wrapper.find("topicConfigTable"); it != wrapper.end() && it->is_object()) {
      for (const auto& [name, t] : it->items()) {
        TopicConfig c;
        c.topic_name = get_or<std::string>(t, "topicName", name);
        c.read_queue_nums = get_or<std::int32_t>(t, "readQueueNums", c.read_queue_nums);
        c.write_queue_nums = get_or<std::int32_t>(t, "writeQueueNums", c.write_queue_nums);
        c.perm = get_or<std::int32_t>(t, "perm", c.perm);
        c.topic_filter_type =
            get_enum_or(t, "topicFilterType", kTopicFilterTypes, c.topic_filter_type);
        c.topic_sys_flag = get_or<std::int32_t>(t, "topicSysFlag", 0);
        c.order = get_or<bool>(t, "order", false);
        b.topic_config_table[name] = std::move(c);
      }
    }
    return b;
  });
}

}  // namespace rmqc::rocketmq
