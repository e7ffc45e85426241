#pragma once

// What one producer, consumer or admin client shares with nothing else (Java's
// MQClientInstance): the remoting connections, the client id, the name-server route cache,
// periodic route refresh and heartbeats, and the dispatch of requests the broker pushes.

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/protocol/bodies.h"
#include "rocketmq/protocol/remoting_command.h"
#include "rocketmq/remoting/remoting_client.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::rocketmq {

// A topic's route with the queue lists derived from it (spec §4.2).
struct TopicRouteInfo {
  TopicRouteData route;
  std::vector<MessageQueue> publish_queues;    // writable queues on brokers with a master
  std::vector<MessageQueue> subscribe_queues;  // readable queues, sorted
  std::map<std::string, std::string, std::less<>> master_addrs;  // brokerName -> ip:port
  bool from_default_topic = false;                   // unknown topic, queues borrowed from TBW102
  mutable std::atomic<std::uint32_t> send_index{0};  // round robin position

  static std::shared_ptr<TopicRouteInfo> build(std::string_view topic, TopicRouteData route);
};

class ClientInstance {
 public:
  // Fills the heartbeat with this client's producer and consumer groups.
  using HeartbeatContributor = std::function<void(HeartbeatData&)>;
  // NOTIFY_CONSUMER_IDS_CHANGED for a group; runs on an I/O thread, must not block.
  using GroupChangedListener = std::function<void(const std::string& group)>;
  // Another broker-initiated request (CHECK_TRANSACTION_STATE ...): runs on an I/O thread, must
  // not block; returns the reply (ignored for oneway requests).
  using RequestHandler = std::function<std::optional<RemotingCommand>(
      const std::string& broker_addr, RemotingCommand& request)>;

  static Result<std::shared_ptr<ClientInstance>> create(ClientConfig config);
  ~ClientInstance();
  ClientInstance(const ClientInstance&) = delete;
  ClientInstance& operator=(const ClientInstance&) = delete;

  const ClientConfig& config() const { return config_; }
  const std::string& client_id() const { return client_id_; }
  remoting::RemotingClient& remoting() { return *remoting_; }

  // A request to a name server: sticks with one until it fails, then tries the next.
  Result<RemotingCommand> invoke_namesrv(RemotingCommand request,
                                         std::optional<std::chrono::milliseconds> timeout = {});
  Result<RemotingCommand> invoke_broker(const std::string& addr, RemotingCommand request,
                                        std::optional<std::chrono::milliseconds> timeout = {});

  // The cached route of `topic`, fetched on first use. `allow_default`: when the name server
  // does not know the topic, route through TBW102 so the broker auto-creates it (producers).
  Result<std::shared_ptr<const TopicRouteInfo>> route(const std::string& topic,
                                                      bool allow_default = false);
  // The cached route of `topic`, or null: never fetches.
  std::shared_ptr<const TopicRouteInfo> cached_route(std::string_view topic) const;
  // Re-fetches a topic's route now (after a send failure, a rebalance ...).
  Result<std::shared_ptr<const TopicRouteInfo>> refresh_route(const std::string& topic,
                                                              bool allow_default = false);
  // The master address of a broker, from any cached route.
  std::optional<std::string> master_addr(std::string_view broker_name) const;
  // Every master address of every cached route (heartbeat targets).
  std::vector<std::string> all_master_addrs() const;
  // Topics with a cached route.
  std::vector<std::string> cached_topics() const;

  int add_heartbeat_contributor(HeartbeatContributor contributor);
  void remove_heartbeat_contributor(int id);
  int add_group_changed_listener(GroupChangedListener listener);
  void remove_group_changed_listener(int id);
  // One handler per request code; an empty handler removes it.
  void set_request_handler(std::int32_t code, RequestHandler handler);

  // Sends HEART_BEAT to every known master now; returns the first failure.
  Result<void> send_heartbeat();
  // UNREGISTER_CLIENT for a group to every known master.
  void unregister_client(const std::optional<std::string>& producer_group,
                         const std::optional<std::string>& consumer_group);

  // Stops the background thread and closes connections. Idempotent.
  void shutdown();

 private:
  explicit ClientInstance(ClientConfig config);
  void run();
  void refresh_all_routes();
  std::optional<RemotingCommand> on_server_request(const std::string& addr,
                                                   RemotingCommand request);
  Result<TopicRouteData> fetch_route(const std::string& topic);

  ClientConfig config_;
  std::string client_id_;
  std::vector<std::string> namesrv_addrs_;
  std::atomic<std::size_t> namesrv_index_{0};
  std::unique_ptr<remoting::RemotingClient> remoting_;

  mutable std::shared_mutex routes_mutex_;
  std::map<std::string, std::shared_ptr<const TopicRouteInfo>, std::less<>> routes_;
  std::map<std::string, bool, std::less<>> route_allow_default_;

  std::mutex listeners_mutex_;
  int next_listener_id_ = 1;
  std::map<int, HeartbeatContributor> contributors_;
  std::map<int, GroupChangedListener> group_listeners_;
  std::map<std::int32_t, RequestHandler> request_handlers_;

  std::mutex run_mutex_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rmqc::rocketmq
