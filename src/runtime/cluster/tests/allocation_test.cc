// Allocation strategies: completeness, balance, determinism, movement on membership and task-count
// changes, and the diff the coordinator applies.
#include "runtime/cluster/allocation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace rmqc::runtime::cluster {
namespace {

const char* const kNames[] = {"round-robin", "hash", "consistent-hash"};

std::unique_ptr<AllocationStrategy> make(std::string_view name) {
  auto s = make_allocation_strategy(name);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
  return std::move(s).value();
}

std::vector<std::string> workers(int n, int first = 1) {
  std::vector<std::string> w;
  for (int i = first; i < first + n; ++i) w.push_back("worker-" + std::to_string(i));
  return w;
}

// `n` connectors of `tasks` tasks each.
std::vector<ConnectorLoad> connectors(int n, int tasks) {
  std::vector<ConnectorLoad> c;
  for (int i = 0; i < n; ++i) c.push_back({"conn-" + std::to_string(i), tasks});
  return c;
}

std::map<TaskId, std::string> owners(const AssignmentMap& map) {
  std::map<TaskId, std::string> out;
  for (const auto& [w, a] : map) {
    for (const auto& t : a.tasks) EXPECT_TRUE(out.emplace(t, w).second) << t.to_string();
  }
  return out;
}

std::map<std::string, std::string> connector_owners(const AssignmentMap& map) {
  std::map<std::string, std::string> out;
  for (const auto& [w, a] : map) {
    for (const auto& c : a.connectors) EXPECT_TRUE(out.emplace(c, w).second) << c;
  }
  return out;
}

// Every connector and task exactly once, on a worker of the input.
void expect_complete(const AssignmentMap& map, const std::vector<std::string>& ws,
                     const std::vector<ConnectorLoad>& cs) {
  std::set<std::string> wset(ws.begin(), ws.end());
  std::set<std::string> keys;
  for (const auto& [w, a] : map) keys.insert(w);
  EXPECT_EQ(keys, wset);
  auto tasks = owners(map);
  auto conns = connector_owners(map);
  std::size_t expected_tasks = 0;
  for (const auto& c : cs) {
    EXPECT_TRUE(conns.contains(c.name)) << c.name;
    for (int t = 0; t < c.task_count; ++t) EXPECT_TRUE(tasks.contains({c.name, t}));
    expected_tasks += static_cast<std::size_t>(c.task_count);
  }
  EXPECT_EQ(tasks.size(), expected_tasks);
  EXPECT_EQ(conns.size(), cs.size());
}

std::size_t spread(const AssignmentMap& map) {
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [w, a] : map) {
    lo = std::min(lo, a.tasks.size());
    hi = std::max(hi, a.tasks.size());
  }
  return hi - lo;
}

TEST(AllocationFactory, JavaAndShortNames) {
  EXPECT_EQ(make("round-robin")->name(), "round-robin");
  EXPECT_EQ(make("default")->name(), "round-robin");
  EXPECT_EQ(make("")->name(), "round-robin");
  EXPECT_EQ(
      make(
          "org.apache.rocketmq.connect.runtime.service.strategy.DefaultAllocateConnAndTaskStrategy")
          ->name(),
      "round-robin");
  EXPECT_EQ(make("hash")->name(), "hash");
  EXPECT_EQ(make("consistent-hash")->name(), "consistent-hash");
  EXPECT_EQ(make("org.apache.rocketmq.connect.runtime.service.strategy."
                 "AllocateConnAndTaskStrategyByConsistentHash")
                ->name(),
            "consistent-hash");

  auto unknown = make_allocation_strategy("random");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(unknown.error().message().find("consistent-hash"), std::string::npos);

  AllocationOptions o;
  o.virtual_nodes = 7;
  auto ch = make_allocation_strategy("consistent-hash", o);
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(dynamic_cast<ConsistentHashStrategy&>(**ch).virtual_nodes(), 7);
  o.virtual_nodes = 0;  // the Java default: ours
  EXPECT_EQ(dynamic_cast<ConsistentHashStrategy&>(**make_allocation_strategy("consistent-hash", o))
                .virtual_nodes(),
            100);
  o.virtual_nodes = -1;
  EXPECT_EQ(make_allocation_strategy("consistent-hash", o).error().code(),
            ErrorCode::kInvalidConfig);
  EXPECT_TRUE(make_allocation_strategy("hash", o).ok());  // only consistent hash uses it
}

