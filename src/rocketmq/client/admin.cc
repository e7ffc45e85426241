#include "rocketmq/client/admin.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/client/client_instance.h"
#include "rocketmq/client/message.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace rmqc::rocketmq {
namespace {

namespace rc = request_code;
namespace rsp = response_code;

std::vector<std::string> masters_of(const ClusterInfo& info, const std::string& cluster) {
  std::vector<std::string> out;
  for (const auto& [name, broker] : info.broker_addr_table) {
    if (!cluster.empty() && broker.cluster != cluster) continue;
    if (auto it = broker.broker_addrs.find(0); it != broker.broker_addrs.end()) {
      out.push_back(it->second);
    }
  }
  return out;
}

// The end of the JSON value starting at text[pos] ('{' or '['), or npos when unbalanced.
std::size_t value_end(std::string_view text, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<std::vector<std::pair<MessageQueue, std::string>>> parse_queue_keyed_map(
    std::string_view body, std::string_view member) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument,
                 "unreadable " + std::string(member) + " map in the broker's reply: " + why);
  };
  const std::string needle = "\"" + std::string(member) + "\":";
  std::size_t pos = body.find(needle);
  std::vector<std::pair<MessageQueue, std::string>> out;
  if (pos == std::string_view::npos) return out;
  pos += needle.size();
  if (pos >= body.size() || body[pos] != '{') return bad("not an object");
  ++pos;
  while (pos < body.size()) {
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == ',')) ++pos;
    if (pos < body.size() && body[pos] == '}') return out;
    std::size_t key_end =
        pos < body.size() && body[pos] == '{' ? value_end(body, pos) : std::string_view::npos;
    if (key_end == std::string_view::npos || key_end >= body.size() || body[key_end] != ':') {
      return bad("expected a queue object as key");
    }
    std::size_t v_end =
        key_end + 1 < body.size() ? value_end(body, key_end + 1) : std::string_view::npos;
    if (v_end == std::string_view::npos) return bad("unbalanced value");
    try {
      auto key = nlohmann::json::parse(body.substr(pos, key_end - pos));
      MessageQueue q;
      q.topic = key.at("topic").get<std::string>();
      q.broker_name = key.at("brokerName").get<std::string>();
      q.queue_id = key.at("queueId").get<std::int32_t>();
      out.emplace_back(std::move(q), std::string(body.substr(key_end + 1, v_end - key_end - 1)));
    } catch (const std::exception& e) {
      return bad(e.what());
    }
    pos = v_end;
  }
  return bad("unterminated");
}

Result<std::unique_ptr<Admin>> Admin::start(ClientConfig config) {
  if (config.thread_tag.empty()) config.thread_tag = "admin";
  RMQC_ASSIGN_OR_RETURN(auto instance, ClientInstance::create(std::move(config)));
  return std::unique_ptr<Admin>(new Admin(std::move(instance)));
}

Admin::~Admin() {
  instance_->shutdown();
}

Result<ClusterInfo> Admin::cluster_info() {
  RMQC_ASSIGN_OR_RETURN(
      auto reply, instance_->invoke_namesrv(RemotingCommand::request(rc::GET_BROKER_CLUSTER_INFO)));
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "cluster info");
  return ClusterInfo::from_json(reply.body);
}

Result<void> Admin::create_topic(const std::string& topic, std::int32_t queues, std::int32_t perm,
                                 const std::string& cluster) {
  RMQC_ASSIGN_OR_RETURN(auto info, cluster_info());
  auto masters = masters_of(info, cluster);
  if (masters.empty()) {
    return Error(ErrorCode::kNotFound, cluster.empty()
                                           ? "no broker registered with the name server"
                                           : "no master broker in cluster '" + cluster + "'");
  }
  CreateTopicRequestHeader h;
  h.topic = topic;
  h.read_queue_nums = h.write_queue_nums = queues;
  h.perm = perm;
  for (const auto& addr : masters) {
    RMQC_ASSIGN_OR_RETURN(
        auto reply,
        instance_->invoke_broker(
            addr, RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, h.to_ext_fields())));
    // Judge by the code only: 4.9 answers success with remark "not set any response code".
    if (reply.code != rsp::SUCCESS) return error_from_response(reply, "create topic " + topic);
  }
  return {};
}

