#include "runtime/distributed_worker.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "runtime/offset_admin.h"
#include "runtime/storage/topic_stores.h"
#include "runtime/task_metrics.h"
#include "runtime/worker.h"

#include <algorithm>

namespace rmqc::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How often the rebalance thread looks at task states (statuses to publish, start timeouts)
// when nothing wakes it, and how often while a task waits for its previous owner.
constexpr auto kTick = 500ms;
constexpr auto kPendingTick = 100ms;
// Extra time a new owner gives a live previous owner beyond maxStopTimeoutMills.
constexpr auto kHandoverGrace = 5000ms;
// How long a new owner waits for a worker that left the group (dead, or cut off and stopping its
// tasks) to report a task stopped before starting it anyway.
constexpr auto kDepartedGrace = 1500ms;

std::string digest_of(const TaskState& t) {
  return std::string(run_state_name(t.state)) + "|" + t.worker_id + "|" + t.trace.value_or("");
}

// Generations order the status writes of different owners of one task: a later owner started it
// later, so a wall-clock based generation of the start makes an earlier owner's late writes lose.
// Strictly increasing within this process.
std::int64_t new_generation() {
  static std::mutex m;
  static std::int64_t last = 0;
  std::lock_guard lock(m);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  last = std::max<std::int64_t>(last + 1, now);
  return last;
}

}  // namespace

