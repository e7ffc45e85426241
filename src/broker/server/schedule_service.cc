#include "broker/server/schedule_service.h"

#include "base/logging.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"

#include <charconv>

namespace rmqc::broker {

namespace property = rocketmq::property;

Result<std::vector<std::chrono::milliseconds>> parse_delay_levels(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(i, end - i);
    i = end;
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    std::string_view unit(p, static_cast<std::size_t>(item.data() + item.size() - p));
    std::int64_t factor = 0;
    if (unit == "ms") factor = 1;
    if (unit == "s") factor = 1000;
    if (unit == "m") factor = 60'000;
    if (unit == "h") factor = 3'600'000;
    if (unit == "d") factor = 86'400'000;
    if (ec != std::errc() || n <= 0 || factor == 0) {
      return Error(ErrorCode::kInvalidConfig,
                   "messageDelayLevel: '" + std::string(item) +
                       "' is not a positive number followed by ms, s, m, h or d");
    }
    out.emplace_back(n * factor);
  }
  if (out.empty()) return Error(ErrorCode::kInvalidConfig, "messageDelayLevel is empty");
  return out;
}

ScheduleService::ScheduleService(MessageStore& store, std::vector<std::chrono::milliseconds> levels,
                                 Deliver deliver)
    : store_(store), levels_(std::move(levels)), deliver_(std::move(deliver)) {}

int ScheduleService::clamp(int level) const {
  return std::max(1, std::min(level, max_level()));
}

std::int64_t ScheduleService::pending(int level) const {
  const std::int32_t queue = level - 1;
  auto done = store_.consumer_offsets().query(kScheduleProgressGroup, kScheduleTopic, queue);
  const std::int64_t from = std::max(done.value_or(0), store_.min_offset(kScheduleTopic, queue));
  return std::max<std::int64_t>(0, store_.max_offset(kScheduleTopic, queue) - from);
}

int ScheduleService::deliver_due(std::int64_t now_ms) {
  int delivered = 0;
  for (int level = 1; level <= max_level(); ++level) {
    const std::int32_t queue = level - 1;
    if (store_.max_offset(kScheduleTopic, queue) == 0) continue;
    auto& offsets = store_.consumer_offsets();
    std::int64_t next =
        std::max(offsets.query(kScheduleProgressGroup, kScheduleTopic, queue).value_or(0),
                 store_.min_offset(kScheduleTopic, queue));
    bool waiting = false;
    while (!waiting && next < store_.max_offset(kScheduleTopic, queue)) {
      auto got = store_.get_messages(kScheduleTopic, queue, next, 32, 1 << 20);
      if (!got.ok() || got->messages.empty()) break;
      for (const auto& ref : got->messages) {
        if (!deliver_one(level, ref, now_ms)) {
          waiting = true;
          break;
        }
        next = ref.queue_offset + 1;
        ++delivered;
      }
      if (!waiting && got->next_begin_offset > next) next = got->next_begin_offset;
      offsets.commit(kScheduleProgressGroup, kScheduleTopic, queue, next);
    }
  }
  return delivered;
}

bool ScheduleService::deliver_one(int level, const MessageRef& ref, std::int64_t now_ms) {
  auto parked = rocketmq::decode_stored_message(ref.bytes);
  if (!parked.ok()) {
    // A record the store accepted but that does not decode: skip it rather than stall the level.
    logger("broker")->error("delay level {}: skipping undecodable message at offset {}: {}", level,
                            ref.queue_offset, parked.error().message());
    return true;
  }
  if (parked->store_timestamp + delay_of(level).count() > now_ms) return false;
  auto props = rocketmq::parse_properties(parked->properties);
  auto topic_it = props.find(std::string(property::REAL_TOPIC));
  auto qid_it = props.find(std::string(property::REAL_QID));
  std::int32_t qid = 0;
  if (topic_it == props.end() || qid_it == props.end() ||
      std::from_chars(qid_it->second.data(), qid_it->second.data() + qid_it->second.size(), qid)
              .ec != std::errc()) {
    logger("broker")->error(
        "delay level {}: message at offset {} has no REAL_TOPIC/REAL_QID; "
        "dropped",
        level, ref.queue_offset);
    return true;
  }
  const std::string topic = topic_it->second;
  props.erase(std::string(property::DELAY));
  const std::string encoded = rocketmq::encode_properties(props);
  rocketmq::StoredMessageView copy = *parked;
  copy.topic = topic;
  copy.queue_id = qid;
  copy.store_timestamp = now_ms;
  copy.properties = encoded;
  std::string record;
  if (auto r = rocketmq::append_stored_message(copy, record); !r.ok()) {
    logger("broker")->error("delay level {}: cannot re-encode message at offset {}: {}; dropped",
                            level, ref.queue_offset, r.error().message());
    return true;
  }
  if (auto put = deliver_(topic, record); !put.ok()) {
    if (put.error().is_retriable()) {
      logger("broker")->warn("delay level {}: delivery to {} failed, retried: {}", level, topic,
                             put.error().message());
      return false;  // the store is full or busy: try again at the next tick
    }
    logger("broker")->error("delay level {}: delivery to {} refused, dropped: {}", level, topic,
                            put.error().message());
  }
  return true;
}

}  // namespace rmqc::broker
