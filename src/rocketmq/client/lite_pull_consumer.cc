#include "rocketmq/client/lite_pull_consumer.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/client/client_instance.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

namespace rmqc::rocketmq {
namespace {

namespace rc = request_code;
namespace rsp = response_code;
using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view consume_from_name(ConsumeFromWhere where) {
  switch (where) {
    case ConsumeFromWhere::kFirstOffset:
      return "CONSUME_FROM_FIRST_OFFSET";
    case ConsumeFromWhere::kTimestamp:
      return "CONSUME_FROM_TIMESTAMP";
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  return "CONSUME_FROM_LAST_OFFSET";
}

struct QueueState {
  MessageQueue mq;
  std::shared_ptr<const MessageQueue> shared_mq;
  SubscriptionData subscription;
  std::int64_t pull_offset = -1;     // next offset to pull
  std::int64_t consume_offset = -1;  // next offset poll() hands out (the committable position)
  std::int64_t committed = -1;       // last value committed by us
  std::int64_t max_offset = -1;      // the queue's end in the last pull reply; -1 none yet
  bool ready = false;                // start offset known
  // lock_queues: pulled and polled only while active, i.e. locked (lock_held) or taken after
  // lock_wait without the lock (forced). Always active without lock_queues.
  bool active = true;
  bool lock_held = false;
  bool forced = false;
  Clock::time_point waiting_since{};  // allocated, or lost its lock
  bool paused = false;
  bool dropped = false;
  bool in_flight = false;
  std::uint64_t epoch = 0;  // bumped by seek: replies to older pulls are ignored
  std::deque<MessageExt> cache;
  Clock::time_point next_pull_at{};
};

std::string describe(const MessageQueue& mq) {
  return mq.topic + ":" + mq.broker_name + ":" + std::to_string(mq.queue_id);
}

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

std::vector<MessageQueue> allocate_averagely(const std::vector<MessageQueue>& queues,
                                             const std::vector<std::string>& client_ids,
                                             const std::string& client_id) {
  std::vector<MessageQueue> out;
  auto it = std::find(client_ids.begin(), client_ids.end(), client_id);
  if (it == client_ids.end() || queues.empty()) return out;
  const std::size_t index = static_cast<std::size_t>(it - client_ids.begin());
  const std::size_t q = queues.size();
  const std::size_t n = client_ids.size();
  const std::size_t mod = q % n;
  const std::size_t size = q <= n ? 1 : (index < mod ? q / n + 1 : q / n);
  const std::size_t start = index < mod ? index * size : index * size + mod;
  const std::size_t range = start >= q ? 0 : std::min(size, q - start);
  for (std::size_t k = 0; k < range; ++k) out.push_back(queues[(start + k) % q]);
  return out;
}

struct LitePullConsumer::Impl : std::enable_shared_from_this<LitePullConsumer::Impl> {
  enum class Mode { kNone, kSubscribe, kAssign };

  ConsumerConfig config;
  std::shared_ptr<ClientInstance> instance;
  int heartbeat_id = 0;
  int listener_id = 0;

  mutable std::mutex mutex;
  std::condition_variable messages_cv;
  std::condition_variable work_cv;
  bool stopping = false;
  bool rebalance_requested = false;
  bool wakeup_requested = false;  // wakeup(): the current or next poll() returns at once
  Mode mode = Mode::kNone;
  std::map<std::string, SubscriptionData> subscriptions;  // by topic
  std::map<MessageQueue, std::shared_ptr<QueueState>> queues;
  AssignmentListener listener;
  std::size_t poll_cursor = 0;
  std::atomic<bool> shut_down{false};
  Clock::time_point next_lock_retry{};  // lock_queues: the next try for queues not locked
  Clock::time_point next_lock_renew{};  // lock_queues: the next renewal of the locks held

  std::mutex rebalance_mutex;  // one rebalance/assign at a time
  std::thread thread;

  void run();
  // When the dispatch thread has work next (a rebalance, an auto-commit, a queue whose pull or
  // start offset waits for a backoff); max when only an event can bring work. Under `mutex`.
  Clock::time_point next_work_locked(Clock::time_point next_rebalance,
                                     Clock::time_point next_commit) const;
  void rebalance();
  // Under `mutex`: whether assigned queues are consumed only once locked (subscribe mode).
  bool locking_locked() const { return config.lock_queues && mode == Mode::kSubscribe; }
  // LOCK_BATCH_MQ for the queues not locked yet (renew = false) or for those held (renew =
  // true); returns the queues that became consumable. Under `rebalance_mutex`.
  std::vector<MessageQueue> lock_round(bool renew);
  // UNLOCK_BATCH_MQ, per broker.
  void unlock(const std::vector<MessageQueue>& mqs);
  void apply_assignment(std::map<MessageQueue, SubscriptionData> target, bool notify);
  void resolve_offsets();
  Result<std::int64_t> start_offset(const MessageQueue& mq);
  void maybe_pull(const std::shared_ptr<QueueState>& state);
  void on_pull(const std::shared_ptr<QueueState>& state, std::uint64_t epoch,
               Result<RemotingCommand> reply);
  Result<void> commit_offsets(const std::map<MessageQueue, std::int64_t>& offsets);
  std::map<MessageQueue, std::int64_t> positions(const std::set<MessageQueue>* only);
  Result<std::string> master_of(const MessageQueue& mq);
  Result<std::int64_t> queue_offset_request(std::int32_t code, const MessageQueue& mq,
                                            std::optional<std::int64_t> timestamp = {});
  void fill_heartbeat(HeartbeatData& data);
};

Result<std::string> LitePullConsumer::Impl::master_of(const MessageQueue& mq) {
  if (auto addr = instance->master_addr(mq.broker_name)) return *addr;
  RMQC_ASSIGN_OR_RETURN(auto route, instance->refresh_route(mq.topic));
  auto it = route->master_addrs.find(mq.broker_name);
  if (it == route->master_addrs.end()) {
    return Error::retriable(ErrorCode::kNotFound, "no master for broker " + mq.broker_name);
  }
  return it->second;
}

Result<std::int64_t> LitePullConsumer::Impl::queue_offset_request(
    std::int32_t code, const MessageQueue& mq, std::optional<std::int64_t> timestamp) {
  RMQC_ASSIGN_OR_RETURN(std::string addr, master_of(mq));
  ExtFields fields;
  if (code == rc::QUERY_CONSUMER_OFFSET) {
    fields = QueryConsumerOffsetRequestHeader{config.group, mq.topic, mq.queue_id, mq.broker_name}
                 .to_ext_fields();
  } else if (code == rc::SEARCH_OFFSET_BY_TIMESTAMP) {
    fields = SearchOffsetRequestHeader{mq.topic, mq.queue_id, timestamp.value_or(0), mq.broker_name}
                 .to_ext_fields();
  } else {
    fields =
        QueueRequestHeader{mq.topic, mq.queue_id, std::nullopt, mq.broker_name}.to_ext_fields();
  }
  RMQC_ASSIGN_OR_RETURN(auto reply,
                        instance->invoke_broker(addr, RemotingCommand::request(code, fields)));
  if (code == rc::QUERY_CONSUMER_OFFSET && reply.code == rsp::QUERY_NOT_FOUND) return -1;
  if (reply.code != rsp::SUCCESS) return error_from_response(reply, "offset request");
  RMQC_ASSIGN_OR_RETURN(auto h, OffsetResponseHeader::from_ext_fields(reply.ext_fields));
  return h.offset;
}

Result<std::int64_t> LitePullConsumer::Impl::start_offset(const MessageQueue& mq) {
  RMQC_ASSIGN_OR_RETURN(std::int64_t committed,
                        queue_offset_request(rc::QUERY_CONSUMER_OFFSET, mq));
  if (committed >= 0) return committed;
  switch (config.consume_from) {
    case ConsumeFromWhere::kFirstOffset:
      return queue_offset_request(rc::GET_MIN_OFFSET, mq);
    case ConsumeFromWhere::kTimestamp: {
      std::int64_t ts =
          config.consume_timestamp_ms > 0 ? config.consume_timestamp_ms : now_ms() - 30 * 60 * 1000;
      return queue_offset_request(rc::SEARCH_OFFSET_BY_TIMESTAMP, mq, ts);
    }
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  return queue_offset_request(rc::GET_MAX_OFFSET, mq);
}

void LitePullConsumer::Impl::fill_heartbeat(HeartbeatData& data) {
  std::lock_guard lock(mutex);
  if (mode != Mode::kSubscribe) return;
  ConsumerData c;
  c.group_name = config.group;
  c.consume_type = "CONSUME_ACTIVELY";
  c.message_model = "CLUSTERING";
  c.consume_from_where = std::string(consume_from_name(config.consume_from));
  for (const auto& [topic, sub] : subscriptions) c.subscription_data_set.push_back(sub);
  data.consumer_data_set.push_back(std::move(c));
}

Clock::time_point LitePullConsumer::Impl::next_work_locked(Clock::time_point next_rebalance,
                                                           Clock::time_point next_commit) const {
  auto next = Clock::time_point::max();
  if (mode == Mode::kSubscribe) next = std::min(next, next_rebalance);
  if (config.auto_commit) next = std::min(next, next_commit);
  const bool locking = locking_locked();
  for (const auto& [mq, state] : queues) {
    if (locking && !state->dropped) {
      next = std::min(next, state->active ? next_lock_renew : next_lock_retry);
    }
    // A queue with a pull on the broker (held there by long polling while the queue is empty),
    // a paused one, one waiting for its lock, or one with a full cache (poll() pulls again as it
    // drains it) needs nothing from this thread.
    if (state->dropped || state->in_flight || state->paused || !state->active) continue;
    if (state->ready && state->cache.size() >= config.max_cached_messages_per_queue) continue;
    next = std::min(next, state->next_pull_at);
  }
  return next;
}

void LitePullConsumer::Impl::run() {
  auto next_rebalance = Clock::now() + config.rebalance_interval;
  auto next_commit = Clock::now() + config.auto_commit_interval;
  {
    std::lock_guard lock(mutex);
    next_lock_renew = Clock::now() + config.lock_renew_interval;
  }
  bool first = true;
  while (true) {
    bool do_rebalance = false;
    bool lock_retry = false;
    bool lock_renew = false;
    std::vector<std::shared_ptr<QueueState>> candidates;
    bool need_resolve = false;
    {
      std::unique_lock lock(mutex);
      // Event driven: pull replies, seek(), resume(), assignments and rebalance requests notify
      // work_cv; otherwise this thread sleeps until the next timed duty (an idle consumer whose
      // pulls are held on the broker wakes once per rebalance interval, not every few ms).
      // The state the deadline depends on only changes under `mutex`, so no notification is
      // lost between computing it and waiting. The deadline is computed again after every
      // wakeup: a notification can move it earlier (a pull that failed while the queue was
      // waiting on the broker is due again after pull_error_backoff), and a wait kept on the
      // old deadline, with nothing else due, would never retry that queue.
      while (!first && !stopping && !rebalance_requested) {
        const auto until = next_work_locked(next_rebalance, next_commit);
        if (until <= Clock::now()) break;
        if (until == Clock::time_point::max()) {
          work_cv.wait(lock);
        } else {
          work_cv.wait_until(lock, until);
        }
      }
      first = false;
      if (stopping) return;
      auto now = Clock::now();
      if (rebalance_requested || (mode == Mode::kSubscribe && now >= next_rebalance)) {
        do_rebalance = true;
        rebalance_requested = false;
        next_rebalance = now + config.rebalance_interval;
      }
      const bool locking = locking_locked();
      for (auto& [mq, state] : queues) {
        if (!state->ready && state->active) need_resolve = true;
        if (locking && !state->dropped) {
          if (state->active && now >= next_lock_renew) lock_renew = true;
          if (!state->active && now >= next_lock_retry) lock_retry = true;
        }
        candidates.push_back(state);
      }
      if (lock_renew) next_lock_renew = now + config.lock_renew_interval;
      if (lock_retry) next_lock_retry = now + config.lock_retry_interval;
    }
    if (do_rebalance) {
      std::lock_guard lock(rebalance_mutex);
      rebalance();
    }
    if (lock_retry || lock_renew) {
      // Lock checks happen here and at assignment changes only, never per pull or poll.
      std::lock_guard lock(rebalance_mutex);
      std::vector<MessageQueue> activated;
      if (lock_renew) activated = lock_round(/*renew=*/true);
      if (lock_retry) {
        auto more = lock_round(/*renew=*/false);
        activated.insert(activated.end(), more.begin(), more.end());
      }
      if (!activated.empty()) {
        resolve_offsets();
        AssignmentListener l;
        {
          std::lock_guard state_lock(mutex);
          l = listener;
        }
        if (l.on_assigned) l.on_assigned(activated);
      }
    }
    if (need_resolve) resolve_offsets();
    for (auto& state : candidates) maybe_pull(state);
    if (config.auto_commit && Clock::now() >= next_commit) {
      if (auto r = commit_offsets(positions(nullptr)); !r.ok()) {
        logger("client")->debug("auto-commit of {}: {}", config.group, r.error().to_string());
      }
      next_commit = Clock::now() + config.auto_commit_interval;
    }
  }
}

void LitePullConsumer::Impl::rebalance() {
  std::map<std::string, SubscriptionData> subs;
  std::set<MessageQueue> current;
  {
    std::lock_guard lock(mutex);
    if (mode != Mode::kSubscribe) return;
    subs = subscriptions;
    for (const auto& [mq, state] : queues) current.insert(mq);
  }
  std::map<MessageQueue, SubscriptionData> target;
  for (const auto& [topic, sub] : subs) {
    auto keep_current = [&, &sub = sub, &topic = topic] {
      for (const auto& mq : current) {
        if (mq.topic == topic) target.emplace(mq, sub);
      }
    };
    auto route = instance->refresh_route(topic);
    if (!route.ok() || (*route)->master_addrs.empty()) {
      keep_current();
      continue;
    }
    // Ask the first master (by broker name) so every member asks the same broker.
    auto addr = (*route)->master_addrs.begin()->second;
    auto reply = instance->invoke_broker(
        addr, RemotingCommand::request(rc::GET_CONSUMER_LIST_BY_GROUP,
                                       ConsumerGroupRequestHeader{config.group}.to_ext_fields()));
    if (!reply.ok() || reply->code != rsp::SUCCESS) {
      keep_current();
      continue;
    }
    auto body = ConsumerListBody::from_json(reply->body);
    if (!body.ok()) {
      keep_current();
      continue;
    }
    auto ids = std::move(body->consumer_id_list);
    std::sort(ids.begin(), ids.end());
    for (auto& mq : allocate_averagely((*route)->subscribe_queues, ids, instance->client_id())) {
      target.emplace(std::move(mq), sub);
    }
  }
  apply_assignment(std::move(target), /*notify=*/true);
}

void LitePullConsumer::Impl::apply_assignment(std::map<MessageQueue, SubscriptionData> target,
                                              bool notify) {
  std::vector<MessageQueue> revoked;
  std::vector<MessageQueue> added;
  AssignmentListener l;
  bool locking = false;
  {
    std::lock_guard lock(mutex);
    locking = locking_locked();
    for (const auto& [mq, state] : queues) {
      if (!target.contains(mq)) revoked.push_back(mq);
    }
    for (const auto& [mq, sub] : target) {
      auto it = queues.find(mq);
      if (it == queues.end()) {
        added.push_back(mq);
      } else {
        it->second->subscription = sub;
      }
    }
    l = listener;
  }
  if (!revoked.empty()) {
    {
      // From here on poll() hands out nothing of these queues: what the listener commits for
      // them is final (a later poll would let the application move an offset it no longer owns).
      std::lock_guard lock(mutex);
      for (const auto& mq : revoked) {
        if (auto it = queues.find(mq); it != queues.end()) {
          it->second->dropped = true;
          it->second->cache.clear();
        }
      }
    }
    if (notify && l.on_revoked) l.on_revoked(revoked);
    if (config.auto_commit) {
      std::set<MessageQueue> only(revoked.begin(), revoked.end());
      if (auto r = commit_offsets(positions(&only)); !r.ok()) {
        logger("client")->warn("commit of revoked queues of {}: {}", config.group,
                               r.error().to_string());
      }
    }
    std::vector<MessageQueue> to_unlock;
    {
      std::lock_guard lock(mutex);
      for (const auto& mq : revoked) {
        auto it = queues.find(mq);
        if (it == queues.end()) continue;
        it->second->dropped = true;
        if (it->second->lock_held) to_unlock.push_back(mq);
        queues.erase(it);
      }
    }
    // Only now, after the listener committed: the next owner reads that commit once it locks.
    if (!to_unlock.empty()) unlock(to_unlock);
  }
  std::vector<MessageQueue> activated;
  if (!added.empty()) {
    {
      std::lock_guard lock(mutex);
      const auto now = Clock::now();
      for (const auto& mq : added) {
        auto state = std::make_shared<QueueState>();
        state->mq = mq;
        state->shared_mq = std::make_shared<const MessageQueue>(mq);
        state->subscription = target[mq];
        state->active = !locking;
        state->waiting_since = now;
        queues.emplace(mq, std::move(state));
      }
    }
    if (!locking) activated = added;
  }
  // Also retries the queues that were already waiting.
  if (locking && !added.empty()) activated = lock_round(/*renew=*/false);
  if (!activated.empty()) {
    resolve_offsets();
    if (notify && l.on_assigned) l.on_assigned(activated);
    work_cv.notify_one();
  } else if (!added.empty()) {
    work_cv.notify_one();  // the waiting queues' lock retry is due
  }
  if (!revoked.empty() || !added.empty()) {
    logger("client")->debug("{} in {}: -{} +{} queues", instance->client_id(), config.group,
                            revoked.size(), added.size());
  }
}

std::vector<MessageQueue> LitePullConsumer::Impl::lock_round(bool renew) {
  std::map<std::string, std::vector<MessageQueue>> by_broker;
  {
    std::lock_guard lock(mutex);
    for (const auto& [mq, state] : queues) {
      if (state->dropped) continue;
      // Renewal: the locks held, and another try for the queues taken without one.
      if (renew ? state->lock_held || state->forced : !state->active) {
        by_broker[mq.broker_name].push_back(mq);
      }
    }
  }
  std::set<MessageQueue> granted;
  std::set<std::string> answered;  // brokers whose reply says which of our queues we hold
  for (const auto& [broker, mqs] : by_broker) {
    auto addr = master_of(mqs.front());
    if (!addr.ok()) {
      logger("client")->debug("lock of {} queues on {}: {}", mqs.size(), broker,
                              addr.error().to_string());
      continue;
    }
    LockBatchRequestBody body{config.group, instance->client_id(), mqs, std::nullopt};
    auto request = RemotingCommand::request(rc::LOCK_BATCH_MQ);
    request.body = body.to_json();
    auto reply = instance->invoke_broker(*addr, std::move(request));
    if (!reply.ok() || reply->code != rsp::SUCCESS) {
      logger("client")->debug(
          "lock of {} queues on {}: {}", mqs.size(), broker,
          reply.ok() ? error_from_response(*reply, "lock").to_string() : reply.error().to_string());
      continue;
    }
    auto locked = LockBatchResponseBody::from_json(reply->body);
    if (!locked.ok()) {
      logger("client")->warn("lock reply of {}: {}", broker, locked.error().message());
      continue;
    }
    answered.insert(broker);
    granted.insert(locked->lock_ok_mq_set.begin(), locked->lock_ok_mq_set.end());
  }
  std::vector<MessageQueue> activated;
  std::lock_guard lock(mutex);
  const auto now = Clock::now();
  for (const auto& [broker, mqs] : by_broker) {
    for (const auto& mq : mqs) {
      auto it = queues.find(mq);
      if (it == queues.end() || it->second->dropped) continue;
      auto& state = *it->second;
      if (granted.contains(mq)) {
        if (state.forced) {
          logger("client")->info("{} in {}: queue {} is locked now", instance->client_id(),
                                 config.group, describe(mq));
        }
        state.lock_held = true;
        state.forced = false;
        if (!state.active) {
          // The committed offset is read now (unless a seek() set the position meanwhile):
          // the previous owner committed before it unlocked.
          state.active = true;
          state.next_pull_at = now;
          activated.push_back(mq);
        }
      } else if (state.lock_held && answered.contains(broker)) {
        // Another client holds it now (our lock expired, or the broker dropped it with our
        // connection): stop consuming until it is ours again, then start from the commit.
        logger("client")->warn(
            "{} in {}: lost the lock of queue {}; not consuming it until it is locked again",
            instance->client_id(), config.group, describe(mq));
        state.lock_held = false;
        state.active = false;
        state.ready = false;
        state.in_flight = false;
        ++state.epoch;
        state.cache.clear();
        state.waiting_since = now;
      } else if (!state.active && now - state.waiting_since >= config.lock_wait) {
        logger("client")->warn(
            "{} in {}: consuming queue {} without its lock: not locked after {} ms (lock_wait; "
            "another client holds it, or the broker cannot be reached)",
            instance->client_id(), config.group, describe(mq), ms_since(state.waiting_since));
        state.active = true;
        state.forced = true;
        state.next_pull_at = now;
        activated.push_back(mq);
      }
    }
  }
  return activated;
}

void LitePullConsumer::Impl::unlock(const std::vector<MessageQueue>& mqs) {
  std::map<std::string, std::vector<MessageQueue>> by_broker;
  for (const auto& mq : mqs) by_broker[mq.broker_name].push_back(mq);
  for (const auto& [broker, list] : by_broker) {
    auto addr = master_of(list.front());
    if (!addr.ok()) {
      logger("client")->warn("unlock of {} queues on {}: {}", list.size(), broker,
                             addr.error().to_string());
      continue;
    }
    UnlockBatchRequestBody body{config.group, instance->client_id(), list, std::nullopt};
    auto request = RemotingCommand::request(rc::UNLOCK_BATCH_MQ);
    request.body = body.to_json();
    auto reply = instance->invoke_broker(*addr, std::move(request));
    if (!reply.ok() || reply->code != rsp::SUCCESS) {
      // The broker's lock expiry frees them; the next owner waits at most lock_wait.
      logger("client")->warn("unlock of {} queues on {}: {}", list.size(), broker,
                             reply.ok() ? error_from_response(*reply, "unlock").to_string()
                                        : reply.error().to_string());
    }
  }
}

void LitePullConsumer::Impl::resolve_offsets() {
  std::vector<std::shared_ptr<QueueState>> pending;
  {
    std::lock_guard lock(mutex);
    auto now = Clock::now();
    for (auto& [mq, state] : queues) {
      if (!state->ready && state->active && now >= state->next_pull_at) pending.push_back(state);
    }
  }
  for (auto& state : pending) {
    auto offset = start_offset(state->mq);
    std::lock_guard lock(mutex);
    if (state->dropped || state->ready || !state->active) continue;
    if (!offset.ok()) {
      logger("client")->debug("start offset of {}:{}: {}", state->mq.topic, state->mq.queue_id,
                              offset.error().to_string());
      state->next_pull_at = Clock::now() + config.pull_error_backoff;
      continue;
    }
    state->pull_offset = state->consume_offset = *offset;
    state->ready = true;
    state->next_pull_at = Clock::now();
  }
}

void LitePullConsumer::Impl::maybe_pull(const std::shared_ptr<QueueState>& state) {
  PullMessageRequestHeader h;
  std::uint64_t epoch = 0;
  {
    std::lock_guard lock(mutex);
    if (stopping || state->dropped || !state->active || !state->ready || state->paused ||
        state->in_flight || state->cache.size() >= config.max_cached_messages_per_queue ||
        Clock::now() < state->next_pull_at) {
      return;
    }
    state->in_flight = true;
    epoch = state->epoch;
    h.consumer_group = config.group;
    h.topic = state->mq.topic;
    h.queue_id = state->mq.queue_id;
    h.queue_offset = state->pull_offset;
    h.max_msg_nums = config.pull_batch_size;
    h.sys_flag = pull_sysflag::FLAG_SUBSCRIPTION | pull_sysflag::FLAG_SUSPEND;
    h.commit_offset = 0;
    h.suspend_timeout_millis = config.long_poll_suspend.count();
    h.subscription =
        state->subscription.sub_string.empty() ? std::string("*") : state->subscription.sub_string;
    h.sub_version = state->subscription.sub_version;
    h.expression_type = "TAG";
    h.bname = state->mq.broker_name;
  }
  auto fail = [&](Error e) { on_pull(state, epoch, std::move(e)); };
  auto addr = instance->master_addr(state->mq.broker_name);
  if (!addr) {
    return fail(Error::retriable(ErrorCode::kNotFound, "no master for " + state->mq.broker_name));
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  instance->remoting().invoke_async(*addr,
                                    RemotingCommand::request(rc::PULL_MESSAGE, h.to_ext_fields()),
                                    config.long_poll_suspend + std::chrono::seconds(10),
                                    [weak, state, epoch](Result<RemotingCommand> reply) {
                                      if (auto self = weak.lock())
                                        self->on_pull(state, epoch, std::move(reply));
                                    });
}

void LitePullConsumer::Impl::on_pull(const std::shared_ptr<QueueState>& state, std::uint64_t epoch,
                                     Result<RemotingCommand> reply) {
  bool pull_again = false;
  {
    std::lock_guard lock(mutex);
    if (state->dropped || state->epoch != epoch) return;  // seek or revoke happened meanwhile
    state->in_flight = false;
    auto backoff = [&](std::chrono::milliseconds d) { state->next_pull_at = Clock::now() + d; };
    if (!reply.ok()) {
      if (reply.error().code() != ErrorCode::kCancelled) {
        logger("client")->debug("pull {}:{}: {}", state->mq.topic, state->mq.queue_id,
                                reply.error().to_string());
      }
      backoff(config.pull_error_backoff);
    } else {
      const auto& cmd = *reply;
      auto header = PullMessageResponseHeader::from_ext_fields(cmd.ext_fields);
      bool known = cmd.code == rsp::SUCCESS || cmd.code == rsp::PULL_NOT_FOUND ||
                   cmd.code == rsp::PULL_RETRY_IMMEDIATELY || cmd.code == rsp::PULL_OFFSET_MOVED;
      if (!known || !header.ok()) {
        logger("client")->debug("pull {}:{}: code {} {}", state->mq.topic, state->mq.queue_id,
                                cmd.code, cmd.remark);
        backoff(cmd.code == rsp::FLOW_CONTROL ? std::chrono::milliseconds(20)
                                              : config.pull_error_backoff);
      } else {
        std::size_t added = 0;
        if (cmd.code == rsp::SUCCESS && !cmd.body.empty()) {
          auto buffer = std::make_shared<const std::string>(std::move(reply.value().body));
          auto views = decode_stored_messages(*buffer);
          if (!views.ok()) {
            logger("client")->warn("undecodable pull body from {}: {}", state->mq.broker_name,
                                   views.error().message());
          } else {
            const auto& tags = state->subscription.tags_set;
            for (const auto& v : *views) {
              if (v.queue_offset < state->pull_offset) continue;
              if (!tags.empty()) {
                std::string_view tag;
                if (!find_property(v.properties, property::TAGS, &tag) ||
                    std::find(tags.begin(), tags.end(), tag) == tags.end()) {
                  continue;
                }
              }
              auto m = MessageExt::from_stored(v, buffer, state->shared_mq);
              if (!m.ok()) continue;
              state->cache.push_back(std::move(m).value());
              ++added;
            }
          }
        }
        state->pull_offset = header->next_begin_offset;
        state->max_offset = header->max_offset;
        if (state->cache.empty()) state->consume_offset = state->pull_offset;
        if (added > 0) messages_cv.notify_all();
        pull_again = true;
      }
    }
  }
  if (pull_again) {
    maybe_pull(state);
  } else {
    work_cv.notify_one();
  }
}

std::map<MessageQueue, std::int64_t> LitePullConsumer::Impl::positions(
    const std::set<MessageQueue>* only) {
  std::map<MessageQueue, std::int64_t> out;
  std::lock_guard lock(mutex);
  for (const auto& [mq, state] : queues) {
    if (only && !only->contains(mq)) continue;
    if (!state->ready || !state->active || state->consume_offset < 0 ||
        state->consume_offset == state->committed) {
      continue;
    }
    out.emplace(mq, state->consume_offset);
  }
  return out;
}

Result<void> LitePullConsumer::Impl::commit_offsets(
    const std::map<MessageQueue, std::int64_t>& offsets) {
  Result<void> result;
  std::set<MessageQueue> not_owned;  // lock_queues: assigned, but waiting for the lock
  {
    std::lock_guard lock(mutex);
    if (locking_locked()) {
      for (const auto& [mq, offset] : offsets) {
        auto it = queues.find(mq);
        if (it != queues.end() && !it->second->active) not_owned.insert(mq);
      }
    }
  }
  for (const auto& [mq, offset] : offsets) {
    if (not_owned.contains(mq)) {
      logger("client")->debug("not committing {} of {}: waiting for its lock", offset,
                              describe(mq));
      continue;
    }
    auto addr = master_of(mq);
    if (!addr.ok()) {
      if (result.ok()) result = std::move(addr).error();
      continue;
    }
    UpdateConsumerOffsetRequestHeader h{config.group, mq.topic, mq.queue_id, offset,
                                        mq.broker_name};
    auto reply = instance->invoke_broker(
        *addr, RemotingCommand::request(rc::UPDATE_CONSUMER_OFFSET, h.to_ext_fields()));
    if (!reply.ok()) {
      if (result.ok()) result = std::move(reply).error();
      continue;
    }
    if (reply->code != rsp::SUCCESS) {
      if (result.ok()) result = error_from_response(*reply, "commit offset");
      continue;
    }
    std::lock_guard lock(mutex);
    if (auto it = queues.find(mq); it != queues.end()) it->second->committed = offset;
  }
  return result;
}

LitePullConsumer::LitePullConsumer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<LitePullConsumer>> LitePullConsumer::start(ConsumerConfig config) {
  if (config.group.empty()) return Error(ErrorCode::kInvalidConfig, "consumer group is empty");
  if (config.client.thread_tag.empty()) config.client.thread_tag = config.group;
  RMQC_ASSIGN_OR_RETURN(auto instance, ClientInstance::create(config.client));
  auto impl = std::make_shared<Impl>();
  impl->config = std::move(config);
  impl->instance = std::move(instance);
  std::weak_ptr<Impl> weak = impl;
  impl->heartbeat_id = impl->instance->add_heartbeat_contributor([weak](HeartbeatData& data) {
    if (auto self = weak.lock()) self->fill_heartbeat(data);
  });
  impl->listener_id = impl->instance->add_group_changed_listener([weak](const std::string& g) {
    auto self = weak.lock();
    if (!self || g != self->config.group) return;
    {
      std::lock_guard lock(self->mutex);
      self->rebalance_requested = true;
    }
    self->work_cv.notify_one();
  });
  impl->thread = std::thread([raw = impl.get()] {
    set_thread_name(tagged_thread_name("p:", raw->config.client.thread_tag));
    raw->run();
  });
  return std::unique_ptr<LitePullConsumer>(new LitePullConsumer(std::move(impl)));
}

LitePullConsumer::~LitePullConsumer() {
  shutdown();
}

void LitePullConsumer::shutdown() {
  auto& impl = *impl_;
  if (impl.shut_down.exchange(true)) return;
  {
    std::lock_guard lock(impl.mutex);
    impl.stopping = true;
  }
  impl.work_cv.notify_all();
  impl.messages_cv.notify_all();
  if (impl.thread.joinable()) impl.thread.join();
  if (impl.config.auto_commit) {
    if (auto r = impl.commit_offsets(impl.positions(nullptr)); !r.ok()) {
      logger("client")->warn("final commit of {}: {}", impl.config.group, r.error().to_string());
    }
  }
  std::vector<MessageQueue> held;
  {
    std::lock_guard lock(impl.mutex);
    for (const auto& [mq, state] : impl.queues) {
      if (state->lock_held) held.push_back(mq);
    }
  }
  if (!held.empty()) impl.unlock(held);
  impl.instance->remove_heartbeat_contributor(impl.heartbeat_id);
  impl.instance->remove_group_changed_listener(impl.listener_id);
  impl.instance->unregister_client(std::nullopt, impl.config.group);
  impl.instance->shutdown();
  std::lock_guard lock(impl.mutex);
  for (auto& [mq, state] : impl.queues) state->dropped = true;
}

Result<void> LitePullConsumer::subscribe(const std::string& topic, const std::string& expression) {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopping) return Error(ErrorCode::kCancelled, "consumer is shut down");
    if (impl.mode == Impl::Mode::kAssign) {
      return Error(ErrorCode::kInvalidArgument, "subscribe() after assign() is not allowed");
    }
    impl.mode = Impl::Mode::kSubscribe;
    impl.subscriptions[topic] = SubscriptionData::build(topic, expression, now_ms());
  }
  // Know the topic's brokers before the heartbeat, so the group is registered everywhere.
  if (auto r = impl.instance->route(topic); !r.ok()) {
    logger("client")->warn("subscribe {}: {}", topic, r.error().to_string());
  }
  if (auto r = impl.instance->send_heartbeat(); !r.ok()) {
    logger("client")->debug("heartbeat: {}", r.error().to_string());
  }
  std::lock_guard lock(impl.rebalance_mutex);
  impl.rebalance();
  return {};
}

Result<void> LitePullConsumer::unsubscribe(const std::string& topic) {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    impl.subscriptions.erase(topic);
  }
  impl.instance->send_heartbeat().ok();
  std::lock_guard lock(impl.rebalance_mutex);
  impl.rebalance();
  return {};
}

Result<void> LitePullConsumer::assign(const std::vector<MessageQueue>& queues) {
  auto& impl = *impl_;
  std::map<MessageQueue, SubscriptionData> target;
  for (const auto& mq : queues) {
    RMQC_RETURN_IF_ERROR(impl.instance->route(mq.topic));
    target.emplace(mq, SubscriptionData::build(mq.topic, "*", now_ms()));
  }
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopping) return Error(ErrorCode::kCancelled, "consumer is shut down");
    if (impl.mode == Impl::Mode::kSubscribe) {
      return Error(ErrorCode::kInvalidArgument, "assign() after subscribe() is not allowed");
    }
    impl.mode = Impl::Mode::kAssign;
  }
  std::lock_guard lock(impl.rebalance_mutex);
  impl.apply_assignment(std::move(target), /*notify=*/false);
  return {};
}

