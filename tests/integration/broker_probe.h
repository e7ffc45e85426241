#pragma once

// What a test reads from the broker of a worker under test, through the native admin client.

#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::itest {

// Messages stored in a topic (the sum of its queues' max offsets); -1 when unknown.
inline long long topic_messages(const std::string& namesrv, const std::string& topic) {
  rocketmq::ClientConfig client;
  client.namesrv_addr = namesrv;
  auto admin = rocketmq::Admin::start(client);
  if (!admin.ok()) return -1;
  auto queues = (*admin)->topic_status(topic);
  if (!queues.ok()) return -1;
  long long total = 0;
  for (const auto& q : *queues) total += q.max_offset;
  return total;
}

// Every message of a topic from the beginning, until `count` arrived or `timeout` passed (a
// dead letter topic exists once its first message was sent, so this waits for its queues too).
inline std::vector<rocketmq::MessageExt> read_topic(const std::string& namesrv,
                                                    const std::string& topic, std::size_t count,
                                                    std::chrono::milliseconds timeout) {
  using namespace std::chrono_literals;
  using Clock = std::chrono::steady_clock;
  std::vector<rocketmq::MessageExt> out;
  rocketmq::ConsumerConfig cc;
  cc.client.namesrv_addr = namesrv;
  cc.group = "itest-reader-" + std::to_string(::getpid());
  cc.auto_commit = false;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  if (!consumer.ok()) {
    ADD_FAILURE() << consumer.error().to_string();
    return out;
  }
  auto& c = **consumer;
  auto deadline = Clock::now() + timeout;
  std::vector<rocketmq::MessageQueue> queues;
  while (Clock::now() < deadline) {
    auto q = c.fetch_queues(topic);
    if (q.ok() && !q->empty()) {
      queues = *q;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (queues.empty() || !c.assign(queues).ok()) {
    ADD_FAILURE() << "no queues for " << topic;
    return out;
  }
  for (const auto& q : queues) (void)c.seek_to_begin(q);
  while (out.size() < count && Clock::now() < deadline) {
    auto got = c.poll(200ms);
    if (!got.ok()) continue;
    for (auto& m : *got) out.push_back(std::move(m));
  }
  c.shutdown();
  return out;
}

}  // namespace rmqc::itest
