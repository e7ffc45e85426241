#pragma once

#include "broker/store/message_store.h"
#include "rocketmq/protocol/message_codec.h"

#include <string>
#include <string_view>

namespace rmqc::broker::testing {

// An encoded stored record as the broker would hand it to the store (offsets still zero).
inline std::string make_record(std::string_view topic, int32_t queue_id, std::string_view body,
                               std::string_view tag = {}) {
  std::string props;
  if (!tag.empty()) {
    props = "TAGS\x01";
    props.append(tag);
  }
  rocketmq::StoredMessageView m;
  m.queue_id = queue_id;
  m.born_timestamp = 1700000000000;
  m.born_host = rocketmq::SocketAddress::ipv4(127, 0, 0, 1, 5000);
  m.store_host = rocketmq::SocketAddress::ipv4(127, 0, 0, 1, 10911);
  m.body = body;
  m.topic = topic;
  m.properties = props;
  std::string out;
  (void)rocketmq::append_stored_message(m, out);
  return out;
}

inline Result<PutResult> put(MessageStore& store, std::string_view topic, int32_t queue_id,
                             std::string_view body, std::string_view tag = {}) {
  std::string record = make_record(topic, queue_id, body, tag);
  return store.put_message(std::span<char>(record.data(), record.size()));
}

// Bodies of the records a get returned, in order.
inline std::vector<std::string> bodies(const GetResult& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages) {
    auto decoded = rocketmq::decode_stored_message(m.bytes);
    out.emplace_back(decoded.ok() ? std::string(decoded->body) : std::string("<corrupt>"));
  }
  return out;
}

inline StoreConfig small_config(const std::string& dir) {
  StoreConfig c;
  c.dir = dir;
  c.commit_log_segment_bytes = 64 * 1024;
  c.consume_queue_segment_entries = 100;
  c.max_message_bytes = 16 * 1024;
  c.flush_interval = std::chrono::milliseconds(50);
  c.retention_check_interval = std::chrono::milliseconds(0);
  return c;
}

}  // namespace rmqc::broker::testing
