#pragma once

#include "runtime/connect_controller.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace rmqc::runtime {

// When FAILED tasks are restarted automatically: after taskAutoRestartInitialBackoffMs, doubling
// with each further attempt up to taskAutoRestartMaxBackoffMs, at most
// taskAutoRestartMaxAttempts times (0 = no limit). A task that ran `healthy_after` without
// failing starts counting again. The coordinator tells it what it sees (observe()) and whether
// the user wants the task running; it never restarts a task of a paused or stopped connector.
//
// Not thread-safe: the coordinator's lock guards it.
class TaskRestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<std::string, int>;  // connector, task
  struct Settings {
    bool enabled = true;
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{300000};
    int max_attempts = 0;
    std::chrono::milliseconds healthy_after{60000};
  };

  explicit TaskRestartPolicy(Settings settings) : settings_(settings) {}

  // What the coordinator sees of a task now; `wanted`: the connector's target state is STARTED.
  // True when a restart is due now (the caller restarts it and calls restarted()).
  bool observe(const std::string& connector, const TaskState& state, bool wanted,
               Clock::time_point now);
  void restarted(const std::string& connector, int task);
  // A user's restart, pause, stop, update or delete: the count starts again.
  void forget(const std::string& connector);
  // Drops tasks that are gone (connector deleted, task moved away).
  void forget(const std::string& connector, int task);
  std::optional<TaskRestartInfo> info(const std::string& connector, int task) const;
  // When the next restart falls due, if one is scheduled.
  std::optional<Clock::time_point> next_due() const;
  std::uint64_t total_restarts() const { return total_; }
  // No task is being tracked (none failed since its last user action or healthy minute).
  bool idle() const { return tracks_.empty(); }
  // Some task was restarted and may fail again (tracked, not given up on).
  bool watching() const;

 private:
  struct Track {
    int attempts = 0;
    std::string last_error;
    std::optional<Clock::time_point> due;
    std::optional<Clock::time_point> running_since;
    bool exhausted = false;
  };
  std::chrono::milliseconds backoff(int attempts) const;

  Settings settings_;
  std::map<Key, Track> tracks_;
  std::uint64_t total_ = 0;
};

}  // namespace rmqc::runtime