namespace {

// The rebalance thread goes round every half second; one that has not for this long is stuck.
constexpr auto kStuckAfter = std::chrono::seconds(60);

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DistributedWorker::DistributedWorker(Options options) : options_(std::move(options)) {
  const auto& c = options_.config;
  TaskRestartPolicy::Settings s;
  s.enabled = c.task_auto_restart_enable;
  s.initial_backoff = c.task_auto_restart_initial_backoff;
  s.max_backoff = c.task_auto_restart_max_backoff;
  s.max_attempts = c.task_auto_restart_max_attempts;
  auto_restarts_ = TaskRestartPolicy(s);
  tick_ms_ = steady_ms();
}

DistributedWorker::~DistributedWorker() {
  stop();
}

Result<void> DistributedWorker::open_stores() {
  const auto& c = options_.config;
  if (options_.config_store || options_.position_store || options_.status_store) {
    if (!options_.config_store || !options_.position_store || !options_.status_store) {
      return Error(ErrorCode::kInvalidArgument, "the worker needs all three stores or none");
    }
    configs_ = options_.config_store;
    positions_ = options_.position_store;
    statuses_ = options_.status_store;
    return {};
  }
  TopicStoreOptions base;
  base.client = worker_client_config(c, options_.namesrv_addr);
  base.worker_id = c.worker_id;
  const std::string cache = c.store_path_root_dir + "/cluster/";
  // Each topic's local cache is written every its *PersistInterval.
  auto options_for = [&](const std::string& topic, const char* dir,
                         std::chrono::milliseconds every) {
    auto o = base;
    o.topic = topic;
    o.cache_dir = cache + dir;
    o.cache_interval = every;
    return o;
  };
  RMQC_ASSIGN_OR_RETURN(configs_, TopicConfigStore::open(options_for(c.config_store_topic, "config",
                                                                     c.config_persist_interval)));
  RMQC_ASSIGN_OR_RETURN(positions_,
                        TopicPositionStore::open(options_for(c.position_store_topic, "position",
                                                             c.position_persist_interval)));
  RMQC_ASSIGN_OR_RETURN(
      statuses_, TopicStatusStore::open(
                     options_for(c.connect_status_topic, "status", c.state_persist_interval)));
  return {};
}

Result<std::unique_ptr<DistributedWorker>> DistributedWorker::start(Options options) {
  if (!options.registry) return Error(ErrorCode::kInvalidArgument, "the worker needs a registry");
  if (options.namesrv_addr.empty()) {
    return Error(ErrorCode::kInvalidConfig,
                 "distributed mode needs namesrvAddr: the hub of a cluster is a RocketMQ cluster "
                 "(Apache RocketMQ or `rmq-connect broker`)");
  }
  std::unique_ptr<DistributedWorker> w(new DistributedWorker(std::move(options)));
  const auto& c = w->options_.config;
  cluster::AllocationOptions ao;
  ao.virtual_nodes = c.virtual_node;
  RMQC_ASSIGN_OR_RETURN(w->strategy_, cluster::make_allocation_strategy(c.alloc_task_strategy, ao));
  RMQC_RETURN_IF_ERROR(w->open_stores());

  LocalWorker::Options lo;
  lo.config = c;
  lo.registry = w->options_.registry;
  lo.namesrv_addr = w->options_.namesrv_addr;
  lo.positions = w->positions_.get();
  RMQC_ASSIGN_OR_RETURN(lo.producer, start_worker_producer(c, w->options_.namesrv_addr));
  w->local_ = std::make_unique<LocalWorker>(std::move(lo));

  w->config_listener_ =
      w->configs_->add_listener([raw = w.get()](const std::string&) { raw->wake(); });
  if (w->options_.membership) {
    w->membership_ = w->options_.membership;
  } else {
    cluster::RocketMqMembership::Options mo;
    mo.client = worker_client_config(c, w->options_.namesrv_addr);
    mo.worker_id = c.worker_id;
    mo.cluster_id = c.connect_cluster_id;
    mo.cluster_topic = c.cluster_store_topic;
    mo.poll_interval = c.membership_poll_interval;
    RMQC_ASSIGN_OR_RETURN(auto m, cluster::RocketMqMembership::start(mo));
    w->membership_ = std::shared_ptr<cluster::Membership>(std::move(m));
  }
  w->member_listener_ = w->membership_->add_listener(
      [raw = w.get()](const std::vector<cluster::Member>&) { raw->wake(); });
  w->thread_ = std::thread([raw = w.get()] {
    set_thread_name("rebalance");
    raw->run();
  });
  logger("worker")->info("worker {} joined cluster {} ({} strategy)", c.worker_id,
                         c.connect_cluster_id, w->strategy_->name());
  return w;
}

void DistributedWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void DistributedWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (configs_ && config_listener_) configs_->remove_listener(std::exchange(config_listener_, 0));
  if (membership_ && member_listener_) {
    membership_->remove_listener(std::exchange(member_listener_, 0));
  }
  if (!local_) return;
  // Tasks first (they commit their positions as they stop), then connector instances; each
  // reported UNASSIGNED, so a new owner need not wait for this worker to leave the group.
  std::vector<TaskId> ids;
  std::map<cluster::TaskId, RunningTask> tasks;
  std::map<std::string, RunningConnector> connectors;
  {
    std::lock_guard lock(mutex_);
    tasks = std::move(running_tasks_);
    connectors = std::move(running_connectors_);
    running_tasks_.clear();
    running_connectors_.clear();
    assignment_ = {};
  }
  for (const auto& [id, t] : tasks) ids.push_back(TaskId{id.connector, id.task});
  (void)local_->stop_tasks(ids);
  for (const auto& [id, t] : tasks) {
    (void)statuses_->put_task_status(
        id.connector, TaskState{id.task, RunState::kUnassigned, "", {}}, t.generation);
  }
  for (const auto& [name, c] : connectors) {
    local_->stop_connector(name);
    ConnectorState s;
    s.name = name;
    s.type = local_->type_of(c.config);
    s.state = RunState::kUnassigned;
    s.worker_id = options_.config.worker_id;
    (void)statuses_->put_connector_status(s, c.generation);
  }
  local_->stop_all();
  if (membership_) membership_->stop();
}

void DistributedWorker::run() {
  auto next_publish = Clock::now();
  bool settling = false;  // a task started here has not reported RUNNING (or failed) yet
  while (true) {
    bool changed;
    {
      std::unique_lock lock(mutex_);
      auto tick = pending_.empty() && !settling ? kTick : kPendingTick;
      cv_.wait_for(lock, tick, [&] { return stopping_ || dirty_; });
      if (stopping_) return;
      changed = std::exchange(dirty_, false) || !pending_.empty();
      changed |= membership_->in_contact(contact_window()) != in_contact_;
    }
    tick_ms_ = steady_ms();
    if (changed) {
      rebalance();
      rebalances_.fetch_add(1, std::memory_order_relaxed);
    }
    local_->check_start_timeouts();
    restart_failed_tasks();
    bool force = Clock::now() >= next_publish;
    if (force) next_publish = Clock::now() + options_.config.state_persist_interval;
    settling = !publish_statuses(force);
  }
}

