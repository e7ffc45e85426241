#pragma once

// Transactional messages, as RocketMQ 4.x's TransactionalMessageService (spec §2.3.8):
//
// * A send with TRAN_MSG=true is stored as a *half* message in RMQ_SYS_TRANS_HALF_TOPIC queue 0
//   with REAL_TOPIC / REAL_QID (the broker's send path does that, see Broker::send_message).
// * END_TRANSACTION commit copies it to its real queue (SYSFLAG commit, PREPARED TX OFFSET = the
//   half's commit-log offset, the half's properties kept) and writes an op record to
//   RMQ_SYS_TRANS_OP_HALF_TOPIC (TAGS=d, body = the half's queue offset); rollback writes only
//   the op record; unknown changes nothing (and, as RocketMQ, is not answered).
// * A check pass every check interval walks the half queue from its progress: a half that is
//   neither resolved nor superseded and older than the transaction timeout is put back at the
//   end of the half queue with TRANSACTION_CHECK_TIMES + 1 and CHECK_TRANSACTION_STATE goes to a
//   live producer connection of its group (PGROUP); after check_max checks it is moved to
//   TRANS_CHECK_MAX_TIME_TOPIC instead.
//
// Progress (group kTransProgressGroup in the consumer offsets: the half queue's next offset to
// examine and the op queue's first record still needed) is persisted after every pass; the
// resolved set is rebuilt from the op records at start, so committed, rolled-back and
// unresolved transactions behave the same after a restart or kill -9. Format:
// docs/formats/broker-store.md.
//
// Unlike RocketMQ, a transaction is resolved once: a repeated commit (the producer's own END
// racing a check-back answer, or a second check-back of a put-back copy) is answered 0 and
// writes nothing, so a committed message reaches its queue once.

#include "rmqc/base/result.h"

#include "broker/store/message_store.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/remoting_command.h"
#include "rocketmq/remoting/remoting_server.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace rmqc::broker {

inline constexpr std::string_view kTransHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC";
inline constexpr std::string_view kTransOpHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
inline constexpr std::string_view kTransCheckMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC";
// The consumer-offsets group holding the check pass's progress (RocketMQ's CID_RMQ_SYS_TRANS).
inline constexpr std::string_view kTransProgressGroup = "CID_RMQ_SYS_TRANS";
inline constexpr std::string_view kTransOpRemoveTag = "d";

struct TransactionConfig {
  std::chrono::milliseconds check_interval{60'000};  // transactionCheckInterval
  std::chrono::milliseconds timeout{6'000};          // transactionTimeOut: no check before
  int check_max = 15;                                // transactionCheckMax: then discarded
};

// The live producer connections of each producer group, from heartbeats (producerDataSet), for
// check-backs. Thread-safe.
class ProducerRegistry {
 public:
  void heartbeat(const remoting::ConnectionPtr& connection, const std::string& client_id,
                 const std::string& group, std::chrono::steady_clock::time_point now);
  void unregister(const std::string& client_id, const std::string& group);
  void on_close(const remoting::ConnectionPtr& connection);
  // Drops members silent for `expiry`.
  void expire(std::chrono::steady_clock::time_point now, std::chrono::milliseconds expiry);
  // An open connection of the group (round robin), or null.
  remoting::ConnectionPtr pick(std::string_view group);
  std::size_t size(std::string_view group) const;

 private:
  struct Member {
    std::string client_id;
    std::weak_ptr<remoting::Connection> connection;
    std::chrono::steady_clock::time_point last_heartbeat;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::uint64_t, Member>, std::less<>> groups_;
  std::uint32_t next_ = 0;
};

class TransactionService {
 public:
  // Stores a committed message in its real topic (creating the topic if needed), through the
  // broker's put path so long polls wake up.
  using Deliver = std::function<Result<PutResult>(std::string_view topic, std::string& record)>;

  TransactionService(MessageStore& store, TransactionConfig config, Deliver deliver);

  // TRAN_MSG=true on a send's properties.
  static bool is_half(const rocketmq::MessageProperties& properties);

  // END_TRANSACTION (37). An error: the header could not be decoded (the broker refuses it);
  // nullopt: no reply (commitOrRollback unknown or out of range, as RocketMQ).
  Result<std::optional<rocketmq::RemotingCommand>> end_transaction(
      const remoting::ConnectionPtr& connection, const rocketmq::RemotingCommand& request);

  // Runs a check pass when one is due (the broker's tick); returns the check-backs sent.
  int tick(std::int64_t now_ms);
  // One check pass now; returns the check-backs sent.
  int check(std::int64_t now_ms);

  ProducerRegistry& producers() { return producers_; }
  const TransactionConfig& config() const { return config_; }

  struct Stats {
    std::int64_t committed = 0;
    std::int64_t rolled_back = 0;
    std::int64_t checks_sent = 0;
    std::int64_t discarded = 0;
  };
  Stats stats() const;
  // The half queue's next offset to examine.
  std::int64_t half_progress() const;

 private:
  struct Half;
  // A stored record, re-encoded with other fields (the caller fills `copy`).
  Result<PutResult> put(std::string_view topic, const rocketmq::StoredMessageView& copy,
                        std::string* record_out = nullptr);
  Result<PutResult> write_op(std::int64_t half_queue_offset, std::int64_t now_ms);
  void rebuild();
  // The check pass's handling of one half; false = stop the pass here.
  bool examine(const MessageRef& ref, std::int64_t now_ms, int* checks);
  bool send_check(const rocketmq::StoredMessageView& copy, const PutResult& where,
                  std::string_view group);

  MessageStore& store_;
  const TransactionConfig config_;
  Deliver deliver_;
  ProducerRegistry producers_;
  std::atomic<std::int32_t> next_opaque_{1};

  mutable std::mutex mutex_;  // END_TRANSACTION vs. the check pass
  struct Resolved {
    std::int64_t op_target = 0;  // the half queue offset the op record names
    std::chrono::steady_clock::time_point at;
  };
  // Transactions resolved (by identity: UNIQ_KEY, else the first copy's queue offset).
  std::unordered_map<std::string, Resolved> resolved_;
  // The latest copy of each transaction that was put back (or seen at start), by identity.
  std::unordered_map<std::string, std::int64_t> latest_copy_;
  std::int64_t half_progress_ = 0;
  std::int64_t op_progress_ = 0;
  std::int64_t next_pass_ms_ = 0;
  Stats stats_;
};

}  // namespace rmqc::broker