Result<void> Admin::delete_topic(const std::string& topic) {
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(topic));
  DeleteTopicRequestHeader h;
  h.topic = topic;
  for (const auto& [name, addr] : route->master_addrs) {
    RMQC_ASSIGN_OR_RETURN(auto reply, instance_->invoke_broker(
                                          addr, RemotingCommand::request(rc::DELETE_TOPIC_IN_BROKER,
                                                                         h.to_ext_fields())));
    if (reply.code != rsp::SUCCESS) return error_from_response(reply, "delete topic " + topic);
  }
  // A name server that does not implement 216 never answers (spec §1.6): best effort.
  auto reply = instance_->invoke_namesrv(
      RemotingCommand::request(rc::DELETE_TOPIC_IN_NAMESRV, h.to_ext_fields()),
      std::chrono::milliseconds(1000));
  if (!reply.ok()) {
    logger("client")->debug("delete {} on the name server: {}", topic, reply.error().to_string());
  }
  return {};
}

Result<std::vector<std::string>> Admin::topic_list() {
  RMQC_ASSIGN_OR_RETURN(
      auto reply,
      instance_->invoke_namesrv(RemotingCommand::request(rc::GET_ALL_TOPIC_LIST_FROM_NAMESERVER)));
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "topic list");
  RMQC_ASSIGN_OR_RETURN(auto list, TopicList::from_json(reply.body));
  std::sort(list.topic_list.begin(), list.topic_list.end());
  return std::move(list.topic_list);
}

Result<TopicRouteData> Admin::topic_route(const std::string& topic) {
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(topic));
  return route->route;
}

Result<std::string> Admin::master_of(const MessageQueue& queue) {
  if (auto addr = instance_->master_addr(queue.broker_name)) return *addr;
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(queue.topic));
  auto it = route->master_addrs.find(queue.broker_name);
  if (it == route->master_addrs.end()) {
    return Error(ErrorCode::kNotFound, "no master for broker " + queue.broker_name);
  }
  return it->second;
}

Result<std::int64_t> Admin::offset_call(std::int32_t code, const MessageQueue& queue,
                                        std::int64_t timestamp) {
  RMQC_ASSIGN_OR_RETURN(std::string addr, master_of(queue));
  ExtFields fields =
      code == rc::SEARCH_OFFSET_BY_TIMESTAMP
          ? SearchOffsetRequestHeader{queue.topic, queue.queue_id, timestamp, queue.broker_name}
                .to_ext_fields()
          : QueueRequestHeader{queue.topic, queue.queue_id, std::nullopt, queue.broker_name}
                .to_ext_fields();
  RMQC_ASSIGN_OR_RETURN(auto reply,
                        instance_->invoke_broker(addr, RemotingCommand::request(code, fields)));
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "offset request");
  RMQC_ASSIGN_OR_RETURN(auto h, OffsetResponseHeader::from_ext_fields(reply.ext_fields));
  return h.offset;
}

Result<std::int64_t> Admin::min_offset(const MessageQueue& queue) {
  return offset_call(rc::GET_MIN_OFFSET, queue);
}

Result<std::int64_t> Admin::max_offset(const MessageQueue& queue) {
  return offset_call(rc::GET_MAX_OFFSET, queue);
}

Result<std::int64_t> Admin::search_offset(const MessageQueue& queue, std::int64_t timestamp_ms) {
  return offset_call(rc::SEARCH_OFFSET_BY_TIMESTAMP, queue, timestamp_ms);
}