void DistributedWorker::restart_failed_tasks() {
  const auto now = Clock::now();
  std::set<std::string> names;
  bool idle;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, t] : running_tasks_) names.insert(id.connector);
    idle = auto_restarts_.idle();
  }
  std::map<std::string, std::vector<TaskState>> states;
  bool failed = false;
  for (const auto& name : names) {
    auto& tasks = states[name];
    tasks = local_->task_states(name);
    for (const auto& t : tasks) failed |= t.state == RunState::kFailed;
  }
  if (!failed && idle) return;  // the usual round: nothing to look up
  const auto connectors = configs_->connectors();
  bool any = false;
  for (const auto& [name, tasks] : states) {
    auto it = connectors.find(name);
    const bool wanted = it != connectors.end() && it->second.target_state == TargetState::kStarted;
    std::lock_guard lock(mutex_);
    for (const auto& t : tasks) {
      if (!auto_restarts_.observe(name, t, wanted, now)) continue;
      auto_restarts_.restarted(name, t.id);
      restart_tasks_.insert(cluster::TaskId{name, t.id});
      logger("worker")->info("task {}-{}: automatic restart", name, t.id);
      any = true;
    }
  }
  if (any) wake();
}

WorkerHealth DistributedWorker::health() const {
  using S = WorkerHealth::Status;
  bool stopping;
  bool in_contact;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
    in_contact = in_contact_;
  }
  if (stopping) return {S::kStopping, "Worker is shutting down.", std::nullopt};
  if (rebalances_.load(std::memory_order_relaxed) == 0) {
    return {S::kStarting, "Worker is still starting up.", "waiting for the first rebalance"};
  }
  const std::string unhealthy =
      "Worker was unable to handle this request and may be unable to handle other requests.";
  const auto idle = std::chrono::milliseconds(steady_ms() - tick_ms_.load());
  if (idle > kStuckAfter) {
    return {S::kUnhealthy, unhealthy,
            "the rebalance thread has not run for " + std::to_string(idle.count() / 1000) + " s"};
  }
  if (!in_contact) {
    return {S::kUnhealthy, unhealthy,
            "cannot read the cluster's members (cut off from the broker); running nothing"};
  }
  return {S::kHealthy, "Worker has completed startup and is ready to handle requests.",
          std::nullopt};
}

WorkerMetrics DistributedWorker::worker_metrics() const {
  WorkerMetrics m;
  m.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  m.completed_rebalances = rebalances_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    m.task_auto_restarts = auto_restarts_.total_restarts();
  }
  if (local_) m.tasks = local_->task_metrics();
  return m;
}

std::optional<TaskRestartInfo> DistributedWorker::task_restart_info(std::string_view name,
                                                                    int task) const {
  std::lock_guard lock(mutex_);
  return auto_restarts_.info(std::string(name), task);
}

std::chrono::milliseconds DistributedWorker::contact_window() const {
  // Two missed member-list reads, and at least 5 s: shorter than the broker's expiry of a silent
  // client (120 s in Apache RocketMQ), so a cut-off worker stops before the others take over.
  return std::max<std::chrono::milliseconds>(2 * options_.config.membership_poll_interval + 1000ms,
                                             5000ms);
}

cluster::Assignment DistributedWorker::assignment() const {
  std::lock_guard lock(mutex_);
  return assignment_;
}

void DistributedWorker::rebalance() {
  const std::string& me = options_.config.worker_id;
  auto members = membership_->members();
  std::vector<std::string> workers = cluster::worker_ids(members);
  auto connectors = configs_->connectors();
  std::vector<cluster::ConnectorLoad> loads;
  for (const auto& [name, stored] : connectors) {
    if (stored.target_state == TargetState::kStopped) continue;
    loads.push_back({name, static_cast<std::int32_t>(stored.task_configs.size())});
  }
  cluster::Assignment mine;
  // A worker that does not see itself in the group (cut off from the broker, or not joined yet)
  // runs nothing rather than run beside the owners the others chose.
  const bool in_contact = membership_->in_contact(contact_window());
  {
    std::lock_guard lock(mutex_);
    if (in_contact != in_contact_) {
      if (!in_contact) {
        logger("worker")->error(
            "worker {} could not read the cluster's members for {} ms: cut off from the broker, "
            "stopping its tasks",
            me, contact_window().count());
      } else {
        logger("worker")->info("worker {} is in contact with the cluster again", me);
      }
      in_contact_ = in_contact;
    }
  }
  if (!in_contact) {
    // Nothing runs until the member list can be read again.
  } else if (std::binary_search(workers.begin(), workers.end(), me)) {
    auto all = strategy_->allocate(workers, loads);
    if (auto it = all.find(me); it != all.end()) mine = std::move(it->second);
  } else if (!workers.empty()) {
    logger("worker")->warn("worker {} is not among the cluster's members; running nothing", me);
  }
  {
    std::lock_guard lock(mutex_);
    if (workers != workers_) {
      logger("worker")->info("cluster members: {} ({} connectors, {} tasks here)",
                             fmt::join(workers, ","), mine.connectors.size(), mine.tasks.size());
      workers_ = workers;
    }
    assignment_ = mine;
  }
  take_restart_requests(connectors);
  apply_connectors(connectors, mine);
  apply_tasks(connectors, mine);
}

