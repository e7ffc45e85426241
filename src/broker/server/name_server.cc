#include "broker/server/name_server.h"

#include "base/logging.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

namespace rmqc::broker {
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
using rocketmq::RemotingCommand;

namespace {

constexpr std::string_view kFaq = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";
// Requests from clients at or above V4_9_4 get standard JSON route data (spec 2.3.1).
constexpr std::int32_t kStandardJsonVersion = 401;

RemotingCommand error_reply(const RemotingCommand& request, std::int32_t code, std::string remark) {
  return RemotingCommand::response_to(request, code, std::move(remark));
}

}  // namespace

NameServer::NameServer(std::chrono::milliseconds broker_expiry) : broker_expiry_(broker_expiry) {}

void NameServer::register_broker(const BrokerRegistration& reg, std::uint64_t connection_id) {
  std::lock_guard lock(mutex_);
  clusters_[reg.cluster_name].insert(reg.broker_name);
  auto& broker = brokers_[reg.broker_name];
  broker.cluster = reg.cluster_name;
  broker.broker_name = reg.broker_name;
  // A new address for an id replaces the old one (a restarted broker on another port).
  auto old = broker.broker_addrs.find(reg.broker_id);
  if (old != broker.broker_addrs.end() && old->second != reg.broker_addr) live_.erase(old->second);
  broker.broker_addrs[reg.broker_id] = reg.broker_addr;

  auto& live = live_[reg.broker_addr];
  bool first = live.last_update == std::chrono::steady_clock::time_point{};
  bool changed = first || !(live.data_version == reg.data_version);
  live.cluster_name = reg.cluster_name;
  live.broker_name = reg.broker_name;
  live.broker_id = reg.broker_id;
  live.data_version = reg.data_version;
  live.last_update = std::chrono::steady_clock::now();
  if (connection_id != 0) live.connection_id = connection_id;

  // Queue data comes from the master only, and only when its topic set changed.
  if (reg.broker_id == 0 && changed) {
    for (auto& [topic, queues] : topic_queues_) queues.erase(reg.broker_name);
    for (const auto& [name, config] : reg.topic_config_table) {
      rocketmq::QueueData q;
      q.broker_name = reg.broker_name;
      q.read_queue_nums = config.read_queue_nums;
      q.write_queue_nums = config.write_queue_nums;
      q.perm = config.perm;
      q.topic_sys_flag = config.topic_sys_flag;
      topic_queues_[name][reg.broker_name] = q;
    }
    std::erase_if(topic_queues_, [](const auto& entry) { return entry.second.empty(); });
  }
}

void NameServer::remove_broker_addr_locked(const std::string& broker_addr) {
  auto live = live_.find(broker_addr);
  if (live == live_.end()) return;
  std::string name = live->second.broker_name;
  std::string cluster = live->second.cluster_name;
  live_.erase(live);
  auto broker = brokers_.find(name);
  if (broker == brokers_.end()) return;
  std::erase_if(broker->second.broker_addrs,
                [&](const auto& entry) { return entry.second == broker_addr; });
  if (!broker->second.broker_addrs.empty()) return;
  // The last address of that broker name: its routes go too.
  brokers_.erase(broker);
  if (auto c = clusters_.find(cluster); c != clusters_.end()) {
    c->second.erase(name);
    if (c->second.empty()) clusters_.erase(c);
  }
  for (auto& [topic, queues] : topic_queues_) queues.erase(name);
  std::erase_if(topic_queues_, [](const auto& entry) { return entry.second.empty(); });
  logger("namesrv")->info("broker {} ({}) removed", name, broker_addr);
}

void NameServer::unregister_broker(std::string_view, std::string_view, std::string_view broker_addr,
                                   std::int64_t) {
  std::lock_guard lock(mutex_);
  remove_broker_addr_locked(std::string(broker_addr));
}

int NameServer::expire_inactive_brokers() {
  std::lock_guard lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() - broker_expiry_;
  std::vector<std::string> expired;
  for (const auto& [addr, live] : live_) {
    if (live.last_update < deadline) expired.push_back(addr);
  }
  for (const auto& addr : expired) {
    logger("namesrv")->warn("broker {} silent for {} ms, removing", addr, broker_expiry_.count());
    remove_broker_addr_locked(addr);
  }
  return static_cast<int>(expired.size());
}

std::optional<rocketmq::TopicRouteData> NameServer::route(std::string_view topic) const {
  std::lock_guard lock(mutex_);
  auto it = topic_queues_.find(topic);
  if (it == topic_queues_.end() || it->second.empty()) return std::nullopt;
  rocketmq::TopicRouteData route;
  for (const auto& [name, queue] : it->second) {
    route.queue_datas.push_back(queue);
    if (auto b = brokers_.find(name); b != brokers_.end()) route.broker_datas.push_back(b->second);
  }
  return route;
}

rocketmq::ClusterInfo NameServer::cluster_info() const {
  std::lock_guard lock(mutex_);
  rocketmq::ClusterInfo info;
  for (const auto& [name, broker] : brokers_) info.broker_addr_table[name] = broker;
  for (const auto& [cluster, names] : clusters_) {
    info.cluster_addr_table[cluster] = std::vector<std::string>(names.begin(), names.end());
  }
  return info;
}

std::vector<std::string> NameServer::topics() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(topic_queues_.size());
  for (const auto& [topic, queues] : topic_queues_) out.push_back(topic);
  return out;
}