Result<std::vector<QueueOffsets>> Admin::topic_status(const std::string& topic) {
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(topic));
  std::vector<QueueOffsets> out;
  for (const auto& [name, addr] : route->master_addrs) {
    RMQC_ASSIGN_OR_RETURN(auto reply, instance_->invoke_broker(
                                          addr, RemotingCommand::request(rc::GET_TOPIC_STATS_INFO,
                                                                         {{"topic", topic}})));
    if (reply.code != rsp::SUCCESS) return error_from_response(reply, "topic stats of " + topic);
    RMQC_ASSIGN_OR_RETURN(auto table, parse_queue_keyed_map(reply.body, "offsetTable"));
    for (auto& [q, value] : table) {
      QueueOffsets o;
      o.queue = std::move(q);
      try {
        auto v = nlohmann::json::parse(value);
        o.min_offset = v.value("minOffset", std::int64_t{0});
        o.max_offset = v.value("maxOffset", std::int64_t{0});
        o.last_update_timestamp = v.value("lastUpdateTimestamp", std::int64_t{0});
      } catch (const std::exception& e) {
        return Error(ErrorCode::kInvalidArgument, std::string("topic stats: ") + e.what());
      }
      out.push_back(std::move(o));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const QueueOffsets& a, const QueueOffsets& b) { return a.queue < b.queue; });
  return out;
}

Result<std::vector<std::string>> Admin::consumer_ids(const std::string& group) {
  RMQC_ASSIGN_OR_RETURN(auto info, cluster_info());
  std::set<std::string> ids;
  for (const auto& addr : masters_of(info, {})) {
    RMQC_ASSIGN_OR_RETURN(
        auto reply,
        instance_->invoke_broker(
            addr, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP,
                                           ConsumerGroupRequestHeader{group}.to_ext_fields())));
    if (reply.code != rsp::SUCCESS) continue;  // "no consumer for this group"
    RMQC_ASSIGN_OR_RETURN(auto body, ConsumerListBody::from_json(reply.body));
    ids.insert(body.consumer_id_list.begin(), body.consumer_id_list.end());
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

Result<std::int64_t> Admin::committed_offset(const std::string& group, const MessageQueue& queue) {
  RMQC_ASSIGN_OR_RETURN(std::string addr, master_of(queue));
  QueryConsumerOffsetRequestHeader h{group, queue.topic, queue.queue_id, queue.broker_name};
  RMQC_ASSIGN_OR_RETURN(
      auto reply, instance_->invoke_broker(addr, RemotingCommand::request(rc::QUERY_CONSUMER_OFFSET,
                                                                          h.to_ext_fields())));
  if (reply.code == rsp::QUERY_NOT_FOUND) return -1;
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "query consumer offset");
  RMQC_ASSIGN_OR_RETURN(auto r, OffsetResponseHeader::from_ext_fields(reply.ext_fields));
  return r.offset;
}

Result<void> Admin::commit_offset(const std::string& group, const MessageQueue& queue,
                                  std::int64_t offset) {
  RMQC_ASSIGN_OR_RETURN(std::string addr, master_of(queue));
  UpdateConsumerOffsetRequestHeader h{group, queue.topic, queue.queue_id, offset,
                                      queue.broker_name};
  RMQC_ASSIGN_OR_RETURN(auto reply, instance_->invoke_broker(
                                        addr, RemotingCommand::request(rc::UPDATE_CONSUMER_OFFSET,
                                                                       h.to_ext_fields())));
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "commit offset");
  return {};
}

