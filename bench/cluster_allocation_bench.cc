// Allocation strategies of distributed mode: the time to compute a whole cluster's assignment, and
// how many tasks change worker when one worker joins (n -> n + 1) or leaves (the middle worker of
// n). Counters per run:
//   moved_join / moved_leave   tasks that run on another worker afterwards
//   min_join / min_leave       the fewest moves that can keep the load even (tasks / (n + 1) on
//                              join; the leaver's tasks on leave)
//   spread                     max - min tasks per worker with n workers
// Tasks are spread over 10 connectors (100 tasks = 10 x 10).
#include "runtime/cluster/allocation.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rmqc::runtime::cluster {
namespace {

const char* const kStrategies[] = {"round-robin", "hash", "consistent-hash"};

std::vector<std::string> workers(int n) {
  std::vector<std::string> w;
  for (int i = 0; i < n; ++i) w.push_back("worker-" + std::to_string(i));
  return w;
}

std::vector<ConnectorLoad> connectors(int tasks) {
  std::vector<ConnectorLoad> c;
  for (int i = 0; i < 10; ++i) c.push_back({"connector-" + std::to_string(i), tasks / 10});
  return c;
}

void BM_Allocate(benchmark::State& state) {
  const char* name = kStrategies[state.range(0)];
  const int n = static_cast<int>(state.range(1));
  const int tasks = static_cast<int>(state.range(2));
  auto strategy = std::move(make_allocation_strategy(name)).value();
  auto ws = workers(n);
  auto cs = connectors(tasks);

  for (auto _ : state) {
    benchmark::DoNotOptimize(strategy->allocate(ws, cs));
  }

  auto base = strategy->allocate(ws, cs);
  auto joined_workers = ws;
  joined_workers.push_back("worker-" + std::to_string(n));
  auto joined = strategy->allocate(joined_workers, cs);
  auto left_workers = ws;
  const std::string leaver = left_workers[left_workers.size() / 2];
  left_workers.erase(left_workers.begin() + static_cast<std::ptrdiff_t>(left_workers.size() / 2));
  auto left = strategy->allocate(left_workers, cs);

  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [w, a] : base) {
    lo = std::min(lo, a.tasks.size());
    hi = std::max(hi, a.tasks.size());
  }
  state.counters["moved_join"] = static_cast<double>(count_moved_tasks(base, joined));
  state.counters["min_join"] = static_cast<double>(tasks / (n + 1));
  state.counters["moved_leave"] = static_cast<double>(count_moved_tasks(base, left));
  state.counters["min_leave"] = static_cast<double>(base.at(leaver).tasks.size());
  state.counters["spread"] = static_cast<double>(hi - lo);
  state.SetLabel(name);
}

BENCHMARK(BM_Allocate)
    ->ArgNames({"strategy", "workers", "tasks"})
    ->ArgsProduct({{0, 1, 2}, {3, 10, 30}, {100, 1000}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rmqc::runtime::cluster

BENCHMARK_MAIN();
