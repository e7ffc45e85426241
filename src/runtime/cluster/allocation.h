#pragma once

// How connectors and tasks are spread over the workers of a cluster (the Java runtime's
// RT/service/strategy/, spec §1.12). Every worker computes the whole assignment from the same
// input (the alive workers and the connectors with their task counts) and runs its own share; the
// result depends only on the sets given, never on their order, so all workers agree without a
// leader.

#include "rmqc/base/result.h"

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime::cluster {

// A connector as the allocation sees it: its stable name and how many tasks it has now.
struct ConnectorLoad {
  std::string name;
  std::int32_t task_count = 0;  // a negative count counts as 0
};

// One task of a connector.
struct TaskId {
  std::string connector;
  std::int32_t task = 0;

  auto operator<=>(const TaskId&) const = default;
  bool operator==(const TaskId&) const = default;
  std::string to_string() const;  // "<connector>-<task>"
};

// What one worker runs: connector instances (each runs on exactly one worker) and tasks, both
// sorted.
struct Assignment {
  std::vector<std::string> connectors;
  std::vector<TaskId> tasks;

  bool empty() const { return connectors.empty() && tasks.empty(); }
  bool operator==(const Assignment&) const = default;
};

// Worker id -> its assignment. Every worker of the input has an entry (possibly empty); no worker
// => no entry at all.
using AssignmentMap = std::map<std::string, Assignment>;

// The tunables of the strategies.
struct AllocationOptions {
  // Points per worker on the consistent-hash ring (the Java runtime's -DvirtualNode; more points
  // give a more even spread). 0, the Java default (which means "the number of workers" there, so
  // every join would move tasks between old workers too), means 100 here.
  int virtual_nodes = 100;
};

class AllocationStrategy {
 public:
  virtual ~AllocationStrategy() = default;

  // The short name ("round-robin", "hash", "consistent-hash").
  virtual std::string_view name() const = 0;

  // Assigns every connector and every task to exactly one worker. `workers` may come in any order
  // and with repeats; connectors too (a repeated name counts once, with its largest task count).
  virtual AssignmentMap allocate(const std::vector<std::string>& workers,
                                 const std::vector<ConnectorLoad>& connectors) const = 0;
};

// `org.apache.rocketmq.connect.runtime.service.strategy.DefaultAllocateConnAndTaskStrategy`,
// "round-robin", "default" (and "" = the default): workers and connectors sorted by name; the
// connectors are dealt in turn starting at the first worker, then the same counter goes on over
// every task (connector name order, task id order). Per worker, connector counts, task counts and
// connectors + tasks each differ by at most 1. Moves many tasks when the worker list changes.
class RoundRobinStrategy final : public AllocationStrategy {
 public:
  std::string_view name() const override { return "round-robin"; }
  AssignmentMap allocate(const std::vector<std::string>& workers,
                         const std::vector<ConnectorLoad>& connectors) const override;
};

// "hash": a task goes to workers[stable_hash(connector, task) % n], a connector to
// workers[stable_hash(connector) % n]. Stateless and cheap; a change of n moves most tasks.
class HashStrategy final : public AllocationStrategy {
 public:
  std::string_view name() const override { return "hash"; }
  AssignmentMap allocate(const std::vector<std::string>& workers,
                         const std::vector<ConnectorLoad>& connectors) const override;
};

// `org.apache.rocketmq.connect.runtime.service.strategy.AllocateConnAndTaskStrategyByConsistentHash`,
// "consistent-hash": each worker owns `virtual_nodes` points of a 64-bit hash ring; a connector or
// task goes to the owner of the first point at or after its hash. A worker joining takes only
// tasks that now land on it, a worker leaving hands on only its own, and a task-count change
// moves only the tasks added or removed.
class ConsistentHashStrategy final : public AllocationStrategy {
 public:
  explicit ConsistentHashStrategy(int virtual_nodes = AllocationOptions{}.virtual_nodes);
  std::string_view name() const override { return "consistent-hash"; }
  int virtual_nodes() const { return virtual_nodes_; }
  AssignmentMap allocate(const std::vector<std::string>& workers,
                         const std::vector<ConnectorLoad>& connectors) const override;

 private:
  int virtual_nodes_;
};

// A strategy by Java class name or short name (see the classes above). kInvalidConfig for an
// unknown name or a negative virtual_nodes (consistent hash).
Result<std::unique_ptr<AllocationStrategy>> make_allocation_strategy(
    std::string_view name, const AllocationOptions& options = {});

// The stable 64-bit hash the strategies use: FNV-1a over the bytes, then the murmur3 fmix64
// finalizer (FNV alone spreads short, similar keys such as "w1#17" poorly around a ring). The
// same on every build and platform.
std::uint64_t stable_hash(std::string_view bytes);
// The hash of a task: stable_hash("<connector>\0<task in decimal>").
std::uint64_t stable_hash(std::string_view connector, std::int32_t task);

// What a worker has to do to go from one assignment to the next. All lists sorted.
struct AssignmentChange {
  std::vector<std::string> connectors_to_stop;
  std::vector<std::string> connectors_to_start;
  std::vector<TaskId> tasks_to_stop;
  std::vector<TaskId> tasks_to_start;

  bool empty() const {
    return connectors_to_stop.empty() && connectors_to_start.empty() && tasks_to_stop.empty() &&
           tasks_to_start.empty();
  }
  bool operator==(const AssignmentChange&) const = default;
};

// One worker's change from `before` to `after`.
AssignmentChange diff(const Assignment& before, const Assignment& after);
// Every worker's change (workers of either map; a worker missing from one side has an empty
// assignment there). Workers without any change are left out.
std::map<std::string, AssignmentChange> diff(const AssignmentMap& before,
                                             const AssignmentMap& after);

// The number of tasks present in both maps that run on a different worker in `after`.
std::size_t count_moved_tasks(const AssignmentMap& before, const AssignmentMap& after);

}  // namespace rmqc::runtime::cluster
