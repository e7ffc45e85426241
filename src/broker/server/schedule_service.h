#pragma once

// Delayed delivery, as RocketMQ 4.x's ScheduleMessageService: a message sent with DELAY=n (or a
// consumer retry at level n) is stored in SCHEDULE_TOPIC_XXXX queue n-1 with its real topic and
// queue in REAL_TOPIC / REAL_QID; once its level's delay has passed since it was stored, a copy
// goes to the real queue (a new message id) and the level's progress moves past it. Every message
// of one level waits the same time, so each level queue is due in store order and the scan of a
// level stops at its first message not yet due.
//
// Progress per level is kept with the consumer offsets (group kProgressGroup), so it is persisted
// with them and survives a restart: after a crash, at most the deliveries since the last persist
// are repeated, nothing is lost.

#include "rmqc/base/result.h"

#include "broker/store/message_store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

inline constexpr std::string_view kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
// The consumer-offsets group holding each level's progress (queue id = level - 1).
inline constexpr std::string_view kScheduleProgressGroup = "SCHEDULE_TOPIC_XXXX_PROGRESS";
inline constexpr std::string_view kDefaultDelayLevels =
    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

// "1s 5s 10s 30s 1m ..." (messageDelayLevel): units ms, s, m, h, d. Errors name the bad item.
Result<std::vector<std::chrono::milliseconds>> parse_delay_levels(std::string_view text);

class ScheduleService {
 public:
  // Puts a record into the store (a delivered copy), creating its topic if needed; the broker's
  // own put path, so long polls on the real topic wake up.
  using Deliver = std::function<Result<PutResult>(std::string_view topic, std::string& record)>;

  ScheduleService(MessageStore& store, std::vector<std::chrono::milliseconds> levels,
                  Deliver deliver);

  int max_level() const { return static_cast<int>(levels_.size()); }
  std::chrono::milliseconds delay_of(int level) const {
    return levels_[static_cast<std::size_t>(level - 1)];
  }
  // A requested level clamped to [1, max_level()].
  int clamp(int level) const;

  // Delivers every due message of every level; returns how many were delivered. Called
  // periodically (the broker's tick) from one thread.
  int deliver_due(std::int64_t now_ms);

  // Parked messages not yet delivered, per level (for stats and tests).
  std::int64_t pending(int level) const;

 private:
  // false when the level must wait (the head is not due, or the delivery failed).
  bool deliver_one(int level, const MessageRef& ref, std::int64_t now_ms);

  MessageStore& store_;
  std::vector<std::chrono::milliseconds> levels_;
  Deliver deliver_;
};

}  // namespace rmqc::broker
