#pragma once

// The transactional producer (spec §2.3.8; Java's TransactionMQProducer): send_in_transaction()
// sends a half message (TRAN_MSG, PGROUP, sysFlag PREPARED) that consumers do not see, runs the
// local transaction, and ends it on the broker (END_TRANSACTION, oneway) with its outcome. A
// transaction left unknown (or whose END was lost) is checked back by the broker later: the
// CHECK_TRANSACTION_STATE it sends on this producer's connection is answered by the check
// listener, on a thread of this producer's own, and its verdict ends the transaction.

#include "rmqc/base/result.h"

#include "rocketmq/client/message.h"
#include "rocketmq/client/producer.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace rmqc::rocketmq {

enum class TransactionState { kCommit, kRollback, kUnknown };
std::string_view transaction_state_name(TransactionState state);

// Runs the local transaction of a half message that was stored. An exception counts as
// kUnknown (the broker checks back later).
using LocalTransaction = std::function<TransactionState(const Message&, const SendResult&)>;
// Answers a check-back: the state of the local transaction of `message` (its msg_id() is the
// transaction id, its topic the real one). Runs on the producer's check thread; may block.
using TransactionCheckListener = std::function<TransactionState(const MessageExt& message)>;

struct TransactionSendResult {
  SendResult send;
  TransactionState local_state = TransactionState::kUnknown;
};

class TransactionProducer {
 public:
  static Result<std::unique_ptr<TransactionProducer>> start(ProducerConfig config,
                                                            TransactionCheckListener listener);
  ~TransactionProducer();
  TransactionProducer(const TransactionProducer&) = delete;
  TransactionProducer& operator=(const TransactionProducer&) = delete;

  // Sends `message` as a half message (any delay level is dropped, as Java does), runs
  // `local` once it is stored and ends the transaction with its answer. A failed send is
  // returned as the error and `local` does not run.
  Result<TransactionSendResult> send_in_transaction(const Message& message,
                                                    const LocalTransaction& local);

  const std::string& group() const { return group_; }
  Producer& producer() { return *producer_; }
  // Check-backs answered so far.
  std::int64_t checks_answered() const;

  // Stops answering check-backs, then shuts the producer down. Idempotent.
  void shutdown();

 private:
  struct Check {
    std::string broker_addr;
    RemotingCommand request;
  };

  TransactionProducer(std::unique_ptr<Producer> producer, std::string group,
                      TransactionCheckListener listener);
  std::optional<RemotingCommand> on_check(const std::string& addr, RemotingCommand& request);
  void run_checks();
  void answer(const Check& check);
  Result<void> end(const std::string& broker_addr, std::int64_t queue_offset,
                   std::int64_t commit_log_offset, const std::string& msg_id,
                   const std::string& transaction_id, TransactionState state, bool from_check,
                   std::string remark);

  std::unique_ptr<Producer> producer_;
  std::string group_;
  TransactionCheckListener listener_;

  std::mutex heartbeat_mutex_;
  std::set<std::string> heartbeated_;  // brokers told of this group since start

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Check> checks_;
  bool stopping_ = false;
  std::int64_t answered_ = 0;
  std::thread thread_;
};

}  // namespace rmqc::rocketmq
