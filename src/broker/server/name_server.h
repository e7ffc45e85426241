#pragma once

#include "broker/server/refusal_log.h"
#include "rocketmq/protocol/bodies.h"
#include "rocketmq/remoting/remoting_server.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// What a broker tells the name server about itself (REGISTER_BROKER header + body).
struct BrokerRegistration {
  std::string cluster_name;
  std::string broker_name;
  std::string broker_addr;  // ip:port clients connect to
  std::string ha_server_addr;
  std::int64_t broker_id = 0;  // 0 = master
  rocketmq::DataVersion data_version;
  std::map<std::string, rocketmq::TopicConfig> topic_config_table;
};

// The name server: which brokers exist and which topics they serve (RocketMQ's
// RouteInfoManager). Brokers register every 30 s; one silent for broker_expiry, or whose
// registering connection closed, is dropped with the routes it contributed.
class NameServer final : public remoting::RequestHandler {
 public:
  explicit NameServer(std::chrono::milliseconds broker_expiry = std::chrono::seconds(120));

  // In-process registration (the embedded broker); same effect as REGISTER_BROKER.
  void register_broker(const BrokerRegistration& registration, std::uint64_t connection_id = 0);
  void unregister_broker(std::string_view cluster, std::string_view broker_name,
                         std::string_view broker_addr, std::int64_t broker_id);

  std::optional<rocketmq::TopicRouteData> route(std::string_view topic) const;
  rocketmq::ClusterInfo cluster_info() const;
  std::vector<std::string> topics() const;
  // Drops brokers not heard from since now - broker_expiry; returns how many.
  int expire_inactive_brokers();

  void on_request(const remoting::ConnectionPtr& connection,
                  rocketmq::RemotingCommand request) override;
  void on_close(const remoting::ConnectionPtr& connection) override;

 private:
  struct LiveBroker {
    std::string cluster_name;
    std::string broker_name;
    std::int64_t broker_id = 0;
    rocketmq::DataVersion data_version;
    std::chrono::steady_clock::time_point last_update;
    std::uint64_t connection_id = 0;
  };

  // Sets *refusal when the request is refused because its header or body cannot be decoded.
  rocketmq::RemotingCommand handle(const rocketmq::RemotingCommand& request,
                                   std::optional<std::string>* refusal);
  void remove_broker_addr_locked(const std::string& broker_addr);

  std::chrono::milliseconds broker_expiry_;
  RefusalLog refusals_{"namesrv"};
  mutable std::mutex mutex_;
  // topic -> broker name -> queue data
  std::map<std::string, std::map<std::string, rocketmq::QueueData>, std::less<>> topic_queues_;
  std::map<std::string, rocketmq::BrokerData, std::less<>> brokers_;  // by broker name
  std::map<std::string, std::set<std::string>, std::less<>> clusters_;
  std::map<std::string, LiveBroker, std::less<>> live_;  // by broker address
};

}  // namespace rmqc::broker
