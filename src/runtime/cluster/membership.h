#pragma once

// Who is in the cluster (spec §1.7). The alive workers of a distributed cluster are the members
// of the RocketMQ consumer group named after the cluster id; each worker joins with its worker id
// as the client's instance name, so a member's worker id can be read from its client id
// ("ip@instanceName"). Unlike the Java runtime (whose instance names are random), the worker ids
// are what the allocation uses, so they stay stable across restarts.

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::rocketmq {
class GroupMembership;
}

namespace rmqc::runtime::cluster {

struct Member {
  std::string worker_id;
  std::string client_id;  // the RocketMQ client id, "ip@worker_id"

  auto operator<=>(const Member&) const = default;
  bool operator==(const Member&) const = default;
};

// The worker id in a client id "ip@instanceName": everything after the first '@' (an IP address
// has none); the whole id when there is no '@'.
std::string worker_id_of(std::string_view client_id);
// The members' worker ids, sorted, without repeats (the input of an AllocationStrategy).
std::vector<std::string> worker_ids(const std::vector<Member>& members);

class Membership {
 public:
  // Gets the new member list (sorted) after each change.
  using Listener = std::function<void(const std::vector<Member>& members)>;

  virtual ~Membership() = default;

  // This worker's id.
  virtual const std::string& worker_id() const = 0;
  // The members, sorted by worker id (then client id).
  virtual std::vector<Member> members() const = 0;
  // Leaves the cluster; no listener is called after it returns. Idempotent.
  virtual void stop() = 0;
  // Whether the member list could be read within the last `window`: a worker out of contact
  // longer than that is cut off from the broker and must stop its tasks, since the others will
  // take them over once the broker drops it.
  virtual bool in_contact(std::chrono::milliseconds window) const {
    (void)window;
    return true;
  }

  // Listeners are called one at a time, on the membership's own thread (or the thread of
  // set_members for StaticMembership). After remove_listener returns, that listener is not running
  // (unless remove_listener is called from inside it) and is not called again. A listener may add
  // and remove listeners.
  int add_listener(Listener listener);
  void remove_listener(int id);

 protected:
  void notify(const std::vector<Member>& members);

 private:
  std::recursive_mutex notify_mutex_;  // held while listeners run
  std::mutex listeners_mutex_;
  std::vector<std::pair<int, std::shared_ptr<Listener>>> listeners_;
  int next_listener_id_ = 1;
};

// A member list set by hand: standalone mode (this worker alone) and a test double.
class StaticMembership final : public Membership {
 public:
  // Starts with this worker as the only member (client id = worker id).
  explicit StaticMembership(std::string worker_id);
  StaticMembership(std::string worker_id, std::vector<Member> members);

  const std::string& worker_id() const override { return worker_id_; }
  std::vector<Member> members() const override;
  void stop() override;

  // Replaces the list (sorted here) and notifies the listeners when it differs. Ignored after
  // stop().
  void set_members(std::vector<Member> members);

 private:
  std::string worker_id_;
  mutable std::mutex mutex_;
  std::vector<Member> members_;
  bool stopped_ = false;
};

// The members of the consumer group `cluster_id`, as seen through rocketmq::GroupMembership
// (NOTIFY_CONSUMER_IDS_CHANGED from the broker, and a re-read every poll_interval).
class RocketMqMembership final : public Membership {
 public:
  struct Options {
    // Name servers, ACL, timeouts. Its instance_name is replaced by the worker id.
    rocketmq::ClientConfig client;
    std::string worker_id;                                  // workerId; required
    std::string cluster_id = "DefaultConnectCluster";       // connectClusterId: the group
    std::string cluster_topic = "connector-cluster-topic";  // clusterStoreTopic
    // Create cluster_topic (1 queue, RW) when the name server does not know it.
    bool create_topic = true;
    std::chrono::milliseconds poll_interval{10'000};
    // How long to wait for a newly created topic to show in the name server.
    std::chrono::milliseconds topic_wait{10'000};
  };

  // Joins the group. Fails with kAlreadyExists when a member of the group has this worker id
  // already (another worker with the same workerId; or this worker's previous run, until the
  // broker drops its connection), kInvalidArgument for an empty worker id, cluster id or topic.
  // `listener` (optional) gets the first list before start returns.
  static Result<std::unique_ptr<RocketMqMembership>> start(Options options,
                                                           Listener listener = nullptr);
  ~RocketMqMembership() override;

  const std::string& worker_id() const override { return options_.worker_id; }
  // This worker's client id ("ip@worker_id").
  const std::string& client_id() const;
  std::vector<Member> members() const override;
  bool in_contact(std::chrono::milliseconds window) const override;
  // Leaves the group (UNREGISTER_CLIENT): the other members hear of it at once.
  void stop() override;

 private:
  explicit RocketMqMembership(Options options);
  void on_change(const std::vector<std::string>& client_ids);

  Options options_;
  std::unique_ptr<rocketmq::GroupMembership> group_;
  mutable std::mutex mutex_;
  std::vector<Member> members_;
};

}  // namespace rmqc::runtime::cluster