void NameServer::on_close(const remoting::ConnectionPtr& connection) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> gone;
  for (const auto& [addr, live] : live_) {
    if (live.connection_id == connection->id()) gone.push_back(addr);
  }
  for (const auto& addr : gone) {
    logger("namesrv")->info("connection of broker {} closed", addr);
    remove_broker_addr_locked(addr);
  }
}

void NameServer::on_request(const remoting::ConnectionPtr& connection, RemotingCommand request) {
  if (request.code == rc::REGISTER_BROKER) {
    // Needs the connection id (a closed registration connection drops the broker).
    auto header = rocketmq::RegisterBrokerRequestHeader::from_ext_fields(request.ext_fields);
    RemotingCommand reply;
    if (!header.ok()) {
      reply = error_reply(request, rsp::SYSTEM_ERROR, header.error().message());
      refusals_.log(connection->remote_address(), request.code, reply.remark);
    } else if (header->compressed) {
      reply = error_reply(request, rsp::SYSTEM_ERROR,
                          "compressed REGISTER_BROKER bodies are not supported");
    } else if (header->body_crc32 != 0 && static_cast<std::int32_t>(rocketmq::body_crc32(
                                              request.body)) != header->body_crc32) {
      reply = error_reply(request, rsp::SYSTEM_ERROR, "REGISTER_BROKER body CRC mismatch");
      refusals_.log(connection->remote_address(), request.code, reply.remark);
    } else {
      BrokerRegistration reg;
      reg.cluster_name = header->cluster_name;
      reg.broker_name = header->broker_name;
      reg.broker_addr = header->broker_addr;
      reg.ha_server_addr = header->ha_server_addr;
      reg.broker_id = header->broker_id;
      if (!request.body.empty()) {
        auto body = rocketmq::RegisterBrokerBody::from_json(request.body);
        if (!body.ok()) {
          reply = error_reply(request, rsp::SYSTEM_ERROR, body.error().message());
          refusals_.log(connection->remote_address(), request.code, reply.remark);
          if (!request.is_oneway()) connection->send(reply);
          return;
        }
        reg.data_version = body->data_version;
        reg.topic_config_table = std::move(body->topic_config_table);
      }
      register_broker(reg, connection->id());
      reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.ext_fields_present = true;
    }
    if (!request.is_oneway()) connection->send(reply);
    return;
  }
  std::optional<std::string> refusal;
  RemotingCommand reply = handle(request, &refusal);
  if (refusal) refusals_.log(connection->remote_address(), request.code, *refusal);
  if (!request.is_oneway()) connection->send(reply);
}