Result<std::vector<QueueProgress>> Admin::group_progress(const std::string& group,
                                                         const std::vector<std::string>& topics) {
  // (broker address, topic or "" for every topic of the group)
  std::vector<std::pair<std::string, std::string>> calls;
  if (topics.empty()) {
    RMQC_ASSIGN_OR_RETURN(auto info, cluster_info());
    for (const auto& addr : masters_of(info, {})) calls.emplace_back(addr, "");
  } else {
    for (const auto& topic : topics) {
      RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(topic));
      for (const auto& [name, addr] : route->master_addrs) calls.emplace_back(addr, topic);
    }
  }
  std::vector<QueueProgress> out;
  for (const auto& [addr, topic] : calls) {
    ExtFields fields{{"consumerGroup", group}};
    if (!topic.empty()) fields["topic"] = topic;
    RMQC_ASSIGN_OR_RETURN(
        auto reply, instance_->invoke_broker(
                        addr, RemotingCommand::request(rc::GET_CONSUME_STATS, std::move(fields))));
    if (reply.code != rsp::SUCCESS) return error_from_response(reply, "consume stats of " + group);
    RMQC_ASSIGN_OR_RETURN(auto table, parse_queue_keyed_map(reply.body, "offsetTable"));
    for (auto& [q, value] : table) {
      QueueProgress p;
      p.queue = std::move(q);
      try {
        auto v = nlohmann::json::parse(value);
        p.broker_offset = v.value("brokerOffset", std::int64_t{0});
        p.consumer_offset = v.value("consumerOffset", std::int64_t{0});
        p.last_timestamp = v.value("lastTimestamp", std::int64_t{0});
      } catch (const std::exception& e) {
        return Error(ErrorCode::kInvalidArgument, std::string("consume stats: ") + e.what());
      }
      out.push_back(std::move(p));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const QueueProgress& a, const QueueProgress& b) { return a.queue < b.queue; });
  return out;
}