void DistributedWorker::apply_connectors(const std::map<std::string, StoredConnector>& connectors,
                                         const cluster::Assignment& mine) {
  std::set<std::string> wanted(mine.connectors.begin(), mine.connectors.end());
  std::map<std::string, RunningConnector> running;
  std::set<std::string> restart, reconfigure;
  {
    std::lock_guard lock(mutex_);
    running = running_connectors_;
    restart = std::exchange(restart_, {});
    reconfigure = std::exchange(reconfigure_, {});
  }
  // Stop what is no longer ours, changed, or asked to restart.
  for (const auto& [name, r] : running) {
    auto it = connectors.find(name);
    bool keep = wanted.count(name) && it != connectors.end() && it->second.config == r.config &&
                !restart.count(name);
    if (keep) continue;
    local_->stop_connector(name);
    {
      std::lock_guard lock(mutex_);
      running_connectors_.erase(name);
    }
    ConnectorState s;
    s.name = name;
    s.type = local_->type_of(r.config);
    s.state = RunState::kUnassigned;
    s.worker_id = options_.config.worker_id;
    (void)statuses_->put_connector_status(s, r.generation);
  }
  for (const auto& name : mine.connectors) {
    auto it = connectors.find(name);
    if (it == connectors.end()) continue;
    bool is_running;
    {
      std::lock_guard lock(mutex_);
      is_running = running_connectors_.count(name) > 0;
    }
    if (!is_running) {
      LocalWorker::ConnectorCallbacks callbacks;
      callbacks.on_error = [this, name](std::string message) {
        local_->fail_connector(name, std::move(message));
        wake();
      };
      callbacks.on_reconfigure = [this, name] {
        {
          std::lock_guard lock(mutex_);
          reconfigure_.insert(name);
        }
        wake();
      };
      auto generation = new_generation();
      {
        std::lock_guard lock(mutex_);
        running_connectors_[name] = RunningConnector{it->second.config, generation};
      }
      if (auto s = local_->start_connector(name, it->second.config, std::move(callbacks));
          !s.ok()) {
        logger("worker")->error("connector {} failed to start: {}", name, s.error().message());
      }
      reconfigure.insert(name);
    }
    if (reconfigure.count(name)) refresh_task_configs(name, it->second);
  }
}

void DistributedWorker::refresh_task_configs(const std::string& name,
                                             const StoredConnector& stored) {
  auto status = local_->connector_status(name);
  if (!status || status->state == RunState::kFailed) return;
  auto configs =
      local_->task_configs(name, static_cast<int>(stored.config.get_int("max.tasks", 1)));
  if (!configs.ok()) {
    logger("worker")->error("connector {}: task_configs() failed: {}", name,
                            configs.error().message());
    return;
  }
  if (*configs == stored.task_configs) return;
  // Written to the config topic; every member (this one too) sees the change and rebalances.
  if (auto r = configs_->put_task_configs(name, std::move(configs).value()); !r.ok()) {
    logger("worker")->warn("connector {}: writing task configs: {} (retrying)", name,
                           r.error().message());
    std::lock_guard lock(mutex_);
    reconfigure_.insert(name);
    dirty_ = true;
  }
}

std::optional<std::string> DistributedWorker::claimable(const cluster::TaskId& id,
                                                        const std::set<std::string>& live) {
  const std::string& me = options_.config.worker_id;
  // The worker the task's status names: from its claim (before the task starts) until it
  // reports the task let go (no worker), whatever the state.
  std::string seen;
  if (auto status = statuses_->status(id.connector)) {
    for (const auto& t : status->tasks) {
      if (t.id == id.task) seen = t.worker_id;
    }
  }
  std::lock_guard lock(mutex_);
  if (seen.empty() || seen == me) {
    pending_.erase(id);
    return seen;
  }
  // A live holder stops the task (committing its positions) and says so; one that left the
  // group is dead or cut off, and a cut-off one stops its tasks as soon as it sees itself out:
  // it gets a short grace to report that, a dead one costs that grace.
  const bool holder_live = live.count(seen) > 0;
  const auto limit =
      holder_live ? options_.config.max_stop_timeout + kHandoverGrace : kDepartedGrace;
  auto [it, inserted] = pending_.try_emplace(id, Pending{Clock::now()});
  if (Clock::now() - it->second.since >= limit) {
    if (holder_live) {
      logger("worker")->warn("task {}: worker {} did not report it stopped in time; starting it",
                             id.to_string(), seen);
    }
    pending_.erase(it);
    return seen;
  }
  return std::nullopt;
}

