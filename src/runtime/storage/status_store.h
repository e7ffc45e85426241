#pragma once

#include "rmqc/base/result.h"

#include "runtime/connect_controller.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc::runtime {

// The last known status of each connector and its tasks. Thread-safe.
class StatusStore {
 public:
  virtual ~StatusStore() = default;

  // Records the connector's status and the status of each task it lists; a task it does not
  // list is dropped. `generation` is the writer's cluster generation: a topic-backed store never
  // lets a write of a lower generation replace what a higher one wrote (for the connector, and
  // for each task). The standalone store has one writer and ignores it.
  virtual Result<void> put_status(const ConnectorState& state, std::int64_t generation = 0) = 0;
  // Distributed writers own parts of a connector's status (the connector instance on one
  // worker, each task on one), so each writes its part alone, leaving the other records as they
  // are. put_connector_status ignores state.tasks.
  virtual Result<void> put_connector_status(const ConnectorState& state,
                                            std::int64_t generation) = 0;
  virtual Result<void> put_task_status(std::string_view connector, const TaskState& task,
                                       std::int64_t generation) = 0;
  // Compare-and-set of a task's holder: records `task` (whose worker_id is the claimant) only if
  // the task's status names `expected_holder` as its worker at that point of the store's order
  // ("" = nobody); else kAlreadyExists naming the holder. Every worker applies the records of a
  // topic-backed store in the same order, so of two workers claiming at once exactly one wins.
  virtual Result<void> claim_task(std::string_view connector, const TaskState& task,
                                  std::int64_t generation, const std::string& expected_holder) = 0;
  // The connector's status with every task recorded for it; a connector with task records but
  // no connector record yet has state UNASSIGNED.
  virtual std::optional<ConnectorState> status(std::string_view connector) const = 0;
  virtual std::map<std::string, ConnectorState> statuses() const = 0;
  // Removing an unknown connector's status succeeds.
  virtual Result<void> remove_status(std::string_view connector) = 0;
};

}  // namespace rmqc::runtime
