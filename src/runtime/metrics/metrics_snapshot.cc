#include "runtime/metrics/metrics_snapshot.h"

#include <chrono>
#include <fstream>
#include <unistd.h>

namespace rmqc::runtime {

double resident_memory_bytes() {
  std::ifstream in("/proc/self/statm");
  unsigned long long size = 0;
  unsigned long long resident = 0;
  if (!(in >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

std::vector<TaskStateView> tasks_of_worker(const ConnectController& controller,
                                           const std::string& worker_id,
                                           std::size_t* connectors_here) {
  std::vector<TaskStateView> out;
  for (const auto& name : controller.connector_names()) {
    auto state = controller.connector_state(name);
    if (!state.ok() || state->state == RunState::kStopped) continue;
    if (connectors_here && state->worker_id == worker_id) ++*connectors_here;
    for (const auto& t : state->tasks) {
      if (t.worker_id == worker_id) out.push_back({name, t.id, t.state});
    }
  }
  return out;
}

MetricsSnapshot collect_metrics(const ConnectController& controller) {
  MetricsSnapshot s;
  s.info = controller.worker_info();
  s.worker = controller.worker_metrics();
  s.connector_count = controller.connector_names().size();
  s.tasks = tasks_of_worker(controller, s.info.worker_id, nullptr);
  s.resident_bytes = resident_memory_bytes();
  s.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return s;
}

}  // namespace rmqc::runtime
