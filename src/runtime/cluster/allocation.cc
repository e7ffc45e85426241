#include "runtime/cluster/allocation.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace rmqc::runtime::cluster {
namespace {

constexpr std::string_view kDefaultClass =
    "org.apache.rocketmq.connect.runtime.service.strategy.DefaultAllocateConnAndTaskStrategy";
constexpr std::string_view kConsistentHashClass =
    "org.apache.rocketmq.connect.runtime.service.strategy."
    "AllocateConnAndTaskStrategyByConsistentHash";

// Sorted, without repeats.
std::vector<std::string> normalize_workers(const std::vector<std::string>& workers) {
  std::vector<std::string> out(workers);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Sorted by name; a repeated name once, with its largest task count; negative counts are 0.
std::vector<ConnectorLoad> normalize_connectors(const std::vector<ConnectorLoad>& connectors) {
  std::vector<ConnectorLoad> out(connectors);
  for (auto& c : out) c.task_count = std::max<std::int32_t>(0, c.task_count);
  std::sort(out.begin(), out.end(), [](const ConnectorLoad& a, const ConnectorLoad& b) {
    return a.name != b.name ? a.name < b.name : a.task_count > b.task_count;
  });
  out.erase(
      std::unique(out.begin(), out.end(),
                  [](const ConnectorLoad& a, const ConnectorLoad& b) { return a.name == b.name; }),
      out.end());
  return out;
}

AssignmentMap empty_map(const std::vector<std::string>& workers) {
  AssignmentMap map;
  for (const auto& w : workers) map.emplace(w, Assignment{});
  return map;
}

// Sorts each worker's lists (the strategies add in connector/task order already, but the order of
// the result must not depend on how a strategy walks its input).
AssignmentMap finish(AssignmentMap map) {
  for (auto& [worker, a] : map) {
    std::sort(a.connectors.begin(), a.connectors.end());
    std::sort(a.tasks.begin(), a.tasks.end());
  }
  return map;
}

// Allocates with `owner(key_hash) -> worker index`.
template <typename Owner>
AssignmentMap allocate_by_hash(const std::vector<std::string>& workers,
                               const std::vector<ConnectorLoad>& connectors, Owner owner) {
  AssignmentMap map = empty_map(workers);
  if (workers.empty()) return map;
  for (const auto& c : connectors) {
    map[workers[owner(stable_hash(c.name))]].connectors.push_back(c.name);
    for (std::int32_t t = 0; t < c.task_count; ++t) {
      map[workers[owner(stable_hash(c.name, t))]].tasks.push_back({c.name, t});
    }
  }
  return finish(std::move(map));
}

}  // namespace

std::string TaskId::to_string() const {
  return connector + "-" + std::to_string(task);
}

std::uint64_t stable_hash(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;  // murmur3 fmix64
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t stable_hash(std::string_view connector, std::int32_t task) {
  std::string key;
  key.reserve(connector.size() + 12);
  key.append(connector);
  key.push_back('\0');
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), task);
  (void)ec;  // 16 bytes always hold an int32
  key.append(digits, end);
  return stable_hash(key);
}

// --- round-robin --------------------------------------------------------------------------------

AssignmentMap RoundRobinStrategy::allocate(const std::vector<std::string>& workers_in,
                                           const std::vector<ConnectorLoad>& connectors_in) const {
  auto workers = normalize_workers(workers_in);
  auto connectors = normalize_connectors(connectors_in);
  AssignmentMap map = empty_map(workers);
  if (workers.empty()) return map;
  std::vector<Assignment*> slots;
  slots.reserve(workers.size());
  for (auto& [w, a] : map) slots.push_back(&a);  // map order = sorted worker order
  std::size_t next = 0;
  for (const auto& c : connectors) {
    slots[next++ % slots.size()]->connectors.push_back(c.name);
  }
  for (const auto& c : connectors) {
    for (std::int32_t t = 0; t < c.task_count; ++t) {
      slots[next++ % slots.size()]->tasks.push_back({c.name, t});
    }
  }
  return finish(std::move(map));
}

// --- hash ---------------------------------------------------------------------------------------

AssignmentMap HashStrategy::allocate(const std::vector<std::string>& workers_in,
                                     const std::vector<ConnectorLoad>& connectors_in) const {
  auto workers = normalize_workers(workers_in);
  auto connectors = normalize_connectors(connectors_in);
  const std::uint64_t n = workers.size();
  return allocate_by_hash(workers, connectors,
                          [n](std::uint64_t h) { return static_cast<std::size_t>(h % n); });
}

