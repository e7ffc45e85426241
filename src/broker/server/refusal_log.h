#pragma once

#include "base/logging.h"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

namespace rmqc::broker {

// Logs requests a server refused because their header or body could not be decoded, at warning
// level, once per peer host, request code and reason: a client that retries every few seconds,
// or reconnects from a new port, must not flood the log. The set of what was logged is bounded;
// when full it starts over, so a long-running server logs a recurring refusal again now and then.
class RefusalLog {
 public:
  explicit RefusalLog(std::string logger_name, std::size_t max_entries = 1024)
      : logger_name_(std::move(logger_name)), max_entries_(max_entries) {}

  // Returns whether this refusal was logged (false: already logged for this peer host).
  bool log(const std::string& peer, std::int32_t code, const std::string& reason) {
    auto colon = peer.rfind(':');
    std::string host = colon == std::string::npos ? peer : peer.substr(0, colon);
    {
      std::lock_guard lock(mutex_);
      if (logged_.size() >= max_entries_) logged_.clear();
      if (!logged_.emplace(std::move(host), code, reason).second) return false;
    }
    logger(logger_name_)->warn("refused request {} from {}: {}", code, peer, reason);
    return true;
  }

 private:
  const std::string logger_name_;
  const std::size_t max_entries_;
  std::mutex mutex_;
  std::set<std::tuple<std::string, std::int32_t, std::string>> logged_;
};

}  // namespace rmqc::broker