Result<ConsumerConnection> Admin::consumer_connections(const std::string& group) {
  RMQC_ASSIGN_OR_RETURN(auto info, cluster_info());
  ConsumerConnection out;
  bool online = false;
  std::string not_online;
  for (const auto& addr : masters_of(info, {})) {
    RMQC_ASSIGN_OR_RETURN(
        auto reply,
        instance_->invoke_broker(
            addr, RemotingCommand::request(rc::GET_CONSUMER_CONNECTION_LIST,
                                           ConsumerGroupRequestHeader{group}.to_ext_fields())));
    if (reply.code == rsp::CONSUMER_NOT_ONLINE) {
      not_online = reply.remark;
      continue;
    }
    if (reply.code != rsp::SUCCESS) {
      return error_from_response(reply, "consumer connections of " + group);
    }
    try {
      auto j = nlohmann::json::parse(reply.body);
      static const nlohmann::json kEmpty = nlohmann::json::object();
      auto member = [&](const char* name) -> const nlohmann::json& {
        auto it = j.find(name);
        return it == j.end() ? kEmpty : *it;
      };
      for (const auto& c : member("connectionSet")) {
        ConsumerConnection::Connection conn;
        conn.client_id = c.value("clientId", std::string());
        conn.client_addr = c.value("clientAddr", std::string());
        conn.language = c.value("language", std::string());
        conn.version = c.value("version", 0);
        out.connections.push_back(std::move(conn));
      }
      out.consume_type = j.value("consumeType", out.consume_type);
      out.message_model = j.value("messageModel", out.message_model);
      out.consume_from_where = j.value("consumeFromWhere", out.consume_from_where);
      for (const auto& [topic, s] : member("subscriptionTable").items()) {
        SubscriptionData sub;
        sub.topic = s.value("topic", topic);
        sub.sub_string = s.value("subString", std::string());
        sub.sub_version = s.value("subVersion", std::int64_t{0});
        sub.tags_set = s.value("tagsSet", std::vector<std::string>());
        sub.code_set = s.value("codeSet", std::vector<std::int32_t>());
        sub.class_filter_mode = s.value("classFilterMode", false);
        if (s.contains("expressionType"))
          sub.expression_type = s["expressionType"].get<std::string>();
        out.subscriptions[topic] = std::move(sub);
      }
    } catch (const std::exception& e) {
      return Error(ErrorCode::kInvalidArgument,
                   std::string("unreadable consumer connection body: ") + e.what());
    }
    online = true;
  }
  if (!online) {
    return Error(ErrorCode::kNotFound,
                 not_online.empty() ? "the consumer group[" + group + "] not online" : not_online);
  }
  std::sort(out.connections.begin(), out.connections.end(),
            [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
  return out;
}

Result<std::vector<MessageExt>> Admin::query_messages(const std::string& topic,
                                                      const std::string& key, bool unique_key,
                                                      std::int32_t max_num, std::int64_t begin_ms,
                                                      std::int64_t end_ms) {
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->refresh_route(topic));
  QueryMessageRequestHeader h;
  h.topic = topic;
  h.key = key;
  h.max_num = max_num;
  h.begin_timestamp = begin_ms;
  h.end_timestamp = end_ms;
  h.unique_key_query = unique_key;
  std::vector<MessageExt> out;
  for (const auto& [name, addr] : route->master_addrs) {
    RMQC_ASSIGN_OR_RETURN(
        auto reply, instance_->invoke_broker(
                        addr, RemotingCommand::request(rc::QUERY_MESSAGE, h.to_ext_fields())));
    if (reply.code == rsp::QUERY_NOT_FOUND) continue;
    if (reply.code != rsp::SUCCESS) return error_from_response(reply, "query message");
    auto buffer = std::make_shared<const std::string>(std::move(reply.body));
    RMQC_ASSIGN_OR_RETURN(auto views, decode_stored_messages(*buffer));
    for (const auto& v : views) {
      // The broker's index may hash-collide: keep what really carries the key (as Java does).
      auto props = parse_properties(v.properties);
      bool match = false;
      if (unique_key) {
        auto u = props.find(property::UNIQ_KEY);
        match = u != props.end() && u->second == key;
      }
      if (!match) {
        if (auto k = props.find(property::KEYS); k != props.end()) {
          std::string_view rest = k->second;
          while (!match && !rest.empty()) {
            auto sp = rest.find(' ');
            match = rest.substr(0, sp) == key;
            rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
          }
        }
        if (auto u = props.find(property::UNIQ_KEY); !match && u != props.end()) {
          match = u->second == key;
        }
      }
      if (!match || v.topic != topic) continue;
      auto q = std::make_shared<const MessageQueue>(MessageQueue{topic, name, v.queue_id});
      RMQC_ASSIGN_OR_RETURN(auto m, MessageExt::from_stored(v, buffer, q));
      out.push_back(std::move(m));
    }
  }
  return out;
}

Result<MessageExt> Admin::view_message(const std::string& msg_id, const std::string& topic) {
  // With a topic, a client msgId (UNIQ_KEY) first: it has the offsetMsgId's length, so only a
  // lookup tells them apart (as mqadmin queryMsgById falls back between the two).
  if (!topic.empty()) {
    RMQC_ASSIGN_OR_RETURN(auto found, query_messages(topic, msg_id, /*unique_key=*/true));
    if (!found.empty()) return std::move(found.front());
  }
  auto id = decode_offset_msg_id(msg_id);
  if (!id.ok()) {
    return Error(ErrorCode::kNotFound,
                 topic.empty() ? "'" + msg_id +
                                     "' is not an offsetMsgId; give the topic to look it up by "
                                     "its unique key"
                               : "no message with id " + msg_id + " in " + topic);
  }
  const std::string addr = id->store_host.to_string();
  ViewMessageRequestHeader h;
  h.offset = id->physical_offset;
  RMQC_ASSIGN_OR_RETURN(
      auto reply, instance_->invoke_broker(
                      addr, RemotingCommand::request(rc::VIEW_MESSAGE_BY_ID, h.to_ext_fields())));
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "view message " + msg_id);
  auto buffer = std::make_shared<const std::string>(std::move(reply.body));
  RMQC_ASSIGN_OR_RETURN(auto view, decode_stored_message(*buffer));
  auto q = std::make_shared<const MessageQueue>(
      MessageQueue{std::string(view.topic), "", view.queue_id});
  return MessageExt::from_stored(view, buffer, q);
}

