#include "runtime/task_io.h"

#include "rocketmq/client/client_instance.h"

namespace rmqc::runtime {

// --- RocketMqRecordSender ---

void RocketMqRecordSender::send_async(rocketmq::Message message, std::string key,
                                      rocketmq::SendCallback callback) {
  if (key.empty()) {
    producer_->send_async(std::move(message), std::move(callback));
  } else {
    producer_->send_by_key_async(std::move(message), std::move(key), std::move(callback));
  }
}

void RocketMqRecordSender::send_batch_async(std::span<const rocketmq::Message> messages,
                                            std::string key, rocketmq::SendCallback callback) {
  producer_->send_batch_async(messages, std::move(key), std::move(callback));
}

// --- RocketMqRecordFetcher ---

Result<std::unique_ptr<RecordFetcher>> RocketMqRecordFetcher::start(
    rocketmq::ConsumerConfig config) {
  RMQC_ASSIGN_OR_RETURN(auto consumer, rocketmq::LitePullConsumer::start(std::move(config)));
  return std::unique_ptr<RecordFetcher>(
      std::make_unique<RocketMqRecordFetcher>(std::move(consumer)));
}

Result<void> RocketMqRecordFetcher::subscribe(const std::string& topic,
                                              const std::string& expression) {
  return consumer_->subscribe(topic, expression);
}

void RocketMqRecordFetcher::set_assignment_listener(rocketmq::AssignmentListener listener) {
  consumer_->set_assignment_listener(std::move(listener));
}

std::vector<rocketmq::MessageQueue> RocketMqRecordFetcher::assignment() const {
  return consumer_->assignment();
}

Result<std::vector<rocketmq::MessageQueue>> RocketMqRecordFetcher::fetch_queues(
    const std::string& topic) {
  return consumer_->fetch_queues(topic);
}

void RocketMqRecordFetcher::request_rebalance() {
  // A heartbeat first, so the (new) brokers know this member before the rebalance asks them for
  // the group's members.
  (void)consumer_->instance().send_heartbeat();
  consumer_->request_rebalance();
}

Result<std::vector<rocketmq::MessageExt>> RocketMqRecordFetcher::poll(
    std::chrono::milliseconds timeout) {
  return consumer_->poll(timeout);
}

void RocketMqRecordFetcher::wakeup() {
  consumer_->wakeup();
}

Result<void> RocketMqRecordFetcher::seek(const rocketmq::MessageQueue& queue, std::int64_t offset) {
  return consumer_->seek(queue, offset);
}

void RocketMqRecordFetcher::pause(const std::vector<rocketmq::MessageQueue>& queues) {
  consumer_->pause(queues);
}

void RocketMqRecordFetcher::resume(const std::vector<rocketmq::MessageQueue>& queues) {
  consumer_->resume(queues);
}

Result<std::int64_t> RocketMqRecordFetcher::committed(const rocketmq::MessageQueue& queue) {
  return consumer_->committed(queue);
}

Result<void> RocketMqRecordFetcher::commit(
    const std::map<rocketmq::MessageQueue, std::int64_t>& offsets) {
  return consumer_->commit(offsets);
}

void RocketMqRecordFetcher::shutdown() {
  consumer_->shutdown();
}

}  // namespace rmqc::runtime
