#include "rocketmq/client/transaction_producer.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/client/client_instance.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_id.h"
#include "rocketmq/protocol/request_code.h"

#include <exception>

namespace rmqc::rocketmq {
namespace {

namespace rc = request_code;

std::int32_t wire_state(TransactionState state) {
  switch (state) {
    case TransactionState::kCommit:
      return sysflag::TRANSACTION_COMMIT_TYPE;
    case TransactionState::kRollback:
      return sysflag::TRANSACTION_ROLLBACK_TYPE;
    case TransactionState::kUnknown:
      break;
  }
  return sysflag::TRANSACTION_NOT_TYPE;
}

}  // namespace

std::string_view transaction_state_name(TransactionState state) {
  switch (state) {
    case TransactionState::kCommit:
      return "COMMIT_MESSAGE";
    case TransactionState::kRollback:
      return "ROLLBACK_MESSAGE";
    case TransactionState::kUnknown:
      break;
  }
  return "UNKNOW";
}

TransactionProducer::TransactionProducer(std::unique_ptr<Producer> producer, std::string group,
                                         TransactionCheckListener listener)
    : producer_(std::move(producer)), group_(std::move(group)), listener_(std::move(listener)) {}

Result<std::unique_ptr<TransactionProducer>> TransactionProducer::start(
    ProducerConfig config, TransactionCheckListener listener) {
  if (!listener) {
    return Error(ErrorCode::kInvalidConfig, "a transactional producer needs a check listener");
  }
  std::string group = config.group;
  std::string tag = config.client.thread_tag.empty() ? group : config.client.thread_tag;
  RMQC_ASSIGN_OR_RETURN(auto producer, Producer::start(std::move(config)));
  std::unique_ptr<TransactionProducer> tx(
      new TransactionProducer(std::move(producer), std::move(group), std::move(listener)));
  tx->thread_ = std::thread([raw = tx.get(), tag] {
    set_thread_name(tagged_thread_name("tx:", tag));
    raw->run_checks();
  });
  tx->producer_->instance().set_request_handler(
      rc::CHECK_TRANSACTION_STATE,
      [raw = tx.get()](const std::string& addr, RemotingCommand& request) {
        return raw->on_check(addr, request);
      });
  return tx;
}

TransactionProducer::~TransactionProducer() {
  shutdown();
}

void TransactionProducer::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  producer_->instance().set_request_handler(rc::CHECK_TRANSACTION_STATE, nullptr);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  producer_->shutdown();
}

std::int64_t TransactionProducer::checks_answered() const {
  std::lock_guard lock(mutex_);
  return answered_;
}

Result<TransactionSendResult> TransactionProducer::send_in_transaction(
    const Message& message, const LocalTransaction& local) {
  Message half = message;
  half.delay_level = 0;
  half.properties.erase(std::string(property::DELAY));
  half.properties[std::string(property::TRAN_MSG)] = "true";
  half.properties[std::string(property::PGROUP)] = group_;
  RMQC_ASSIGN_OR_RETURN(auto sent, producer_->send(half));

  auto broker = producer_->instance().master_addr(sent.queue.broker_name);
  if (broker) {
    // The broker checks back on a connection that heartbeated this group: tell it now rather
    // than at the next periodic heartbeat.
    bool first = false;
    {
      std::lock_guard lock(heartbeat_mutex_);
      first = heartbeated_.insert(*broker).second;
    }
    if (first) {
      if (auto r = producer_->instance().send_heartbeat(); !r.ok()) {
        logger("client")->debug("transaction producer {}: heartbeat: {}", group_,
                                r.error().to_string());
      }
    }
  }

  TransactionSendResult result;
  result.send = sent;
  std::string remark;
  if (sent.status != SendStatus::kSendOk) {
    result.local_state = TransactionState::kRollback;  // not stored safely: never run it
  } else {
    try {
      result.local_state = local(message, sent);
    } catch (const std::exception& e) {
      result.local_state = TransactionState::kUnknown;
      remark = std::string("executeLocalTransactionBranch exception ") + e.what();
    } catch (...) {
      result.local_state = TransactionState::kUnknown;
      remark = "executeLocalTransactionBranch exception";
    }
  }
  if (!broker) {
    logger("client")->warn("transaction {}: no address for broker {}; left to the check-back",
                           sent.msg_id, sent.queue.broker_name);
    return result;
  }
  auto offset = decode_offset_msg_id(sent.offset_msg_id);
  if (!offset.ok()) {
    logger("client")->warn("transaction {}: bad offsetMsgId '{}' in the send reply", sent.msg_id,
                           sent.offset_msg_id);
    return result;
  }
  if (auto r = end(*broker, sent.queue_offset, offset->physical_offset, sent.msg_id,
                   sent.transaction_id.empty() ? sent.msg_id : sent.transaction_id,
                   result.local_state, /*from_check=*/false, std::move(remark));
      !r.ok()) {
    // The broker will check back: the outcome is not lost.
    logger("client")->warn("transaction {}: END_TRANSACTION to {} failed: {}", sent.msg_id, *broker,
                           r.error().to_string());
  }
  return result;
}