// --- GroupMembership --------------------------------------------------------------------------

Result<std::unique_ptr<GroupMembership>> GroupMembership::start(Options options,
                                                                Listener on_change) {
  if (options.group.empty() || options.topic.empty()) {
    return Error(ErrorCode::kInvalidArgument, "group membership needs a group and a topic");
  }
  if (options.client.thread_tag.empty()) options.client.thread_tag = options.group;
  RMQC_ASSIGN_OR_RETURN(auto instance, ClientInstance::create(options.client));
  std::unique_ptr<GroupMembership> m(new GroupMembership());
  m->options_ = std::move(options);
  m->on_change_ = std::move(on_change);
  m->instance_ = std::move(instance);
  RMQC_RETURN_IF_ERROR(m->instance_->route(m->options_.topic));
  auto* raw = m.get();
  if (m->options_.join) {
    m->heartbeat_id_ = m->instance_->add_heartbeat_contributor([raw](HeartbeatData& data) {
      ConsumerData c;
      c.group_name = raw->options_.group;
      c.consume_type = "CONSUME_ACTIVELY";
      c.subscription_data_set.push_back(SubscriptionData::build(raw->options_.topic, "*", 1));
      data.consumer_data_set.push_back(std::move(c));
    });
  }
  m->listener_id_ = m->instance_->add_group_changed_listener([raw](const std::string& group) {
    if (group != raw->options_.group) return;
    {
      std::lock_guard lock(raw->mutex_);
      raw->changed_ = true;
    }
    raw->cv_.notify_one();
  });
  if (m->options_.join) RMQC_RETURN_IF_ERROR(m->instance_->send_heartbeat());
  m->refresh();
  m->thread_ = std::thread([raw] {
    set_thread_name(tagged_thread_name("gm:", raw->options_.client.thread_tag));
    raw->run();
  });
  return m;
}

GroupMembership::~GroupMembership() {
  stop();
}

const std::string& GroupMembership::client_id() const {
  return instance_->client_id();
}

std::vector<std::string> GroupMembership::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

std::chrono::steady_clock::time_point GroupMembership::last_refreshed() const {
  std::lock_guard lock(mutex_);
  return last_refreshed_;
}

void GroupMembership::refresh() {
  auto route = instance_->route(options_.topic);
  if (!route.ok() || (*route)->master_addrs.empty()) return;
  std::set<std::string> ids;
  for (const auto& [name, addr] : (*route)->master_addrs) {
    auto reply = instance_->invoke_broker(
        addr, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP,
                                       ConsumerGroupRequestHeader{options_.group}.to_ext_fields()));
    if (!reply.ok()) return;  // keep the last known list rather than report a false change
    if (reply->code != rsp::SUCCESS) continue;
    auto body = ConsumerListBody::from_json(reply->body);
    if (!body.ok()) return;
    ids.insert(body->consumer_id_list.begin(), body->consumer_id_list.end());
  }
  std::vector<std::string> sorted(ids.begin(), ids.end());
  {
    std::lock_guard lock(mutex_);
    last_refreshed_ = std::chrono::steady_clock::now();
    if (sorted == members_) return;
    members_ = sorted;
  }
  if (on_change_) on_change_(sorted);
}

void GroupMembership::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || changed_; });
    if (stopping_) break;
    changed_ = false;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

void GroupMembership::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  instance_->remove_group_changed_listener(listener_id_);
  if (options_.join) {
    instance_->remove_heartbeat_contributor(heartbeat_id_);
    instance_->unregister_client(std::nullopt, options_.group);
  }
  instance_->shutdown();
}

}  // namespace rmqc::rocketmq
