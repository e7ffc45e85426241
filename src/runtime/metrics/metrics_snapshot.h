#pragma once

// What GET /metrics and the metrics reporters read (docs/operations.md#metrics): one collection
// of the worker's and its tasks' figures, taken from the controller at one moment.

#include "runtime/connect_controller.h"
#include "runtime/task_metrics.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rmqc::runtime {

// A task this worker runs, by the controller's states (STOPPED connectors left out).
struct TaskStateView {
  std::string connector;
  int task = 0;
  RunState state = RunState::kUnassigned;
};

// The tasks `worker_id` runs; `connectors_here` (if given) counts the connectors it runs.
std::vector<TaskStateView> tasks_of_worker(const ConnectController& controller,
                                           const std::string& worker_id,
                                           std::size_t* connectors_here);

struct MetricsSnapshot {
  WorkerInfo info;
  WorkerMetrics worker;              // uptime, rebalances, restarts, task counters
  std::size_t connector_count = 0;   // connectors known (the cluster's in distributed mode)
  std::vector<TaskStateView> tasks;  // this worker's tasks and their states
  double resident_bytes = 0;         // /proc/self/statm; 0 when unreadable
  std::int64_t timestamp_ms = 0;     // wall clock, epoch ms
};

MetricsSnapshot collect_metrics(const ConnectController& controller);

// The process' resident set size from /proc/self/statm; 0 when it cannot be read.
double resident_memory_bytes();

}  // namespace rmqc::runtime
