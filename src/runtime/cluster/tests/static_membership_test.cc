// StaticMembership, the listener list of Membership, and reading worker ids from client ids.
#include "runtime/cluster/membership.h"

#include <gtest/gtest.h>

#include <vector>

namespace rmqc::runtime::cluster {
namespace {

TEST(WorkerIdOf, ReadsTheInstanceName) {
  EXPECT_EQ(worker_id_of("10.0.0.7@worker-1"), "worker-1");
  EXPECT_EQ(worker_id_of("10.0.0.7@a@b"), "a@b");
  EXPECT_EQ(worker_id_of("plain"), "plain");
  EXPECT_EQ(worker_ids({{"b", "1@b"}, {"a", "1@a"}, {"b", "2@b"}}),
            (std::vector<std::string>{"a", "b"}));
}

TEST(StaticMembership, StartsAloneAndNotifiesChanges) {
  StaticMembership m("w1");
  EXPECT_EQ(m.worker_id(), "w1");
  EXPECT_EQ(m.members(), (std::vector<Member>{{"w1", "w1"}}));

  std::vector<std::vector<Member>> seen;
  int id = m.add_listener([&](const std::vector<Member>& members) { seen.push_back(members); });
  m.set_members({{"w2", "ip@w2"}, {"w1", "ip@w1"}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<Member>{{"w1", "ip@w1"}, {"w2", "ip@w2"}}));
  m.set_members({{"w1", "ip@w1"}, {"w2", "ip@w2"}});  // same list: no call
  EXPECT_EQ(seen.size(), 1u);

  m.remove_listener(id);
  m.set_members({{"w1", "ip@w1"}});
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(m.members().size(), 1u);

  m.stop();
  m.set_members({});
  EXPECT_EQ(m.members().size(), 1u);
}

TEST(StaticMembership, ListenersMayRemoveThemselvesAndOthers) {
  StaticMembership m("w1");
  int calls_a = 0, calls_b = 0;
  int id_b = 0;
  int id_a = 0;
  id_a = m.add_listener([&](const std::vector<Member>&) {
    ++calls_a;
    m.remove_listener(id_a);
    m.remove_listener(id_b);
  });
  id_b = m.add_listener([&](const std::vector<Member>&) { ++calls_b; });
  m.set_members({{"w1", "x"}});
  m.set_members({{"w1", "y"}});
  EXPECT_EQ(calls_a, 1);
  EXPECT_EQ(calls_b, 0);
}

}  // namespace
}  // namespace rmqc::runtime::cluster
