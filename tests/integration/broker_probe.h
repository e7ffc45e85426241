#pragma once

// What a test reads from the broker of a worker under test, through the native admin client.

#include "rocketmq/client/admin.h"

#include <string>

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

}  // namespace rmqc::itest