Result<std::vector<MessageQueue>> LitePullConsumer::fetch_queues(const std::string& topic) {
  RMQC_ASSIGN_OR_RETURN(auto route, impl_->instance->refresh_route(topic));
  return route->subscribe_queues;
}

std::vector<MessageQueue> LitePullConsumer::assignment() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<MessageQueue> out;
  for (const auto& [mq, state] : impl_->queues) out.push_back(mq);
  return out;
}

void LitePullConsumer::set_assignment_listener(AssignmentListener listener) {
  std::lock_guard lock(impl_->mutex);
  impl_->listener = std::move(listener);
}

Result<std::vector<MessageExt>> LitePullConsumer::poll(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  const auto deadline = Clock::now() + timeout;
  std::vector<MessageExt> out;
  std::vector<std::shared_ptr<QueueState>> drained;
  {
    std::unique_lock lock(impl.mutex);
    while (true) {
      if (impl.stopping) return Error(ErrorCode::kCancelled, "consumer is shut down");
      if (!impl.queues.empty()) {
        std::vector<std::shared_ptr<QueueState>> order;
        order.reserve(impl.queues.size());
        for (auto& [mq, state] : impl.queues) order.push_back(state);
        const std::size_t n = order.size();
        const std::size_t start = impl.poll_cursor++ % n;
        for (std::size_t i = 0; i < n && out.size() < impl.config.max_poll_messages; ++i) {
          auto& state = order[(start + i) % n];
          if (state->dropped || state->paused || !state->active || state->cache.empty()) continue;
          const bool was_full = state->cache.size() >= impl.config.max_cached_messages_per_queue;
          while (!state->cache.empty() && out.size() < impl.config.max_poll_messages) {
            out.push_back(std::move(state->cache.front()));
            state->cache.pop_front();
          }
          state->consume_offset =
              state->cache.empty() ? state->pull_offset : state->cache.front().queue_offset();
          if (was_full) drained.push_back(state);
        }
      }
      if (!out.empty()) break;
      if (impl.wakeup_requested) {
        impl.wakeup_requested = false;
        break;
      }
      if (impl.messages_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
        break;
      }
    }
  }
  for (auto& state : drained) impl.maybe_pull(state);
  return out;
}