RemotingCommand NameServer::handle(const RemotingCommand& request,
                                   std::optional<std::string>* refusal) {
  switch (request.code) {
    case rc::UNREGISTER_BROKER: {
      auto h = rocketmq::UnregisterBrokerRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) {
        *refusal = h.error().message();
        return error_reply(request, rsp::SYSTEM_ERROR, h.error().message());
      }
      unregister_broker(h->cluster_name, h->broker_name, h->broker_addr, h->broker_id);
      return RemotingCommand::response_to(request, rsp::SUCCESS);
    }
    case rc::GET_ROUTEINFO_BY_TOPIC: {
      const std::string* topic = request.ext("topic");
      std::string name = topic ? *topic : "null";
      auto r = route(name);
      if (!r) {
        return error_reply(
            request, rsp::TOPIC_NOT_EXIST,
            "No topic route info in name server for the topic: " + name + std::string(kFaq));
      }
      const std::string* standard_only = request.ext("acceptStandardJsonOnly");
      bool standard =
          request.version >= kStandardJsonVersion || (standard_only && *standard_only == "true");
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.body = r->to_json(standard);
      return reply;
    }
    case rc::GET_BROKER_CLUSTER_INFO: {
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.body = cluster_info().to_json(/*standard=*/false);
      return reply;
    }
    case rc::GET_ALL_TOPIC_LIST_FROM_NAMESERVER:
    case rc::GET_TOPICS_BY_CLUSTER: {
      rocketmq::TopicList list;
      list.topic_list = topics();
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.body = list.to_json();
      return reply;
    }
    case rc::GET_SYSTEM_TOPIC_LIST_FROM_NS: {
      rocketmq::TopicList list;
      {
        std::lock_guard lock(mutex_);
        for (const auto& [cluster, names] : clusters_) {
          list.topic_list.push_back(cluster);
          list.topic_list.insert(list.topic_list.end(), names.begin(), names.end());
        }
      }
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.body = list.to_json();
      return reply;
    }
    case rc::QUERY_DATA_VERSION: {
      auto h = rocketmq::QueryDataVersionRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) {
        *refusal = h.error().message();
        return error_reply(request, rsp::SYSTEM_ERROR, h.error().message());
      }
      auto version = rocketmq::RegisterBrokerBody::from_json(
          request.body.empty() ? std::string_view("{}") : std::string_view(request.body));
      bool changed = true;
      {
        std::lock_guard lock(mutex_);
        if (auto live = live_.find(h->broker_addr); live != live_.end()) {
          changed = !version.ok() || !(live->second.data_version == version->data_version);
          live->second.last_update = std::chrono::steady_clock::now();
        }
      }
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.ext_fields = rocketmq::QueryDataVersionResponseHeader{changed}.to_ext_fields();
      return reply;
    }
    case rc::PUT_KV_CONFIG:
    case rc::DELETE_KV_CONFIG: {
      // Clients write ORDER_TOPIC_CONFIG entries here; this name server keeps no KV table.
      auto reply = RemotingCommand::response_to(request, rsp::SUCCESS);
      reply.ext_fields_present = true;
      return reply;
    }
    case rc::GET_KV_CONFIG: {
      const std::string* ns = request.ext("namespace");
      const std::string* key = request.ext("key");
      return error_reply(request, rsp::QUERY_NOT_FOUND,
                         "No config item, Namespace: " + (ns ? *ns : std::string("null")) +
                             " Key: " + (key ? *key : std::string("null")));
    }
    case rc::GET_KVLIST_BY_NAMESPACE: {
      const std::string* ns = request.ext("namespace");
      return error_reply(request, rsp::QUERY_NOT_FOUND,
                         "No config item, Namespace: " + (ns ? *ns : std::string("null")));
    }
    default:
      return error_reply(request, rsp::REQUEST_CODE_NOT_SUPPORTED,
                         " request type " + std::to_string(request.code) + " not supported");
  }
}

}  // namespace rmqc::broker
