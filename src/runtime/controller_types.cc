#include "runtime/connect_controller.h"
#include "runtime/task_metrics.h"

namespace rmqc::runtime {

std::string_view target_state_name(TargetState state) {
  switch (state) {
    case TargetState::kStarted:
      return "STARTED";
    case TargetState::kPaused:
      return "PAUSED";
    case TargetState::kStopped:
      return "STOPPED";
  }
  return "UNKNOWN";
}

std::string_view run_state_name(RunState state) {
  switch (state) {
    case RunState::kUnassigned:
      return "UNASSIGNED";
    case RunState::kRunning:
      return "RUNNING";
    case RunState::kPaused:
      return "PAUSED";
    case RunState::kStopped:
      return "STOPPED";
    case RunState::kFailed:
      return "FAILED";
    case RunState::kDestroyed:
      return "DESTROYED";
  }
  return "UNKNOWN";
}

std::string_view connector_type_name(ConnectorType type) {
  switch (type) {
    case ConnectorType::kSource:
      return "SOURCE";
    case ConnectorType::kSink:
      return "SINK";
    case ConnectorType::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

Result<TaskState> find_task(const ConnectorState& state, int task) {
  for (const auto& t : state.tasks) {
    if (t.id == task) return t;
  }
  return Error(ErrorCode::kNotFound,
               "Task " + std::to_string(task) + " of connector " + state.name + " not found");
}

WorkerHealth ConnectController::health() const {
  return {WorkerHealth::Status::kHealthy,
          "Worker has completed startup and is ready to handle requests.", std::nullopt};
}

WorkerMetrics ConnectController::worker_metrics() const {
  return {};
}

}  // namespace rmqc::runtime