Result<void> LitePullConsumer::seek(const MessageQueue& queue, std::int64_t offset) {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    auto it = impl.queues.find(queue);
    if (it == impl.queues.end()) {
      return Error(ErrorCode::kInvalidArgument,
                   "seek: queue " + queue.topic + ":" + queue.broker_name + ":" +
                       std::to_string(queue.queue_id) + " is not assigned");
    }
    auto& state = *it->second;
    state.cache.clear();
    state.pull_offset = state.consume_offset = offset;
    state.ready = true;
    state.in_flight = false;
    ++state.epoch;
    state.next_pull_at = Clock::now();
  }
  impl.work_cv.notify_one();
  return {};
}

Result<void> LitePullConsumer::seek_to_begin(const MessageQueue& queue) {
  RMQC_ASSIGN_OR_RETURN(auto offset, impl_->queue_offset_request(rc::GET_MIN_OFFSET, queue));
  return seek(queue, offset);
}

Result<void> LitePullConsumer::seek_to_end(const MessageQueue& queue) {
  RMQC_ASSIGN_OR_RETURN(auto offset, impl_->queue_offset_request(rc::GET_MAX_OFFSET, queue));
  return seek(queue, offset);
}

Result<void> LitePullConsumer::seek_to_timestamp(const MessageQueue& queue,
                                                 std::int64_t timestamp_ms) {
  RMQC_ASSIGN_OR_RETURN(auto offset, impl_->queue_offset_request(rc::SEARCH_OFFSET_BY_TIMESTAMP,
                                                                 queue, timestamp_ms));
  return seek(queue, offset);
}

