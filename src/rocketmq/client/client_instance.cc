#include "rocketmq/client/client_instance.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/client/message.h"
#include "rocketmq/protocol/acl.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <ifaddrs.h>
#include <unistd.h>

namespace rmqc::rocketmq {
namespace {

namespace rc = request_code;
namespace rsp = response_code;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDefaultTopic = "TBW102";

std::string local_ipv4() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (::getifaddrs(&list) != 0) return found;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) {
      found = text;
      break;
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::vector<std::string> split_addrs(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ';' || c == ',' || c == ' ') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::atomic<std::uint32_t> g_instance_counter{0};

}  // namespace

std::shared_ptr<TopicRouteInfo> TopicRouteInfo::build(std::string_view topic,
                                                      TopicRouteData route) {
  auto info = std::make_shared<TopicRouteInfo>();
  for (const auto& b : route.broker_datas) {
    if (auto it = b.broker_addrs.find(0); it != b.broker_addrs.end()) {
      info->master_addrs.emplace(b.broker_name, it->second);
    }
  }
  auto queue_datas = route.queue_datas;
  std::sort(queue_datas.begin(), queue_datas.end(),
            [](const QueueData& a, const QueueData& b) { return a.broker_name < b.broker_name; });
  if (route.order_topic_conf && !route.order_topic_conf->empty()) {
    // "brokerA:4;brokerB:4"
    for (const auto& entry : split_addrs(*route.order_topic_conf)) {
      auto colon = entry.find(':');
      if (colon == std::string::npos) continue;
      int n = std::atoi(entry.c_str() + colon + 1);
      for (int q = 0; q < n; ++q) {
        info->publish_queues.push_back({std::string(topic), entry.substr(0, colon), q});
      }
    }
  } else {
    for (const auto& q : queue_datas) {
      if (!(q.perm & perm::PERM_WRITE) || !info->master_addrs.contains(q.broker_name)) continue;
      for (int i = 0; i < q.write_queue_nums; ++i) {
        info->publish_queues.push_back({std::string(topic), q.broker_name, i});
      }
    }
  }
  for (const auto& q : queue_datas) {
    if (!(q.perm & perm::PERM_READ)) continue;
    for (int i = 0; i < q.read_queue_nums; ++i) {
      info->subscribe_queues.push_back({std::string(topic), q.broker_name, i});
    }
  }
  std::sort(info->subscribe_queues.begin(), info->subscribe_queues.end());
  info->route = std::move(route);
  info->send_index.store(static_cast<std::uint32_t>(Clock::now().time_since_epoch().count()));
  return info;
}

ClientInstance::ClientInstance(ClientConfig config) : config_(std::move(config)) {}

Result<std::shared_ptr<ClientInstance>> ClientInstance::create(ClientConfig config) {
  auto addrs = split_addrs(config.namesrv_addr);
  if (addrs.empty()) {
    if (const char* env = std::getenv("NAMESRV_ADDR")) addrs = split_addrs(env);
  }
  if (addrs.empty()) {
    return Error(ErrorCode::kInvalidConfig, "no name server address (namesrvAddr) configured");
  }
  if (config.client_ip.empty()) config.client_ip = local_ipv4();
  if (config.instance_name.empty()) {
    config.instance_name = std::to_string(::getpid()) + "#" +
                           std::to_string(g_instance_counter.fetch_add(1)) +
                           std::to_string(Clock::now().time_since_epoch().count() % 1000000000);
  }
  std::shared_ptr<ClientInstance> instance(new ClientInstance(std::move(config)));
  instance->namesrv_addrs_ = std::move(addrs);
  instance->namesrv_index_ = static_cast<std::size_t>(::getpid()) % instance->namesrv_addrs_.size();
  instance->client_id_ = instance->config_.client_ip + "@" + instance->config_.instance_name;

  remoting::RemotingClientOptions options;
  options.io_threads = instance->config_.io_threads;
  options.serialize_type = instance->config_.serialize_type;
  options.connect_timeout = instance->config_.request_timeout;
  options.name = "client";
  const std::string& tag = instance->config_.thread_tag;
  options.thread_name = tag.empty() ? std::string("rmq-io") : tagged_thread_name("io:", tag);
  instance->remoting_ = std::make_unique<remoting::RemotingClient>(options);
  if (!instance->config_.access_key.empty() && !instance->config_.secret_key.empty()) {
    // Sign every request (spec §1.7) with the protocol layer's signing, as the broker checks it.
    instance->remoting_->set_rpc_hook([ak = instance->config_.access_key,
                                       sk = instance->config_.secret_key,
                                       token = instance->config_.security_token](
                                          RemotingCommand& request, std::string_view body) {
      request.ext_fields.erase(std::string(acl::kSignature));
      request.ext_fields[std::string(acl::kAccessKey)] = ak;
      if (!token.empty()) request.ext_fields[std::string(acl::kSecurityToken)] = token;
      request.ext_fields[std::string(acl::kSignature)] =
          acl_signature(sk, request.ext_fields, body);
    });
  }
  std::weak_ptr<ClientInstance> weak = instance;
  instance->remoting_->set_server_request_handler(
      [weak](const std::string& addr, RemotingCommand request) -> std::optional<RemotingCommand> {
        auto self = weak.lock();
        if (!self) return std::nullopt;
        return self->on_server_request(addr, std::move(request));
      });
  instance->thread_ = std::thread([raw = instance.get()] {
    const std::string& tag = raw->config_.thread_tag;
    set_thread_name(tag.empty() ? std::string("rmq-client") : tagged_thread_name("cl:", tag));
    raw->run();
  });
  return instance;
}

ClientInstance::~ClientInstance() {
  shutdown();
}

void ClientInstance::shutdown() {
  {
    std::lock_guard lock(run_mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (remoting_) remoting_->shutdown();
}

void ClientInstance::run() {
  auto next_route = Clock::now() + config_.route_refresh_interval;
  auto next_heartbeat = Clock::now() + config_.heartbeat_interval;
  std::unique_lock lock(run_mutex_);
  while (!stopping_) {
    run_cv_.wait_until(lock, std::min(next_route, next_heartbeat), [this] { return stopping_; });
    if (stopping_) break;
    auto now = Clock::now();
    lock.unlock();
    if (now >= next_route) {
      refresh_all_routes();
      next_route = now + config_.route_refresh_interval;
    }
    if (now >= next_heartbeat) {
      if (auto r = send_heartbeat(); !r.ok()) {
        logger("client")->debug("heartbeat: {}", r.error().to_string());
      }
      next_heartbeat = now + config_.heartbeat_interval;
    }
    lock.lock();
  }
}

Result<RemotingCommand> ClientInstance::invoke_namesrv(
    RemotingCommand request, std::optional<std::chrono::milliseconds> timeout) {
  const auto t = timeout.value_or(config_.request_timeout);
  std::optional<Error> last;
  const std::size_t n = namesrv_addrs_.size();
  const std::size_t start = namesrv_index_.load();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t index = (start + i) % n;
    auto reply = remoting_->invoke(namesrv_addrs_[index], request, t);
    if (reply.ok()) {
      namesrv_index_.store(index);
      return reply;
    }
    last = std::move(reply).error();
    if (last->code() == ErrorCode::kCancelled) break;
  }
  return *last;
}

Result<RemotingCommand> ClientInstance::invoke_broker(
    const std::string& addr, RemotingCommand request,
    std::optional<std::chrono::milliseconds> timeout) {
  return remoting_->invoke(addr, std::move(request), timeout.value_or(config_.request_timeout));
}

Result<TopicRouteData> ClientInstance::fetch_route(const std::string& topic) {
  GetRouteInfoRequestHeader h;
  h.topic = topic;
  RMQC_ASSIGN_OR_RETURN(auto reply, invoke_namesrv(RemotingCommand::request(
                                        rc::GET_ROUTEINFO_BY_TOPIC, h.to_ext_fields())));
  if (reply.code != rsp::SUCCESS) {
    return error_from_response(reply, "route of topic '" + topic + "'");
  }
  return TopicRouteData::from_json(reply.body);
}

Result<std::shared_ptr<const TopicRouteInfo>> ClientInstance::refresh_route(
    const std::string& topic, bool allow_default) {
  auto data = fetch_route(topic);
  std::shared_ptr<TopicRouteInfo> info;
  if (data.ok()) {
    info = TopicRouteInfo::build(topic, std::move(data).value());
  } else if (allow_default && data.error().code() == ErrorCode::kNotFound) {
    // Java producers: send through the queues of TBW102 (at most 4 per broker) and let the
    // broker auto-create the topic (spec §4.2).
    RMQC_ASSIGN_OR_RETURN(auto def, fetch_route(std::string(kDefaultTopic)));
    for (auto& q : def.queue_datas) {
      q.read_queue_nums = std::min(4, q.read_queue_nums);
      q.write_queue_nums = std::min(4, q.write_queue_nums);
      q.perm = perm::PERM_READ | perm::PERM_WRITE;
    }
    info = TopicRouteInfo::build(topic, std::move(def));
    info->from_default_topic = true;
  } else {
    return std::move(data).error();
  }
  {
    std::unique_lock lock(routes_mutex_);
    if (auto it = routes_.find(topic); it != routes_.end()) {
      info->send_index.store(it->second->send_index.load());
    }
    routes_[topic] = info;
    auto& flag = route_allow_default_[topic];
    flag = flag || allow_default;
  }
  return std::shared_ptr<const TopicRouteInfo>(std::move(info));
}

Result<std::shared_ptr<const TopicRouteInfo>> ClientInstance::route(const std::string& topic,
                                                                    bool allow_default) {
  {
    std::shared_lock lock(routes_mutex_);
    if (auto it = routes_.find(topic); it != routes_.end()) return it->second;
  }
  return refresh_route(topic, allow_default);
}

std::shared_ptr<const TopicRouteInfo> ClientInstance::cached_route(std::string_view topic) const {
  std::shared_lock lock(routes_mutex_);
  auto it = routes_.find(topic);
  return it == routes_.end() ? nullptr : it->second;
}

void ClientInstance::refresh_all_routes() {
  std::vector<std::pair<std::string, bool>> topics;
  {
    std::shared_lock lock(routes_mutex_);
    for (const auto& [topic, info] : routes_) {
      auto it = route_allow_default_.find(topic);
      topics.emplace_back(topic, it != route_allow_default_.end() && it->second);
    }
  }
  for (const auto& [topic, allow_default] : topics) {
    if (auto r = refresh_route(topic, allow_default); !r.ok()) {
      logger("client")->debug("route refresh of {}: {}", topic, r.error().to_string());
    }
  }
}

std::optional<std::string> ClientInstance::master_addr(std::string_view broker_name) const {
  std::shared_lock lock(routes_mutex_);
  for (const auto& [topic, info] : routes_) {
    if (auto it = info->master_addrs.find(broker_name); it != info->master_addrs.end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

std::vector<std::string> ClientInstance::all_master_addrs() const {
  std::set<std::string> addrs;
  {
    std::shared_lock lock(routes_mutex_);
    for (const auto& [topic, info] : routes_) {
      for (const auto& [name, addr] : info->master_addrs) addrs.insert(addr);
    }
  }
  return {addrs.begin(), addrs.end()};
}

std::vector<std::string> ClientInstance::cached_topics() const {
  std::shared_lock lock(routes_mutex_);
  std::vector<std::string> out;
  for (const auto& [topic, info] : routes_) out.push_back(topic);
  return out;
}

int ClientInstance::add_heartbeat_contributor(HeartbeatContributor contributor) {
  std::lock_guard lock(listeners_mutex_);
  int id = next_listener_id_++;
  contributors_.emplace(id, std::move(contributor));
  return id;
}

void ClientInstance::remove_heartbeat_contributor(int id) {
  std::lock_guard lock(listeners_mutex_);
  contributors_.erase(id);
}

int ClientInstance::add_group_changed_listener(GroupChangedListener listener) {
  std::lock_guard lock(listeners_mutex_);
  int id = next_listener_id_++;
  group_listeners_.emplace(id, std::move(listener));
  return id;
}

void ClientInstance::remove_group_changed_listener(int id) {
  std::lock_guard lock(listeners_mutex_);
  group_listeners_.erase(id);
}

Result<void> ClientInstance::send_heartbeat() {
  HeartbeatData data;
  data.client_id = client_id_;
  {
    std::lock_guard lock(listeners_mutex_);
    for (auto& [id, contribute] : contributors_) contribute(data);
  }
  if (data.producer_data_set.empty() && data.consumer_data_set.empty()) return {};
  std::string body = data.to_json();
  Result<void> result;
  for (const auto& addr : all_master_addrs()) {
    auto reply = remoting_->invoke(addr, RemotingCommand::request(rc::HEART_BEAT), body,
                                   config_.request_timeout);
    if (!reply.ok()) {
      if (result.ok()) result = std::move(reply).error();
    } else if (reply->code != rsp::SUCCESS && result.ok()) {
      result = error_from_response(*reply, "heartbeat to " + addr);
    }
  }
  return result;
}

void ClientInstance::unregister_client(const std::optional<std::string>& producer_group,
                                       const std::optional<std::string>& consumer_group) {
  UnregisterClientRequestHeader h;
  h.client_id = client_id_;
  h.producer_group = producer_group;
  h.consumer_group = consumer_group;
  for (const auto& addr : all_master_addrs()) {
    if (!remoting_->is_connected(addr)) continue;  // never talked to it: nothing to forget
    auto reply =
        remoting_->invoke(addr, RemotingCommand::request(rc::UNREGISTER_CLIENT, h.to_ext_fields()),
                          config_.request_timeout);
    if (!reply.ok()) {
      logger("client")->debug("unregister at {}: {}", addr, reply.error().to_string());
    }
  }
}

void ClientInstance::set_request_handler(std::int32_t code, RequestHandler handler) {
  std::lock_guard lock(listeners_mutex_);
  if (handler) {
    request_handlers_[code] = std::move(handler);
  } else {
    request_handlers_.erase(code);
  }
}

std::optional<RemotingCommand> ClientInstance::on_server_request(const std::string& addr,
                                                                 RemotingCommand request) {
  if (request.code == rc::NOTIFY_CONSUMER_IDS_CHANGED) {
    auto h = ConsumerGroupRequestHeader::from_ext_fields(request.ext_fields);
    if (h.ok()) {
      logger("client")->debug("{}: consumer ids of {} changed (from {})", client_id_,
                              h->consumer_group, addr);
      std::vector<GroupChangedListener> listeners;
      {
        std::lock_guard lock(listeners_mutex_);
        for (auto& [id, l] : group_listeners_) listeners.push_back(l);
      }
      for (auto& l : listeners) l(h->consumer_group);
    }
    return RemotingCommand::response_to(request, rsp::SUCCESS);
  }
  RequestHandler handler;
  {
    std::lock_guard lock(listeners_mutex_);
    if (auto it = request_handlers_.find(request.code); it != request_handlers_.end()) {
      handler = it->second;
    }
  }
  if (handler) return handler(addr, request);
  return RemotingCommand::response_to(
      request, rsp::REQUEST_CODE_NOT_SUPPORTED,
      " request type " + std::to_string(request.code) + " not supported");
}

}  // namespace rmqc::rocketmq