TEST(StableHash, FixedValues) {
  // Pinned: a change here would make workers of two builds disagree on the assignment.
  EXPECT_EQ(stable_hash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(stable_hash("worker-1#0"), 0x563c8b67f7cd6e19ULL);
  EXPECT_EQ(stable_hash("conn", 12), 0x4b2f2bbb36106f9eULL);
  EXPECT_EQ(stable_hash("a"), stable_hash(std::string("a")));
  EXPECT_NE(stable_hash("conn", 1), stable_hash("conn", 2));
  EXPECT_NE(stable_hash("conn1", 1), stable_hash("conn", 11));
  EXPECT_EQ(stable_hash("conn", 12), stable_hash(std::string_view("conn\0"
                                                                  "12",
                                                                  7)));
}

TEST(Allocation, EmptyWorkersGiveEmptyAssignment) {
  for (const char* name : kNames) {
    auto s = make(name);
    EXPECT_TRUE(s->allocate({}, connectors(3, 5)).empty()) << name;
    auto none = s->allocate(workers(2), {});
    ASSERT_EQ(none.size(), 2u);
    for (const auto& [w, a] : none) EXPECT_TRUE(a.empty());
  }
}

TEST(Allocation, EveryTaskExactlyOnce) {
  std::vector<ConnectorLoad> cs = {{"a", 1}, {"b", 0}, {"c", 17}, {"d", 4}, {"neg", -3}};
  for (const char* name : kNames) {
    SCOPED_TRACE(name);
    auto s = make(name);
    for (int n : {1, 2, 3, 7, 40}) {
      auto ws = workers(n);
      auto map = s->allocate(ws, cs);
      auto expected = cs;
      expected.back().task_count = 0;
      expect_complete(map, ws, expected);
    }
  }
}

TEST(Allocation, Balance) {
  auto ws = workers(3);
  std::map<std::string, std::size_t> result;
  for (auto [ncon, ntasks] : {std::pair{1, 30}, std::pair{3, 10}, std::pair{10, 3}}) {
    for (const char* name : kNames) {
      auto map = make(name)->allocate(ws, connectors(ncon, ntasks));
      std::size_t s = spread(map);
      std::printf("3 workers x %d connectors x %d tasks, %-15s: tasks per worker", ncon, ntasks,
                  name);
      for (const auto& [w, a] : map) std::printf(" %zu", a.tasks.size());
      std::printf(" (max-min %zu)\n", s);
      if (std::string(name) == "round-robin") {
        EXPECT_LE(s, 1u);
        std::size_t lo = SIZE_MAX, hi = 0;
        for (const auto& [w, a] : map) {
          lo = std::min(lo, a.connectors.size());
          hi = std::max(hi, a.connectors.size());
        }
        EXPECT_LE(hi - lo, 1u);
      } else {
        EXPECT_LE(s, 20u) << name;  // a hash spread, not a balance guarantee
      }
    }
  }
}

TEST(Allocation, RoundRobinBalancedOverConnectorsOfOneTaskEach) {
  // Per-connector dealing would put every 1-task connector on the first worker.
  auto map = make("round-robin")->allocate(workers(4), connectors(9, 1));
  EXPECT_LE(spread(map), 1u);
}

TEST(Allocation, RoundRobinDealsLikeTheJavaDefault) {
  // Connectors first from the first worker, then the same counter over the tasks.
  auto map = make("round-robin")->allocate({"w2", "w1"}, {{"b", 1}, {"a", 2}});
  EXPECT_EQ(map["w1"].connectors, std::vector<std::string>{"a"});
  EXPECT_EQ(map["w2"].connectors, std::vector<std::string>{"b"});
  EXPECT_EQ(map["w1"].tasks, (std::vector<TaskId>{{"a", 0}, {"b", 0}}));
  EXPECT_EQ(map["w2"].tasks, (std::vector<TaskId>{{"a", 1}}));
}

TEST(Allocation, DeterministicForShuffledInput) {
  auto ws = workers(5);
  std::vector<ConnectorLoad> cs = {{"orders", 7}, {"users", 3}, {"audit", 1}, {"files", 12}};
  std::mt19937 rng(42);
  for (const char* name : kNames) {
    auto s = make(name);
    auto reference = s->allocate(ws, cs);
    for (int i = 0; i < 20; ++i) {
      auto w2 = ws;
      auto c2 = cs;
      std::shuffle(w2.begin(), w2.end(), rng);
      std::shuffle(c2.begin(), c2.end(), rng);
      if (i % 2) w2.push_back(w2.front());  // a repeated worker counts once
      EXPECT_EQ(make(name)->allocate(w2, c2), reference) << name;
    }
  }
}

TEST(Allocation, ConsistentHashJoinMovesOnlyToTheNewWorker) {
  auto s = make("consistent-hash");
  auto cs = connectors(10, 10);
  auto before = s->allocate(workers(3), cs);
  auto after = s->allocate(workers(4), cs);
  auto ob = owners(before);
  auto oa = owners(after);
  std::size_t moved = 0;
  for (const auto& [task, w] : oa) {
    if (ob.at(task) != w) {
      EXPECT_EQ(w, "worker-4") << task.to_string() << " moved between old workers";
      ++moved;
    }
  }
  EXPECT_EQ(moved, after.at("worker-4").tasks.size());
  EXPECT_EQ(moved, count_moved_tasks(before, after));
  EXPECT_GT(moved, 0u);
  std::printf("consistent-hash, 100 tasks, join 3 -> 4: %zu moved (ideal 25)\n", moved);
}

TEST(Allocation, ConsistentHashLeaveMovesOnlyTheLeaversTasks) {
  auto s = make("consistent-hash");
  auto cs = connectors(10, 10);
  auto before = s->allocate(workers(4), cs);
  auto after = s->allocate(workers(3), cs);  // worker-4 leaves
  auto ob = owners(before);
  auto oa = owners(after);
  for (const auto& [task, w] : ob) {
    if (w != "worker-4") {
      EXPECT_EQ(oa.at(task), w) << task.to_string();
    }
  }
  EXPECT_EQ(count_moved_tasks(before, after), before.at("worker-4").tasks.size());

  // A middle worker leaving, too.
  auto without2 = s->allocate({"worker-1", "worker-3", "worker-4"}, cs);
  for (const auto& [task, w] : ob) {
    if (w != "worker-2") {
      EXPECT_EQ(owners(without2).at(task), w) << task.to_string();
    }
  }
}

TEST(Allocation, ConsistentHashTaskCountChangeKeepsExistingTasks) {
  auto s = make("consistent-hash");
  auto ws = workers(3);
  auto before = owners(s->allocate(ws, {{"a", 3}, {"b", 4}}));
  auto grown = s->allocate(ws, {{"a", 5}, {"b", 4}});
  auto after = owners(grown);
  for (const auto& [task, w] : before) EXPECT_EQ(after.at(task), w) << task.to_string();
  EXPECT_TRUE(after.contains({"a", 3}));
  EXPECT_TRUE(after.contains({"a", 4}));
  auto shrunk = owners(s->allocate(ws, {{"a", 3}, {"b", 4}}));
  EXPECT_EQ(shrunk, before);
  // Hash too (stateless per task).
  auto h = make("hash");
  auto hb = owners(h->allocate(ws, {{"a", 3}}));
  auto ha = owners(h->allocate(ws, {{"a", 5}}));
  for (const auto& [task, w] : hb) EXPECT_EQ(ha.at(task), w);
}

TEST(Allocation, ConnectorInstancesFollowTheRingToo) {
  auto s = make("consistent-hash");
  auto cs = connectors(40, 0);
  auto before = connector_owners(s->allocate(workers(3), cs));
  auto after = connector_owners(s->allocate(workers(4), cs));
  for (const auto& [c, w] : after) {
    if (before.at(c) != w) {
      EXPECT_EQ(w, "worker-4") << c;
    }
  }
}

TEST(Allocation, MovementPerStrategy) {
  auto cs = connectors(10, 10);
  for (const char* name : kNames) {
    auto s = make(name);
    auto three = s->allocate(workers(3), cs);
    auto four = s->allocate(workers(4), cs);
    std::printf("%-15s 100 tasks: join 3->4 moves %zu, leave 4->3 moves %zu\n", name,
                count_moved_tasks(three, four), count_moved_tasks(four, three));
  }
}

TEST(AllocationDiff, StopsAndStartsPerWorker) {
  AssignmentMap before;
  before["w1"] = {{"a"}, {{"a", 0}, {"a", 1}}};
  before["w2"] = {{"b"}, {{"b", 0}}};
  AssignmentMap after;
  after["w1"] = {{"a"}, {{"a", 0}}};
  after["w2"] = {{}, {{"b", 0}, {"a", 1}}};
  after["w3"] = {{"b"}, {}};

  auto d = diff(before, after);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d["w1"].tasks_to_stop, (std::vector<TaskId>{{"a", 1}}));
  EXPECT_TRUE(d["w1"].tasks_to_start.empty());
  EXPECT_TRUE(d["w1"].connectors_to_stop.empty());
  EXPECT_EQ(d["w2"].connectors_to_stop, std::vector<std::string>{"b"});
  EXPECT_EQ(d["w2"].tasks_to_start, (std::vector<TaskId>{{"a", 1}}));
  EXPECT_TRUE(d["w2"].tasks_to_stop.empty());
  EXPECT_EQ(d["w3"].connectors_to_start, std::vector<std::string>{"b"});

  // A worker that left: everything stops.
  AssignmentMap gone;
  gone["w1"] = before["w1"];
  auto d2 = diff(before, gone);
  ASSERT_EQ(d2.size(), 1u);
  EXPECT_EQ(d2["w2"].connectors_to_stop, std::vector<std::string>{"b"});
  EXPECT_EQ(d2["w2"].tasks_to_stop, (std::vector<TaskId>{{"b", 0}}));

  EXPECT_TRUE(diff(before, before).empty());
  EXPECT_EQ(count_moved_tasks(before, after), 1u);  // a-1: w1 -> w2
}

TEST(AllocationDiff, ConsistentHashJoinDiffOnlyTouchesTheNewWorkerAndLosers) {
  auto s = make("consistent-hash");
  auto cs = connectors(5, 8);
  auto d = diff(s->allocate(workers(3), cs), s->allocate(workers(4), cs));
  for (const auto& [w, change] : d) {
    if (w == "worker-4") {
      EXPECT_TRUE(change.tasks_to_stop.empty());
    } else {
      EXPECT_TRUE(change.tasks_to_start.empty()) << w;
      EXPECT_TRUE(change.connectors_to_start.empty()) << w;
    }
  }
}

}  // namespace
}  // namespace rmqc::runtime::cluster