// --- consistent hash ----------------------------------------------------------------------------

ConsistentHashStrategy::ConsistentHashStrategy(int virtual_nodes)
    : virtual_nodes_(std::max(1, virtual_nodes)) {}

AssignmentMap ConsistentHashStrategy::allocate(
    const std::vector<std::string>& workers_in,
    const std::vector<ConnectorLoad>& connectors_in) const {
  auto workers = normalize_workers(workers_in);
  auto connectors = normalize_connectors(connectors_in);
  // The ring: (point, worker index), sorted; equal points (a 64-bit collision) are ordered by the
  // worker id, which is also the worker index order, so the ring is the same on every worker.
  std::vector<std::pair<std::uint64_t, std::size_t>> ring;
  ring.reserve(workers.size() * static_cast<std::size_t>(virtual_nodes_));
  for (std::size_t w = 0; w < workers.size(); ++w) {
    for (int v = 0; v < virtual_nodes_; ++v) {
      ring.emplace_back(stable_hash(workers[w] + "#" + std::to_string(v)), w);
    }
  }
  std::sort(ring.begin(), ring.end());
  return allocate_by_hash(workers, connectors, [&ring](std::uint64_t h) {
    auto it = std::lower_bound(ring.begin(), ring.end(), std::make_pair(h, std::size_t{0}));
    return it == ring.end() ? ring.front().second : it->second;
  });
}

// --- factory ------------------------------------------------------------------------------------

Result<std::unique_ptr<AllocationStrategy>> make_allocation_strategy(
    std::string_view name, const AllocationOptions& options) {
  if (name.empty() || name == kDefaultClass || name == "round-robin" || name == "default") {
    return std::unique_ptr<AllocationStrategy>(std::make_unique<RoundRobinStrategy>());
  }
  if (name == "hash") {
    return std::unique_ptr<AllocationStrategy>(std::make_unique<HashStrategy>());
  }
  if (name == kConsistentHashClass || name == "consistent-hash") {
    if (options.virtual_nodes < 0) {
      return Error(ErrorCode::kInvalidConfig,
                   "consistent-hash allocation needs a positive number of virtual nodes "
                   "(virtualNode), got " +
                       std::to_string(options.virtual_nodes));
    }
    return std::unique_ptr<AllocationStrategy>(std::make_unique<ConsistentHashStrategy>(
        options.virtual_nodes == 0 ? AllocationOptions{}.virtual_nodes : options.virtual_nodes));
  }
  return Error(ErrorCode::kInvalidConfig,
               "unknown allocation strategy '" + std::string(name) + "' (known: round-robin, " +
                   "default, " + std::string(kDefaultClass) + ", hash, consistent-hash, " +
                   std::string(kConsistentHashClass) + ")");
}

// --- diff ---------------------------------------------------------------------------------------

namespace {

template <typename T>
void set_differences(std::vector<T> before, std::vector<T> after, std::vector<T>& to_stop,
                     std::vector<T>& to_start) {
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(to_stop));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(to_start));
}

}  // namespace

AssignmentChange diff(const Assignment& before, const Assignment& after) {
  AssignmentChange change;
  set_differences(before.connectors, after.connectors, change.connectors_to_stop,
                  change.connectors_to_start);
  set_differences(before.tasks, after.tasks, change.tasks_to_stop, change.tasks_to_start);
  return change;
}

std::map<std::string, AssignmentChange> diff(const AssignmentMap& before,
                                             const AssignmentMap& after) {
  std::set<std::string> workers;
  for (const auto& [w, a] : before) workers.insert(w);
  for (const auto& [w, a] : after) workers.insert(w);
  static const Assignment kNone;
  std::map<std::string, AssignmentChange> out;
  for (const auto& w : workers) {
    auto b = before.find(w);
    auto a = after.find(w);
    auto change = diff(b == before.end() ? kNone : b->second, a == after.end() ? kNone : a->second);
    if (!change.empty()) out.emplace(w, std::move(change));
  }
  return out;
}

std::size_t count_moved_tasks(const AssignmentMap& before, const AssignmentMap& after) {
  std::map<TaskId, const std::string*> owner;
  for (const auto& [w, a] : before) {
    for (const auto& t : a.tasks) owner.emplace(t, &w);
  }
  std::size_t moved = 0;
  for (const auto& [w, a] : after) {
    for (const auto& t : a.tasks) {
      auto it = owner.find(t);
      if (it != owner.end() && *it->second != w) ++moved;
    }
  }
  return moved;
}

}  // namespace rmqc::runtime::cluster
