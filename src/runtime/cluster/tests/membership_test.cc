// RocketMqMembership against the embedded broker: members see each other, a leave is noticed
// through NOTIFY_CONSUMER_IDS_CHANGED, a duplicate worker id is refused.
#include "runtime/cluster/membership.h"

#include "rocketmq/client/admin.h"
#include "rocketmq/client/tests/test_env.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace rmqc::runtime::cluster {
namespace {

using namespace std::chrono_literals;
namespace rt = rocketmq::testing;

class RocketMqMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = rt::start_broker(rt::broker_options(dir_.str()));
    ASSERT_TRUE(broker_);
  }

  RocketMqMembership::Options options(const std::string& worker_id) {
    RocketMqMembership::Options o;
    o.client = rt::client_config(broker_->namesrv_addr());
    o.worker_id = worker_id;
    o.cluster_id = "test-cluster";
    o.cluster_topic = "test-cluster-topic";
    o.poll_interval = 60s;  // notifications only, so the test shows they work
    return o;
  }

  rt::TempDir dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
};

// The latest member list a listener saw, and a way to wait for a condition on it.
struct Seen {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<Member> members;

  RocketMqMembership::Listener listener() {
    return [this](const std::vector<Member>& m) {
      {
        std::lock_guard lock(mutex);
        members = m;
      }
      cv.notify_all();
    };
  }
  bool wait_for(const std::vector<std::string>& workers, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return worker_ids(members) == workers; });
  }
};

TEST_F(RocketMqMembershipTest, MembersSeeEachOtherAndALeave) {
  Seen seen_a;
  auto a = RocketMqMembership::start(options("worker-a"), seen_a.listener());
  ASSERT_TRUE(a.ok()) << a.error().to_string();  // creates the cluster topic
  EXPECT_EQ(worker_ids((*a)->members()), std::vector<std::string>{"worker-a"});
  EXPECT_EQ((*a)->members()[0].client_id, (*a)->client_id());
  EXPECT_EQ(worker_id_of((*a)->client_id()), "worker-a");

  Seen seen_b;
  auto join_start = std::chrono::steady_clock::now();
  auto b = RocketMqMembership::start(options("worker-b"), seen_b.listener());
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  std::vector<std::string> both{"worker-a", "worker-b"};
  ASSERT_TRUE(seen_a.wait_for(both, 10s));
  auto join_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - join_start)
                     .count();
  ASSERT_TRUE(seen_b.wait_for(both, 10s));
  EXPECT_EQ(worker_ids((*b)->members()), both);

  auto leave_start = std::chrono::steady_clock::now();
  (*b)->stop();
  ASSERT_TRUE(seen_a.wait_for({"worker-a"}, 10s));
  auto leave_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - leave_start)
                      .count();
  std::printf(
      "join noticed by the other member after %lld ms (start included), leave after %lld "
      "ms (stop included; poll interval 60 s, so by notification)\n",
      static_cast<long long>(join_ms), static_cast<long long>(leave_ms));
  EXPECT_LT(leave_ms, 5000);
  EXPECT_EQ(worker_ids((*a)->members()), std::vector<std::string>{"worker-a"});
}

TEST_F(RocketMqMembershipTest, DuplicateWorkerIdIsRefused) {
  auto a = RocketMqMembership::start(options("worker-a"));
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  auto dup = RocketMqMembership::start(options("worker-a"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message().find("worker-a"), std::string::npos) << dup.error().message();
  EXPECT_EQ(worker_ids((*a)->members()), std::vector<std::string>{"worker-a"});

  // Once the first one left, the id is free again.
  (*a)->stop();
  auto again = RocketMqMembership::start(options("worker-a"));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
}

TEST_F(RocketMqMembershipTest, AnotherClusterDoesNotCount) {
  auto a = RocketMqMembership::start(options("worker-a"));
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  auto o = options("worker-a");
  o.cluster_id = "other-cluster";
  auto b = RocketMqMembership::start(o);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(worker_ids((*b)->members()), std::vector<std::string>{"worker-a"});
  EXPECT_EQ((*a)->members().size(), 1u);
}

TEST_F(RocketMqMembershipTest, RejectsMissingSettings) {
  auto o = options("");
  auto m = RocketMqMembership::start(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
  o = options("w");
  o.cluster_topic = "absent-topic";
  o.create_topic = false;
  m = RocketMqMembership::start(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kNotFound) << m.error().to_string();
}

}  // namespace
}  // namespace rmqc::runtime::cluster