Result<void> TransactionProducer::end(const std::string& broker_addr, std::int64_t queue_offset,
                                      std::int64_t commit_log_offset, const std::string& msg_id,
                                      const std::string& transaction_id, TransactionState state,
                                      bool from_check, std::string remark) {
  EndTransactionRequestHeader h;
  h.producer_group = group_;
  h.tran_state_table_offset = queue_offset;
  h.commit_log_offset = commit_log_offset;
  h.commit_or_rollback = wire_state(state);
  h.from_transaction_check = from_check;
  h.msg_id = msg_id;
  if (!transaction_id.empty()) h.transaction_id = transaction_id;
  auto request = RemotingCommand::request(rc::END_TRANSACTION, h.to_ext_fields());
  request.remark = std::move(remark);
  return producer_->instance().remoting().invoke_oneway(broker_addr, std::move(request), {});
}

std::optional<RemotingCommand> TransactionProducer::on_check(const std::string& addr,
                                                             RemotingCommand& request) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return std::nullopt;
    checks_.push_back(Check{addr, std::move(request)});
  }
  cv_.notify_one();
  return std::nullopt;  // oneway: never answered directly
}

void TransactionProducer::run_checks() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !checks_.empty(); });
    if (stopping_) return;
    Check check = std::move(checks_.front());
    checks_.pop_front();
    lock.unlock();
    answer(check);
    lock.lock();
    ++answered_;
  }
}

void TransactionProducer::answer(const Check& check) {
  auto log = logger("client");
  auto h = CheckTransactionStateRequestHeader::from_ext_fields(check.request.ext_fields);
  if (!h.ok()) {
    log->warn("transaction check-back from {} refused: {}", check.broker_addr, h.error().message());
    return;
  }
  auto buffer = std::make_shared<const std::string>(check.request.body);
  auto view = decode_stored_message(*buffer);
  if (!view.ok()) {
    log->warn("transaction check-back from {}: undecodable message: {}", check.broker_addr,
              view.error().message());
    return;
  }
  auto queue = std::make_shared<const MessageQueue>(
      MessageQueue{std::string(view->topic), std::string(), view->queue_id});
  auto message = MessageExt::from_stored(*view, buffer, queue);
  if (!message.ok()) {
    log->warn("transaction check-back from {}: {}", check.broker_addr, message.error().message());
    return;
  }
  if (auto pgroup = message->property(property::PGROUP); !pgroup.empty() && pgroup != group_) {
    log->warn("transaction check-back from {} for group {} reached producer group {}",
              check.broker_addr, pgroup, group_);
    return;
  }
  TransactionState state = TransactionState::kUnknown;
  std::string remark;
  try {
    state = listener_(*message);
  } catch (const std::exception& e) {
    remark = std::string("checkLocalTransactionState exception ") + e.what();
  } catch (...) {
    remark = "checkLocalTransactionState exception";
  }
  std::string uniq(message->property(property::UNIQ_KEY));
  if (uniq.empty()) uniq = h->msg_id.value_or("");
  if (auto r = end(check.broker_addr, h->tran_state_table_offset, h->commit_log_offset, uniq,
                   h->transaction_id.value_or(uniq), state, /*from_check=*/true, std::move(remark));
      !r.ok()) {
    log->warn("transaction {}: answer to the check-back failed: {}", uniq, r.error().to_string());
  }
}

}  // namespace rmqc::rocketmq
