#include "runtime/cluster/membership.h"

#include "base/logging.h"
#include "rocketmq/client/admin.h"

#include <algorithm>
#include <thread>

namespace rmqc::runtime::cluster {

std::string worker_id_of(std::string_view client_id) {
  auto at = client_id.find('@');
  return std::string(at == std::string_view::npos ? client_id : client_id.substr(at + 1));
}

std::vector<std::string> worker_ids(const std::vector<Member>& members) {
  std::vector<std::string> ids;
  ids.reserve(members.size());
  for (const auto& m : members) ids.push_back(m.worker_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// --- Membership ---------------------------------------------------------------------------------

int Membership::add_listener(Listener listener) {
  std::lock_guard lock(listeners_mutex_);
  int id = next_listener_id_++;
  listeners_.emplace_back(id, std::make_shared<Listener>(std::move(listener)));
  return id;
}

void Membership::remove_listener(int id) {
  std::lock_guard notifying(notify_mutex_);  // waits for a running notification
  std::lock_guard lock(listeners_mutex_);
  std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

void Membership::notify(const std::vector<Member>& members) {
  std::lock_guard notifying(notify_mutex_);
  std::vector<std::pair<int, std::shared_ptr<Listener>>> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = listeners_;
  }
  for (const auto& [id, listener] : listeners) {
    {
      // Skip a listener an earlier one removed.
      std::lock_guard lock(listeners_mutex_);
      if (std::none_of(listeners_.begin(), listeners_.end(),
                       [id = id](const auto& entry) { return entry.first == id; })) {
        continue;
      }
    }
    if (*listener) (*listener)(members);
  }
}

// --- StaticMembership ---------------------------------------------------------------------------

StaticMembership::StaticMembership(std::string worker_id)
    : StaticMembership(worker_id, {Member{worker_id, worker_id}}) {}

StaticMembership::StaticMembership(std::string worker_id, std::vector<Member> members)
    : worker_id_(std::move(worker_id)), members_(std::move(members)) {
  std::sort(members_.begin(), members_.end());
}

std::vector<Member> StaticMembership::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

void StaticMembership::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

void StaticMembership::set_members(std::vector<Member> members) {
  std::sort(members.begin(), members.end());
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || members == members_) return;
    members_ = members;
  }
  notify(members);
}

// --- RocketMqMembership -------------------------------------------------------------------------

Result<std::unique_ptr<RocketMqMembership>> RocketMqMembership::start(Options options,
                                                                      Listener listener) {
  if (options.worker_id.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cluster membership needs a worker id (workerId)");
  }
  if (options.cluster_id.empty() || options.cluster_topic.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "cluster membership needs a cluster id (connectClusterId) and a cluster topic "
                 "(clusterStoreTopic)");
  }

  {
    // An admin client of its own (default instance name): it is no member of the group.
    rocketmq::ClientConfig admin_config = options.client;
    admin_config.instance_name.clear();
    RMQC_ASSIGN_OR_RETURN(auto admin, rocketmq::Admin::start(std::move(admin_config)));

    auto route = admin->topic_route(options.cluster_topic);
    if (!route.ok()) {
      if (route.error().code() != ErrorCode::kNotFound || !options.create_topic) {
        return Error(route.error()).with_context("cluster topic " + options.cluster_topic);
      }
      RMQC_RETURN_IF_ERROR(admin->create_topic(options.cluster_topic, 1));
      auto deadline = std::chrono::steady_clock::now() + options.topic_wait;
      while (!(route = admin->topic_route(options.cluster_topic)).ok()) {
        if (std::chrono::steady_clock::now() >= deadline) {
          return Error(route.error())
              .with_context("cluster topic " + options.cluster_topic + " after creating it");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }

    RMQC_ASSIGN_OR_RETURN(auto ids, admin->consumer_ids(options.cluster_id));
    for (const auto& id : ids) {
      if (worker_id_of(id) == options.worker_id) {
        return Error(ErrorCode::kAlreadyExists,
                     "worker id '" + options.worker_id + "' is already a member of cluster '" +
                         options.cluster_id + "' (client " + id +
                         "); every worker of a cluster needs its own workerId");
      }
    }
  }

  std::unique_ptr<RocketMqMembership> m(new RocketMqMembership(std::move(options)));
  if (listener) m->add_listener(std::move(listener));
  rocketmq::GroupMembership::Options o;
  o.client = m->options_.client;
  o.client.instance_name = m->options_.worker_id;
  // Threads "io:cluster", "cl:cluster", "gm:cluster" (top -H) unless the caller chose a tag.
  if (o.client.thread_tag.empty()) o.client.thread_tag = "cluster";
  o.group = m->options_.cluster_id;
  o.topic = m->options_.cluster_topic;
  o.join = true;
  o.poll_interval = m->options_.poll_interval;
  auto* raw = m.get();
  RMQC_ASSIGN_OR_RETURN(m->group_,
                        rocketmq::GroupMembership::start(
                            std::move(o), [raw](const std::vector<std::string>& client_ids) {
                              raw->on_change(client_ids);
                            }));
  return m;
}

RocketMqMembership::RocketMqMembership(Options options) : options_(std::move(options)) {}

RocketMqMembership::~RocketMqMembership() {
  stop();
}

const std::string& RocketMqMembership::client_id() const {
  return group_->client_id();
}

std::vector<Member> RocketMqMembership::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

bool RocketMqMembership::in_contact(std::chrono::milliseconds window) const {
  if (!group_) return false;
  return std::chrono::steady_clock::now() - group_->last_refreshed() <= window;
}

void RocketMqMembership::stop() {
  if (group_) group_->stop();  // joins its thread: no on_change after this
}

void RocketMqMembership::on_change(const std::vector<std::string>& client_ids) {
  std::vector<Member> members;
  members.reserve(client_ids.size());
  for (const auto& id : client_ids) members.push_back({worker_id_of(id), id});
  std::sort(members.begin(), members.end());
  {
    std::lock_guard lock(mutex_);
    if (members == members_) return;
    members_ = members;
  }
  // Two workers that started at the same moment with one worker id both pass the check in
  // start(); they would run the same tasks. Say so (members are sorted by worker id).
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (members[i].worker_id == members[i - 1].worker_id) {
      logger("cluster")->error("cluster {}: clients {} and {} have the same worker id '{}'",
                               options_.cluster_id, members[i - 1].client_id, members[i].client_id,
                               members[i].worker_id);
    }
  }
  std::string ids;
  for (const auto& m : members) ids += (ids.empty() ? "" : ", ") + m.worker_id;
  logger("cluster")->info("cluster {}: members {}", options_.cluster_id, ids);
  notify(members);
}

}  // namespace rmqc::runtime::cluster