void DistributedWorker::apply_tasks(const std::map<std::string, StoredConnector>& connectors,
                                    const cluster::Assignment& mine) {
  const std::string& me = options_.config.worker_id;
  std::set<cluster::TaskId> wanted(mine.tasks.begin(), mine.tasks.end());
  std::map<cluster::TaskId, RunningTask> running;
  std::set<cluster::TaskId> restart_tasks;
  {
    std::lock_guard lock(mutex_);
    running = running_tasks_;
    restart_tasks = std::exchange(restart_tasks_, {});
    std::erase_if(pending_, [&](const auto& p) { return !wanted.count(p.first); });
  }
  auto config_of = [&](const cluster::TaskId& id) -> const StoredConnector* {
    auto it = connectors.find(id.connector);
    if (it == connectors.end() || it->second.target_state == TargetState::kStopped) return nullptr;
    if (id.task < 0 || id.task >= static_cast<int>(it->second.task_configs.size())) return nullptr;
    return &it->second;
  };
  // Stop, in parallel, what is no longer ours or must restart with another config.
  std::vector<TaskId> to_stop;
  std::vector<std::pair<cluster::TaskId, std::int64_t>> stopped;
  for (const auto& [id, r] : running) {
    const StoredConnector* c = config_of(id);
    bool keep = wanted.count(id) && c && c->config == r.connector_config &&
                c->task_configs[id.task] == r.task_config && !restart_tasks.count(id);
    if (keep) continue;
    to_stop.push_back(TaskId{id.connector, id.task});
    stopped.emplace_back(id, r.generation);
  }
  if (!to_stop.empty()) {
    (void)local_->stop_tasks(to_stop);
    std::lock_guard lock(mutex_);
    for (const auto& [id, g] : stopped) running_tasks_.erase(id);
  }
  // Reported stopped (positions committed by the stop) so the next owner may start at once.
  for (const auto& [id, generation] : stopped) {
    // No worker: nobody holds it any more.
    (void)statuses_->put_task_status(id.connector,
                                     TaskState{id.task, RunState::kUnassigned, "", {}}, generation);
    std::lock_guard lock(mutex_);
    published_.erase(id.to_string());
  }
  // Pause or resume what keeps running.
  std::set<std::string> touched;
  for (const auto& [id, r] : running) touched.insert(id.connector);
  for (const auto& name : touched) {
    auto it = connectors.find(name);
    if (it != connectors.end()) {
      local_->set_paused(name, it->second.target_state == TargetState::kPaused);
    }
  }
  // Start what is ours and not running, once its previous owner let go.
  std::set<std::string> live;
  {
    std::lock_guard lock(mutex_);
    live.insert(workers_.begin(), workers_.end());
  }
  for (const auto& id : mine.tasks) {
    {
      std::lock_guard lock(mutex_);
      if (running_tasks_.count(id)) continue;
    }
    const StoredConnector* c = config_of(id);
    if (!c) continue;
    auto holder = claimable(id, live);
    if (!holder) continue;
    RunningTask r{c->config, c->task_configs[id.task], new_generation()};
    bool paused = c->target_state == TargetState::kPaused;
    // The claim, a compare-and-set in the status topic's order: written (and acknowledged)
    // before the task starts, and granted only if the task's holder is still the one seen here.
    // Of two workers whose views of the cluster differ for a moment, one wins; the other waits.
    TaskState claim{id.task, RunState::kUnassigned, me, {}};
    if (auto w = statuses_->claim_task(id.connector, claim, r.generation, *holder); !w.ok()) {
      logger("worker")->info("task {}: not claimed ({}); waiting", id.to_string(),
                             w.error().message());
      std::lock_guard lock(mutex_);
      pending_.try_emplace(id, Pending{Clock::now()});
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      published_[id.to_string()] = digest_of(claim);
    }
    auto started = local_->start_task(TaskId{id.connector, id.task}, r.connector_config,
                                      r.task_config, paused);
    if (!started.ok()) {
      logger("worker")->error("task {}: {}", id.to_string(), started.error().message());
      (void)statuses_->put_task_status(
          id.connector, TaskState{id.task, RunState::kFailed, me, started.error().message()},
          r.generation);
      continue;
    }
    std::lock_guard lock(mutex_);
    running_tasks_[id] = std::move(r);
  }
}

