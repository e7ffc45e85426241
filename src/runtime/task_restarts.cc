#include "runtime/task_restarts.h"

#include "base/logging.h"

#include <algorithm>

namespace rmqc::runtime {

std::chrono::milliseconds TaskRestartPolicy::backoff(int attempts) const {
  auto d = settings_.initial_backoff;
  for (int i = 0; i < attempts && d < settings_.max_backoff; ++i) d *= 2;
  return std::min(d, settings_.max_backoff);
}

bool TaskRestartPolicy::observe(const std::string& connector, const TaskState& state, bool wanted,
                                Clock::time_point now) {
  if (!settings_.enabled) return false;
  const Key key{connector, state.id};
  if (!wanted) {
    tracks_.erase(key);  // paused or stopped by the user: never restarted behind their back
    return false;
  }
  if (state.state == RunState::kRunning) {
    auto it = tracks_.find(key);
    if (it == tracks_.end()) return false;
    Track& t = it->second;
    t.due.reset();
    if (!t.running_since) t.running_since = now;
    return false;
  }
  if (state.state != RunState::kFailed) return false;
  Track& t = tracks_[key];
  if (t.running_since) {
    if (now - *t.running_since >= settings_.healthy_after) {
      t.attempts = 0;
      t.exhausted = false;
    }
    t.running_since.reset();
  }
  if (t.exhausted) return false;
  if (!t.due) {
    t.last_error = state.trace.value_or("");
    if (settings_.max_attempts > 0 && t.attempts >= settings_.max_attempts) {
      t.exhausted = true;
      logger("worker")->warn(
          "task {}-{} failed again after {} automatic restarts; it stays FAILED "
          "(taskAutoRestartMaxAttempts)",
          connector, state.id, t.attempts);
      return false;
    }
    const auto wait = backoff(t.attempts);
    t.due = now + wait;
    logger("worker")->info("task {}-{} FAILED; automatic restart {} in {} ms", connector, state.id,
                           t.attempts + 1, wait.count());
    return false;
  }
  return now >= *t.due;
}

void TaskRestartPolicy::restarted(const std::string& connector, int task) {
  auto it = tracks_.find(Key{connector, task});
  if (it == tracks_.end()) return;
  ++it->second.attempts;
  it->second.due.reset();
  ++total_;
}

void TaskRestartPolicy::forget(const std::string& connector) {
  std::erase_if(tracks_, [&](const auto& entry) { return entry.first.first == connector; });
}

void TaskRestartPolicy::forget(const std::string& connector, int task) {
  tracks_.erase(Key{connector, task});
}

std::optional<TaskRestartInfo> TaskRestartPolicy::info(const std::string& connector,
                                                       int task) const {
  auto it = tracks_.find(Key{connector, task});
  if (it == tracks_.end()) return std::nullopt;
  const Track& t = it->second;
  TaskRestartInfo out;
  out.attempts = t.attempts;
  out.last_error = t.last_error;
  out.exhausted = t.exhausted;
  if (t.due) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*t.due - Clock::now());
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()) +
                    std::max(left, std::chrono::milliseconds(0));
    out.next_attempt_ms = at.count();
  }
  return out;
}

bool TaskRestartPolicy::watching() const {
  return std::any_of(tracks_.begin(), tracks_.end(),
                     [](const auto& entry) { return !entry.second.exhausted; });
}

std::optional<TaskRestartPolicy::Clock::time_point> TaskRestartPolicy::next_due() const {
  std::optional<Clock::time_point> out;
  for (const auto& [key, t] : tracks_) {
    if (t.due && (!out || *t.due < *out)) out = t.due;
  }
  return out;
}

}  // namespace rmqc::runtime