void LitePullConsumer::pause(const std::vector<MessageQueue>& queues) {
  std::lock_guard lock(impl_->mutex);
  for (const auto& mq : queues) {
    if (auto it = impl_->queues.find(mq); it != impl_->queues.end()) it->second->paused = true;
  }
}

void LitePullConsumer::resume(const std::vector<MessageQueue>& queues) {
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& mq : queues) {
      if (auto it = impl_->queues.find(mq); it != impl_->queues.end()) {
        it->second->paused = false;
      }
    }
  }
  impl_->work_cv.notify_one();
  impl_->messages_cv.notify_all();
}

Result<std::int64_t> LitePullConsumer::committed(const MessageQueue& queue) {
  return impl_->queue_offset_request(rc::QUERY_CONSUMER_OFFSET, queue);
}

std::int64_t LitePullConsumer::position(const MessageQueue& queue) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->queues.find(queue);
  return it == impl_->queues.end() || !it->second->ready ? -1 : it->second->consume_offset;
}

std::vector<QueuePosition> LitePullConsumer::positions() const {
  std::vector<QueuePosition> out;
  std::lock_guard lock(impl_->mutex);
  out.reserve(impl_->queues.size());
  for (const auto& [mq, state] : impl_->queues) {
    if (!state->ready || !state->active || state->consume_offset < 0 || state->max_offset < 0) {
      continue;
    }
    out.push_back({mq, state->consume_offset, state->max_offset});
  }
  return out;
}

Result<void> LitePullConsumer::commit() {
  return impl_->commit_offsets(impl_->positions(nullptr));
}

Result<void> LitePullConsumer::commit(const std::map<MessageQueue, std::int64_t>& offsets) {
  return impl_->commit_offsets(offsets);
}

void LitePullConsumer::wakeup() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->wakeup_requested = true;
  }
  impl_->messages_cv.notify_all();
}

void LitePullConsumer::request_rebalance() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->rebalance_requested = true;
  }
  impl_->work_cv.notify_one();
}

const std::string& LitePullConsumer::client_id() const {
  return impl_->instance->client_id();
}

const std::string& LitePullConsumer::group() const {
  return impl_->config.group;
}

ClientInstance& LitePullConsumer::instance() {
  return *impl_->instance;
}

}  // namespace rmqc::rocketmq