bool DistributedWorker::publish_statuses(bool force) {
  bool settled = true;
  const std::string& me = options_.config.worker_id;
  std::map<cluster::TaskId, RunningTask> tasks;
  std::map<std::string, RunningConnector> connectors;
  {
    std::lock_guard lock(mutex_);
    tasks = running_tasks_;
    connectors = running_connectors_;
  }
  for (const auto& [name, c] : connectors) {
    auto status = local_->connector_status(name);
    if (!status) continue;
    ConnectorState s;
    s.name = name;
    s.type = local_->type_of(c.config);
    s.state = status->state;
    s.trace = status->trace;
    s.worker_id = me;
    std::string key = name;
    std::string digest = std::string(run_state_name(s.state)) + "|" + s.trace.value_or("");
    {
      std::lock_guard lock(mutex_);
      if (!force && published_[key] == digest) continue;
    }
    if (statuses_->put_connector_status(s, c.generation).ok()) {
      std::lock_guard lock(mutex_);
      published_[key] = digest;
    }
  }
  std::map<std::string, std::vector<TaskState>> by_connector;
  for (const auto& [id, r] : tasks) {
    if (!by_connector.count(id.connector)) {
      by_connector[id.connector] = local_->task_states(id.connector);
    }
    for (const auto& t : by_connector[id.connector]) {
      if (t.id != id.task) continue;
      std::string key = id.to_string();
      std::string digest = digest_of(t);
      if (t.state == RunState::kUnassigned) settled = false;  // still starting
      {
        std::lock_guard lock(mutex_);
        if (!force && published_[key] == digest) continue;
      }
      // Marked as published only once written: a failed write is tried again next round.
      auto w = statuses_->put_task_status(id.connector, t, r.generation);
      if (w.ok()) {
        std::lock_guard lock(mutex_);
        published_[key] = digest;
      } else if (w.error().code() == ErrorCode::kAlreadyExists) {
        // A newer owner claimed the task (two views of the cluster disagreed for a moment):
        // this instance lost it and stops; the next rebalance decides again.
        logger("worker")->warn("task {}: claimed by a newer owner; stopping it here", key);
        std::lock_guard lock(mutex_);
        restart_tasks_.insert(id);
        dirty_ = true;
      }
    }
  }
  return settled;
}

WorkerInfo DistributedWorker::worker_info() const {
  WorkerInfo info;
  info.worker_id = options_.config.worker_id;
  info.version = std::string(kVersion);
  info.mode = "distributed";
  info.cluster_id = options_.config.connect_cluster_id;
  info.workers = cluster::worker_ids(membership_->members());
  return info;
}

std::vector<std::string> DistributedWorker::connector_names() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : configs_->connectors()) out.push_back(name);
  return out;
}

Result<StoredConnector> DistributedWorker::existing(std::string_view name) const {
  auto c = configs_->connector(name);
  if (!c) return Error(ErrorCode::kNotFound, "Connector " + std::string(name) + " not found");
  return *c;
}

Result<ConnectorInfo> DistributedWorker::connector_info(std::string_view name) const {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  ConnectorInfo info;
  info.name = std::string(name);
  info.type = local_->type_of(stored.config);
  info.config = std::move(stored.config);
  info.task_configs = std::move(stored.task_configs);
  info.target_state = stored.target_state;
  return info;
}

