#pragma once

#include "broker/server/name_server.h"
#include "broker/server/refusal_log.h"
#include "broker/server/schedule_service.h"
#include "broker/server/transaction_service.h"
#include "broker/store/message_store.h"
#include "rocketmq/protocol/bodies.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_id.h"
#include "rocketmq/remoting/remoting_server.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rmqc::broker {

struct BrokerConfig {
  std::string cluster_name = "DefaultCluster";
  std::string broker_name = "broker-a";
  bool auto_create_topic = true;
  std::int32_t default_topic_queue_nums = 4;  // queues of auto-created topics
  std::int32_t max_reconsume_times = 16;      // then a retried message goes to %DLQ%<group>
  // messageDelayLevel: the delay of each level of DELAY=n and of consumer retries.
  std::string message_delay_level = std::string(kDefaultDelayLevels);
  // Transaction check-back: transactionCheckInterval, transactionTimeOut, transactionCheckMax.
  TransactionConfig transaction;
  std::chrono::milliseconds client_expiry{120'000};
  std::chrono::milliseconds queue_lock_expiry{60'000};
  std::int32_t max_pull_messages = 32;       // per PULL_MESSAGE reply
  std::int64_t max_pull_bytes = 256 * 1024;  // per PULL_MESSAGE reply
  std::int64_t max_suspend_millis = 30'000;  // cap on a long-poll hold
  // ACL (aclEnable): every request must be signed by one of these access keys (key -> secret).
  bool acl_enable = false;
  std::map<std::string, std::string, std::less<>> acl_accounts;
};

// The broker's request processors: send, pull with long polling, offsets, consumer groups,
// locks, retry/DLQ, topic admin. Owns no threads: handlers run on the remoting server's I/O
// threads, long-poll re-runs are posted through `post`, and tick() (called every ~100 ms by the
// owner) expires long polls, clients and locks.
class Broker final : public remoting::RequestHandler {
 public:
  using Post = std::function<void(std::function<void()>)>;
  // Publishes the broker's topics to its name server(s); oneway for auto-created topics.
  using Registrar = std::function<void(const BrokerRegistration& registration, bool oneway)>;

  // broker_addr: the "ip:port" clients reach this broker at (the store host of every message).
  Broker(BrokerConfig config, MessageStore& store, std::string broker_addr, Post post);
  ~Broker() override;

  void set_registrar(Registrar registrar) { registrar_ = std::move(registrar); }
  BrokerRegistration registration() const;
  const BrokerConfig& config() const { return config_; }
  const std::string& broker_addr() const { return broker_addr_; }

  // Creates (or updates) a topic and publishes it; kInvalidArgument for illegal or system names.
  Result<void> create_topic(std::string_view topic, std::int32_t read_queues,
                            std::int32_t write_queues, std::int32_t perm = 6);

  void on_request(const remoting::ConnectionPtr& connection,
                  rocketmq::RemotingCommand request) override;
  void on_close(const remoting::ConnectionPtr& connection) override;
  // The VIP port: the same processors, but no pulls (as RocketMQ's fast-failure channel).
  remoting::RequestHandler& vip_handler() { return vip_; }

  // Housekeeping: long-poll timeouts and re-checks, client expiry, lock expiry, delayed
  // deliveries.
  void tick();
  const ScheduleService& schedule() const { return *schedule_; }
  TransactionService& transactions() { return *transactions_; }

 private:
  struct Member {
    std::string client_id;
    std::weak_ptr<remoting::Connection> connection;
    std::chrono::steady_clock::time_point last_heartbeat;
    std::string consume_from_where;
    std::string language;  // of its heartbeat (GET_CONSUMER_CONNECTION_LIST)
    std::int32_t version = 0;
  };
  struct Group {
    std::map<std::uint64_t, Member> members;  // by connection id: one member per connection
    std::map<std::string, rocketmq::SubscriptionData, std::less<>> subscriptions;  // by topic
    std::string consume_type;  // of the latest heartbeat
    std::string message_model;
    std::string consume_from_where;
  };
  // Counters behind GET_BROKER_RUNTIME_INFO and GET_CONSUME_STATS (admin_processor.cc).
  struct RuntimeStats {
    struct Sample {
      std::int64_t at_ms, put, get;
    };
    struct GroupGets {
      std::int64_t total = 0, sampled = 0, previous = 0, previous_ms = 0;
    };
    std::atomic<std::int64_t> put_total{0};
    std::atomic<std::int64_t> get_total{0};
    std::int64_t boot_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::mutex mutex;            // the members below
    std::deque<Sample> samples;  // one a second, the last 601
    std::int64_t day = 0;
    std::int64_t put_today_morning = 0, put_yesterday_morning = 0;
    std::int64_t get_today_morning = 0, get_yesterday_morning = 0;
    std::int64_t group_sampled_ms = 0;
    std::map<std::pair<std::string, std::string>, GroupGets> group_gets;  // (group, topic)
  };
  struct ParkedPull {
    remoting::ConnectionPtr connection;
    rocketmq::RemotingCommand request;
    rocketmq::PullMessageRequestHeader header;
    std::vector<std::int32_t> tag_codes;  // empty = all
    std::chrono::steady_clock::time_point deadline;
  };
  struct QueueLock {
    std::string client_id;
    std::chrono::steady_clock::time_point last_update;
    // The connection that locked or renewed it last (by identity: connection ids are per
    // server, and the VIP port is another server).
    std::weak_ptr<remoting::Connection> connection;
  };
  class VipHandler final : public remoting::RequestHandler {
   public:
    explicit VipHandler(Broker& broker) : broker_(broker) {}
    void on_request(const remoting::ConnectionPtr& c, rocketmq::RemotingCommand r) override;
    void on_close(const remoting::ConnectionPtr& c) override { broker_.on_close(c); }

   private:
    Broker& broker_;
  };

  rocketmq::RemotingCommand dispatch(const remoting::ConnectionPtr& connection,
                                     rocketmq::RemotingCommand& request, bool* deferred);
  rocketmq::RemotingCommand send_message(const remoting::ConnectionPtr& connection,
                                         const rocketmq::RemotingCommand& request);
  // Runs a pull; returns true and sets *reply unless the request was parked.
  bool pull_message(const remoting::ConnectionPtr& connection,
                    const rocketmq::RemotingCommand& request,
                    const rocketmq::PullMessageRequestHeader& header,
                    const std::vector<std::int32_t>& tag_codes, bool allow_park,
                    rocketmq::RemotingCommand* reply);
  rocketmq::RemotingCommand heart_beat(const remoting::ConnectionPtr& connection,
                                       const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand unregister_client(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand send_back(const remoting::ConnectionPtr& connection,
                                      const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand lock_batch(const remoting::ConnectionPtr& connection,
                                       const rocketmq::RemotingCommand& request, bool lock);
  rocketmq::RemotingCommand query_consumer_offset(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand admin_create_topic(const rocketmq::RemotingCommand& request);
  // Query, admin and monitoring requests (admin_processor.cc).
  rocketmq::RemotingCommand query_message(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand all_topic_config(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand broker_config(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand broker_runtime_info(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand topic_stats(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand consumer_connection_list(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand consume_stats(const rocketmq::RemotingCommand& request);
  rocketmq::RemotingCommand topic_consume_by_who(const rocketmq::RemotingCommand& request);
  // The topics a 4.9.7 broker creates at start (registered, not stored).
  std::vector<rocketmq::TopicConfig> system_topic_configs() const;
  void note_put(std::int64_t messages);
  void note_get(const std::string& group, const std::string& topic, std::int64_t messages);
  void sample_stats();
  std::string tps_text(bool puts);
  double consume_tps(const std::string& group, const std::string& topic);

  // Ensures a topic exists (auto-create); returns its config or the reply to send.
  Result<TopicConfig> ensure_topic(std::string_view topic, std::int32_t queues, bool* created);
  void publish(bool oneway);
  void notify_group_changed(const std::string& group);
  void on_messages_arrived(std::string topic, std::int32_t queue_id, std::int64_t max_offset,
                           std::int64_t tags_code);
  void rerun_parked(std::vector<ParkedPull> parked);
  // Appends the offsetMsgId of a record stored at `physical_offset` (make_offset_msg_id's text).
  void append_offset_msg_id(std::string& out, std::int64_t physical_offset) const;

  BrokerConfig config_;
  MessageStore& store_;
  std::string broker_addr_;
  rocketmq::SocketAddress store_host_;
  std::string store_host_hex_;  // the offsetMsgId's first half: HEX(store ip || int32 port)
  Post post_;
  Registrar registrar_;
  VipHandler vip_{*this};
  std::atomic<std::int32_t> next_opaque_{1};
  std::atomic<std::uint32_t> round_robin_{0};

  std::mutex groups_mutex_;
  std::map<std::string, Group, std::less<>> groups_;
  std::map<std::string, std::map<rocketmq::MessageQueue, QueueLock>, std::less<>> locks_;
  std::unique_ptr<ScheduleService> schedule_;
  std::unique_ptr<TransactionService> transactions_;

  RefusalLog refusals_{"broker"};
  RuntimeStats stats_;

  std::mutex parked_mutex_;
  std::map<std::pair<std::string, std::int32_t>, std::vector<ParkedPull>> parked_;
};

}  // namespace rmqc::broker