ConnectorState DistributedWorker::merged_state(const std::string& name,
                                               const StoredConnector& stored) const {
  const std::string& me = options_.config.worker_id;
  std::set<std::string> live;
  for (const auto& w : cluster::worker_ids(membership_->members())) live.insert(w);
  ConnectorState s;
  s.name = name;
  s.type = local_->type_of(stored.config);
  auto shared = statuses_->status(name);
  if (stored.target_state == TargetState::kStopped) {
    s.state = RunState::kStopped;
    if (shared) s.worker_id = shared->worker_id;
    return s;
  }
  if (auto local = local_->connector_status(name)) {
    s.state = local->state;
    s.trace = local->trace;
    s.worker_id = me;
  } else if (shared && live.count(shared->worker_id) && shared->worker_id != me) {
    s.state = shared->state;
    s.trace = shared->trace;
    s.worker_id = shared->worker_id;
  }
  if (s.state == RunState::kRunning && stored.target_state == TargetState::kPaused) {
    s.state = RunState::kPaused;
  }
  std::map<int, TaskState> tasks;
  for (int id = 0; id < static_cast<int>(stored.task_configs.size()); ++id) {
    tasks[id] = TaskState{id, RunState::kUnassigned, "", {}};
  }
  if (shared) {
    for (const auto& t : shared->tasks) {
      auto it = tasks.find(t.id);
      // A status written by a worker that left the cluster is history: the task is unassigned.
      if (it == tasks.end() || t.worker_id == me || !live.count(t.worker_id)) continue;
      it->second = t;
    }
  }
  for (auto& t : local_->task_states(name)) {
    if (auto it = tasks.find(t.id); it != tasks.end()) it->second = std::move(t);
  }
  for (auto& [id, t] : tasks) s.tasks.push_back(std::move(t));
  return s;
}

Result<ConnectorState> DistributedWorker::connector_state(std::string_view name) const {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  return merged_state(std::string(name), stored);
}

Result<TaskState> DistributedWorker::task_state(std::string_view name, int task) const {
  RMQC_ASSIGN_OR_RETURN(ConnectorState s, connector_state(name));
  return find_task(s, task);
}

Result<bool> DistributedWorker::put_connector(std::string_view name, KeyValue config,
                                              PutOptions options) {
  if (name.empty()) return Error(ErrorCode::kInvalidArgument, "a connector needs a name");
  RMQC_RETURN_IF_ERROR(local_->check(config, name));
  auto current = configs_->connector(name);
  if (current && !options.allow_update) {
    return Error(ErrorCode::kAlreadyExists, "Connector " + std::string(name) + " already exists");
  }
  StoredConnector stored;
  stored.config = std::move(config);
  stored.target_state = current ? current->target_state : options.initial_state;
  // The task configs stay until the connector's owner writes new ones (its tasks restart then).
  if (current) {
    stored.task_configs = current->task_configs;
    stored.epoch = current->epoch;
  }
  RMQC_RETURN_IF_ERROR(configs_->put_connector(name, stored));
  logger("worker")->info("connector {} {}", name, current ? "updated" : "created");
  return !current.has_value();
}

Result<KeyValue> DistributedWorker::patch_connector(std::string_view name, const KeyValue& patch) {
  return patch_connector_config(name, patch, {});
}

Result<KeyValue> DistributedWorker::patch_connector_config(std::string_view name,
                                                           const KeyValue& patch,
                                                           const std::vector<std::string>& remove) {
  // Read-merge-write with the epoch read: a concurrent change makes the write fail instead of
  // losing one of the two; it is tried again on the newer view.
  for (int attempt = 0;; ++attempt) {
    RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
    KeyValue merged = stored.config;
    for (const auto& key : remove) merged.erase(key);
    for (const auto& [key, value] : patch) merged.put(key, value);
    RMQC_RETURN_IF_ERROR(local_->check(merged, name));
    stored.config = merged;
    auto r = configs_->put_connector(name, stored);
    if (r.ok()) return merged;
    if (attempt >= 5 || r.error().code() != ErrorCode::kAlreadyExists) return std::move(r).error();
  }
}

Result<void> DistributedWorker::delete_connector(std::string_view name) {
  RMQC_RETURN_IF_ERROR(existing(name));
  RMQC_RETURN_IF_ERROR(configs_->remove_connector(name));
  (void)positions_;  // positions stay: a connector created again under the name resumes
  logger("worker")->info("connector {} deleted", name);
  return {};
}

Result<void> DistributedWorker::set_target_state(std::string_view name, TargetState state) {
  RMQC_RETURN_IF_ERROR(existing(name));
  return configs_->put_target_state(name, state);
}

Result<void> DistributedWorker::restart_connector(std::string_view name, bool include_tasks,
                                                  bool only_failed) {
  RMQC_RETURN_IF_ERROR(existing(name));
  // Through the config topic: every worker restarts what it runs of the connector.
  RestartRequest r;
  r.include_tasks = include_tasks;
  r.only_failed = only_failed;
  return configs_->request_restart(name, r);
}

Result<void> DistributedWorker::restart_task(std::string_view name, int task) {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  if (task < 0 || task >= static_cast<int>(stored.task_configs.size())) {
    return Error(ErrorCode::kNotFound, "Task " + std::to_string(task) + " of connector " +
                                           std::string(name) + " not found");
  }
  RestartRequest r;
  r.task = task;
  return configs_->request_restart(name, r);
}

void DistributedWorker::take_restart_requests(
    const std::map<std::string, StoredConnector>& connectors) {
  const std::string& me = options_.config.worker_id;
  for (const auto& [name, stored] : connectors) {
    auto request = configs_->restart_request(name);
    if (!request) continue;
    {
      std::lock_guard lock(mutex_);
      auto& handled = restarts_handled_[name];
      if (request->seq <= handled) continue;
      handled = request->seq;
      auto_restarts_.forget(name);  // a user's restart: the automatic count starts again
    }
    auto connector = local_->connector_status(name);
    const bool connector_failed = connector && connector->state == RunState::kFailed;
    std::vector<TaskState> tasks = local_->task_states(name);
    std::lock_guard lock(mutex_);
    if (request->task >= 0) {
      for (const auto& t : tasks) {
        if (t.id == request->task) restart_tasks_.insert(cluster::TaskId{name, t.id});
      }
      continue;
    }
    if (connector && (!request->only_failed || connector_failed)) restart_.insert(name);
    if (request->include_tasks) {
      for (const auto& t : tasks) {
        if (request->only_failed && t.state != RunState::kFailed) continue;
        restart_tasks_.insert(cluster::TaskId{name, t.id});
      }
    }
    logger("worker")->info("worker {}: restart of {} requested ({} here)", me, name,
                           restart_.count(name) ? "connector" : "tasks only");
  }
}

Result<void> DistributedWorker::set_max_tasks(std::string_view name, int max_tasks) {
  if (max_tasks < 1) return Error(ErrorCode::kInvalidArgument, "the task count must be at least 1");
  RMQC_RETURN_IF_ERROR(patch_connector(name, KeyValue{{"max.tasks", std::to_string(max_tasks)}}));
  return {};
}

Result<std::vector<SourceOffset>> DistributedWorker::connector_offsets(
    std::string_view name) const {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  // A stopped sink has no task to ask: its group's offsets are read from the broker.
  if (stored.target_state == TargetState::kStopped &&
      local_->type_of(stored.config) == ConnectorType::kSink) {
    return sink_group_offsets(options_.config, options_.namesrv_addr, name, stored.config);
  }
  OffsetMap offsets;
  if (local_->type_of(stored.config) == ConnectorType::kSource)
    offsets = positions_->positions(name);
  for (auto& [p, o] : local_->committed_offsets(std::string(name))) offsets[p] = o;
  std::vector<SourceOffset> out;
  for (auto& [p, o] : offsets) out.push_back(SourceOffset{p, o});
  return out;
}

// Offsets of a STOPPED connector: no task of it runs on any worker that follows the config
// topic, so the positions (position topic) or group offsets (broker) are written directly.
Result<void> DistributedWorker::alter_offsets(std::string_view name,
                                              const std::vector<OffsetChange>& changes) {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  if (stored.target_state != TargetState::kStopped) return not_stopped_error(name);
  const ConnectorType type = local_->type_of(stored.config);
  RMQC_RETURN_IF_ERROR(check_offset_changes(type, changes));
  if (type == ConnectorType::kSink) {
    return alter_sink_offsets(options_.config, options_.namesrv_addr, name, stored.config,
                              changes);
  }
  return alter_source_positions(*positions_, name, changes);
}

Result<void> DistributedWorker::reset_offsets(std::string_view name) {
  RMQC_ASSIGN_OR_RETURN(StoredConnector stored, existing(name));
  if (stored.target_state != TargetState::kStopped) return not_stopped_error(name);
  if (local_->type_of(stored.config) == ConnectorType::kSink) {
    return reset_sink_offsets(options_.config, options_.namesrv_addr, name, stored.config);
  }
  return positions_->remove_positions(name);
}

Result<ValidationResult> DistributedWorker::validate_connector_config(
    std::string_view plugin, const KeyValue& config) const {
  return local_->validate_for_plugin(plugin, config);
}

std::vector<plugins::PluginEntry> DistributedWorker::plugins() const {
  return options_.registry->list();
}

Result<std::size_t> DistributedWorker::reload_plugins() {
  if (!options_.reload_plugins) return std::size_t{0};
  return options_.reload_plugins();
}

}  // namespace rmqc::runtime
