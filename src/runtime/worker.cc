#include "runtime/worker.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "runtime/offset_admin.h"
#include "runtime/task_metrics.h"

#include <thread>

namespace rmqc::runtime {

Result<std::shared_ptr<rocketmq::Producer>> start_worker_producer(const config::WorkerConfig& c,
                                                                  const std::string& namesrv) {
  rocketmq::ProducerConfig pc;
  pc.client = worker_client_config(c, namesrv);
  pc.group = c.rmq_producer_group;
  pc.send_timeout = c.operation_timeout;
  auto producer = rocketmq::Producer::start(pc);
  if (!producer.ok()) return std::move(producer).error().with_context("starting the producer");
  return std::shared_ptr<rocketmq::Producer>(std::move(producer).value());
}

namespace {

// The watcher goes round every two seconds; one that has not for this long is stuck (a plugin
// call it waits on, a lock held by a hung lifecycle call): /health answers unhealthy.
constexpr auto kWatcherStuckAfter = std::chrono::seconds(60);
constexpr auto kRestartWatch = std::chrono::milliseconds(200);

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TaskRestartPolicy::Settings restart_settings(const config::WorkerConfig& c) {
  TaskRestartPolicy::Settings s;
  s.enabled = c.task_auto_restart_enable;
  s.initial_backoff = c.task_auto_restart_initial_backoff;
  s.max_backoff = c.task_auto_restart_max_backoff;
  s.max_attempts = c.task_auto_restart_max_attempts;
  return s;
}

}  // namespace

StandaloneWorker::StandaloneWorker(Options options)
    : options_(std::move(options)), restarts_(restart_settings(options_.config)) {}

StandaloneWorker::~StandaloneWorker() {
  stop();
}

Result<std::unique_ptr<StandaloneWorker>> StandaloneWorker::start(Options options) {
  if (!options.registry) return Error(ErrorCode::kInvalidArgument, "the worker needs a registry");
  std::unique_ptr<StandaloneWorker> w(new StandaloneWorker(std::move(options)));
  const auto& c = w->options_.config;
  RMQC_ASSIGN_OR_RETURN(w->store_, StateStore::open(c.store_path_root_dir + "/worker"));
  LocalWorker::Options lo;
  lo.config = c;
  lo.registry = w->options_.registry;
  lo.namesrv_addr = w->options_.namesrv_addr;
  lo.positions = w->store_.get();
  RMQC_ASSIGN_OR_RETURN(lo.producer, start_worker_producer(c, w->options_.namesrv_addr));
  w->local_ = std::make_unique<LocalWorker>(std::move(lo));
  w->register_stored();
  w->watcher_tick_ms_ = steady_ms();
  w->watcher_ = std::thread([raw = w.get()] {
    set_thread_name("status-watch");
    raw->watch_statuses();
  });
  return w;
}

void StandaloneWorker::register_stored() {
  // Every stored connector is known (configs, target states, task configs) before start()
  // returns, so before the REST API and the ready line: a client asking right after "worker
  // ready" sees all of them, also while restore() is still starting them (regression:
  // tests/integration/worker_restart_test.cc, which once saw an empty list).
  std::lock_guard lock(state_mutex_);
  for (auto& [name, stored] : store_->connectors()) {
    Entry e;
    e.config = stored.config;
    e.target = stored.target_state;
    e.task_configs = stored.task_configs;
    e.type = local_->type_of(e.config);
    lifecycles_[name] = e.lifecycle;
    connectors_[name] = std::move(e);
  }
}

std::unique_lock<std::mutex> StandaloneWorker::lock_name(const std::string& name) {
  std::shared_ptr<std::mutex> m;
  {
    std::lock_guard lock(state_mutex_);
    auto& slot = lifecycles_[name];
    if (!slot) slot = std::make_shared<std::mutex>();
    m = slot;
  }
  // The mutex stays in lifecycles_ for good (one per name ever used), so the reference holds.
  return std::unique_lock<std::mutex>(*m);
}

Result<StandaloneWorker::Locked> StandaloneWorker::lock_existing(const std::string& name) {
  auto lock = lock_name(name);
  std::lock_guard state(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return not_found(name);
  return Locked{std::move(lock), &it->second};
}

Result<void> StandaloneWorker::restore() {
  // The connectors were registered by start(); the REST API already answers (the ready line
  // comes first, so a slow connector start cannot hold it up).
  std::vector<std::string> names;
  {
    std::lock_guard lock(state_mutex_);
    for (const auto& [name, e] : connectors_) names.push_back(name);
  }
  for (const auto& name : names) {
    auto locked = lock_existing(name);
    if (!locked.ok()) continue;  // deleted through the REST API meanwhile
    if (local_->connector_status(name) || !local_->tasks(name).empty()) continue;
    if (auto s = start_connector(name, *locked->entry); !s.ok()) {
      logger("worker")->error("restoring connector {}: {}", name, s.error().message());
    }
    persist_status(name);
  }
  restored_ = true;
  return {};
}

void StandaloneWorker::watch_statuses() {
  constexpr auto kEvery = std::chrono::seconds(2);
  while (true) {
    watcher_tick_ms_ = steady_ms();
    bool reconfigure;
    {
      // Sooner when an automatic restart falls due before the next round, and every 200 ms
      // while a restarted task may fail again (its next backoff counts from when that is seen).
      const auto now = std::chrono::steady_clock::now();
      auto wait = now + kEvery;
      {
        std::lock_guard state(state_mutex_);
        if (auto due = restarts_.next_due()) wait = std::min(wait, *due);
        if (restarts_.watching()) wait = std::min(wait, now + kRestartWatch);
      }
      std::unique_lock lock(watch_mutex_);
      watch_cv_.wait_until(lock, wait, [&] { return watch_stop_ || reconfigure_pending_; });
      if (watch_stop_) return;
      reconfigure = std::exchange(reconfigure_pending_, false);
    }
    watcher_tick_ms_ = steady_ms();
    if (reconfigure) {
      std::vector<std::string> names;
      {
        std::lock_guard state(state_mutex_);
        for (const auto& [name, e] : connectors_) {
          if (e.reconfigure_requested) names.push_back(name);
        }
      }
      for (const auto& name : names) reconfigure_tasks(name);
    }
    // A task whose start() hangs is reported FAILED instead of UNASSIGNED forever.
    local_->check_start_timeouts();
    restart_failed_tasks();
    std::vector<std::pair<ConnectorState, std::string>> changed;
    {
      std::lock_guard state(state_mutex_);
      for (const auto& [name, e] : connectors_) {
        ConnectorState s = state_of(name, e);
        std::string digest(run_state_name(s.state));
        for (const auto& t : s.tasks) digest += "," + std::string(run_state_name(t.state));
        if (persisted_digest_[name] != digest) changed.emplace_back(std::move(s), digest);
      }
    }
    // A status counts as persisted once it is written: a failed write is tried again next round.
    for (auto& [s, digest] : changed) {
      if (auto r = store_->put_status(s); r.ok()) {
        persisted_digest_[s.name] = std::move(digest);
      } else {
        logger("worker")->warn("persisting the status of {}: {} (retrying)", s.name,
                               r.error().message());
      }
    }
  }
}

void StandaloneWorker::restart_failed_tasks() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, int>> due;
  {
    std::lock_guard state(state_mutex_);
    for (const auto& [name, e] : connectors_) {
      const bool wanted = e.target == TargetState::kStarted;
      for (const auto& t : state_of(name, e).tasks) {
        if (restarts_.observe(name, t, wanted, now)) due.emplace_back(name, t.id);
      }
    }
  }
  for (const auto& [name, id] : due) {
    auto locked = lock_existing(name);
    if (!locked.ok()) continue;  // deleted meanwhile
    Entry& e = *locked->entry;
    bool still_failed = false;
    {
      std::lock_guard state(state_mutex_);
      // The user may have paused, stopped or restarted it since: only a task still FAILED and
      // wanted running is restarted.
      if (e.target == TargetState::kStarted) {
        for (const auto& t : state_of(name, e).tasks) {
          if (t.id == id) still_failed = t.state == RunState::kFailed;
        }
      }
      if (still_failed) restarts_.restarted(name, id);
    }
    if (!still_failed) continue;
    logger("worker")->info("task {}-{}: automatic restart", name, id);
    if (auto r = restart_task_locked(name, e, id); !r.ok()) {
      logger("worker")->warn("task {}-{}: automatic restart failed: {}", name, id,
                             r.error().message());
    }
    persist_status(name);
  }
}

void StandaloneWorker::forget_restarts(const std::string& name, std::optional<int> task) {
  std::lock_guard state(state_mutex_);
  if (task) {
    restarts_.forget(name, *task);
  } else {
    restarts_.forget(name);
  }
}

WorkerHealth StandaloneWorker::health() const {
  using S = WorkerHealth::Status;
  if (stopping_) return {S::kStopping, "Worker is shutting down.", std::nullopt};
  if (!restored_) {
    return {S::kStarting, "Worker is still starting up.",
            "starting the connectors of the state store"};
  }
  const auto idle = std::chrono::milliseconds(steady_ms() - watcher_tick_ms_.load());
  if (idle > kWatcherStuckAfter) {
    return {S::kUnhealthy,
            "Worker was unable to handle this request and may be unable to handle other "
            "requests.",
            "the worker's status thread has not run for " + std::to_string(idle.count() / 1000) +
                " s (a connector call it waits on may hang)"};
  }
  return {S::kHealthy, "Worker has completed startup and is ready to handle requests.",
          std::nullopt};
}

WorkerMetrics StandaloneWorker::worker_metrics() const {
  WorkerMetrics m;
  m.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  {
    std::lock_guard state(state_mutex_);
    m.task_auto_restarts = restarts_.total_restarts();
  }
  if (local_) m.tasks = local_->task_metrics();
  return m;
}

std::optional<TaskRestartInfo> StandaloneWorker::task_restart_info(std::string_view name,
                                                                   int task) const {
  std::lock_guard state(state_mutex_);
  return restarts_.info(std::string(name), task);
}

void StandaloneWorker::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(watch_mutex_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (!local_) return;
  std::vector<std::string> names;
  {
    std::lock_guard lock(state_mutex_);
    for (auto& [name, e] : connectors_) names.push_back(name);
  }
  // Every connector's tasks first, in parallel, then the connector instances.
  std::vector<std::unique_lock<std::mutex>> held;
  for (const auto& name : names) held.push_back(lock_name(name));
  (void)local_->stop_tasks(local_->all_tasks());
  for (const auto& name : names) {
    local_->stop_connector(name);
    persist_status(name);
  }
  {
    std::lock_guard lock(state_mutex_);
    connectors_.clear();
  }
  held.clear();
  local_->stop_all();
}

WorkerInfo StandaloneWorker::worker_info() const {
  WorkerInfo info;
  info.worker_id = options_.config.worker_id;
  info.version = std::string(kVersion);
  info.mode = "standalone";
  info.cluster_id = options_.config.connect_cluster_id;
  info.workers = {options_.config.worker_id};
  return info;
}

std::vector<std::string> StandaloneWorker::connector_names() const {
  std::lock_guard lock(state_mutex_);
  std::vector<std::string> out;
  for (const auto& [name, e] : connectors_) out.push_back(name);
  return out;
}

Error StandaloneWorker::not_found(std::string_view name) {
  return Error(ErrorCode::kNotFound, "Connector " + std::string(name) + " not found");
}

Result<ConnectorInfo> StandaloneWorker::connector_info(std::string_view name) const {
  std::lock_guard lock(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return not_found(name);
  ConnectorInfo info;
  info.name = it->first;
  info.type = it->second.type;
  info.config = it->second.config;
  info.task_configs = it->second.task_configs;
  info.target_state = it->second.target;
  return info;
}

ConnectorState StandaloneWorker::state_of(const std::string& name, const Entry& e) const {
  ConnectorState s;
  s.name = name;
  s.type = e.type;
  s.worker_id = options_.config.worker_id;
  if (e.target == TargetState::kStopped) {
    s.state = RunState::kStopped;
  } else if (auto c = local_->connector_status(name)) {
    s.state = c->state;
    s.trace = c->trace;
    if (s.state == RunState::kRunning && e.target == TargetState::kPaused) {
      s.state = RunState::kPaused;
    }
  }
  std::map<int, TaskState> tasks = e.stopped_task_states;
  for (auto& t : local_->task_states(name)) tasks[t.id] = std::move(t);
  for (auto& [id, t] : tasks) s.tasks.push_back(std::move(t));
  return s;
}

Result<ConnectorState> StandaloneWorker::connector_state(std::string_view name) const {
  std::lock_guard lock(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return not_found(name);
  return state_of(it->first, it->second);
}

Result<TaskState> StandaloneWorker::task_state(std::string_view name, int task) const {
  RMQC_ASSIGN_OR_RETURN(ConnectorState s, connector_state(name));
  return find_task(s, task);
}

Result<ValidationResult> StandaloneWorker::validate_connector_config(std::string_view plugin,
                                                                     const KeyValue& config) const {
  return local_->validate_for_plugin(plugin, config);
}

Result<void> StandaloneWorker::start_connector(const std::string& name, Entry& e) {
  {
    std::lock_guard lock(state_mutex_);
    e.stopped_task_states.clear();
  }
  if (e.target == TargetState::kStopped) return {};
  LocalWorker::ConnectorCallbacks callbacks;
  callbacks.on_error = [this, name](std::string message) {
    local_->fail_connector(name, std::move(message));
  };
  callbacks.on_reconfigure = [this, name] {
    // Handled on the watcher thread (owned and joined by the worker): the connector may ask
    // from any of its threads, also from inside start().
    {
      std::lock_guard lock(state_mutex_);
      if (auto it = connectors_.find(name); it != connectors_.end()) {
        it->second.reconfigure_requested = true;
      }
    }
    {
      std::lock_guard lock(watch_mutex_);
      reconfigure_pending_ = true;
    }
    watch_cv_.notify_all();
  };
  RMQC_RETURN_IF_ERROR(local_->start_connector(name, e.config, std::move(callbacks)));
  RMQC_ASSIGN_OR_RETURN(
      auto configs, local_->task_configs(name, static_cast<int>(e.config.get_int("max.tasks", 1))));
  start_tasks(name, e, std::move(configs));
  return {};
}

void StandaloneWorker::start_tasks(const std::string& name, Entry& e,
                                   std::vector<KeyValue> configs) {
  {
    std::lock_guard lock(state_mutex_);
    e.task_configs = configs;
  }
  if (auto r = store_->put_task_configs(name, configs); !r.ok()) {
    logger("worker")->warn("persisting the task configs of {}: {}", name, r.error().message());
  }
  for (int id = 0; id < static_cast<int>(configs.size()); ++id) {
    auto started = local_->start_task(TaskId{name, id}, e.config, configs[id],
                                      e.target == TargetState::kPaused);
    if (!started.ok()) {
      std::lock_guard lock(state_mutex_);
      e.stopped_task_states[id] =
          TaskState{id, RunState::kFailed, options_.config.worker_id, started.error().message()};
    }
  }
}

void StandaloneWorker::stop_tasks(const std::string& name, Entry& e, bool keep_task_states) {
  // (A paused task wakes for its stop: unpausing them first would let the others run on while
  // the first ones are being stopped.)
  auto states = local_->stop_tasks(local_->tasks(name));
  if (!keep_task_states) return;
  std::lock_guard lock(state_mutex_);
  for (auto& s : states) {
    if (s.state != RunState::kFailed) s.state = RunState::kUnassigned;
    e.stopped_task_states[s.id] = s;
  }
}

void StandaloneWorker::stop_connector(const std::string& name, Entry& e, bool keep_task_states) {
  stop_tasks(name, e, keep_task_states);
  local_->stop_connector(name);
}

void StandaloneWorker::reconfigure_tasks(const std::string& name) {
  int max_tasks;
  {
    std::lock_guard lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    it->second.reconfigure_requested = false;
    // A stopped connector is not asked; neither is one whose start() failed or timed out (or
    // that raised an error, which task_configs() refuses): its tasks come back with a restart.
    if (it->second.target == TargetState::kStopped) return;
    max_tasks = static_cast<int>(it->second.config.get_int("max.tasks", 1));
  }
  // The plugin is asked without any lock: a slow task_configs() delays nothing else.
  auto configs = local_->task_configs(name, max_tasks);
  if (!configs.ok()) {
    logger("worker")->error("connector {}: task_configs() failed on reconfiguration: {}", name,
                            configs.error().message());
    persist_status(name);
    return;
  }
  auto locked = lock_existing(name);
  if (!locked.ok()) return;
  Entry& e = *locked->entry;
  if (e.target == TargetState::kStopped || !local_->connector_status(name)) return;
  std::vector<KeyValue> old;
  {
    std::lock_guard lock(state_mutex_);
    if (*configs == e.task_configs) return;  // nothing changed: the tasks keep running
    if (static_cast<int>(e.config.get_int("max.tasks", 1)) != max_tasks) return;  // superseded
    old = e.task_configs;
    e.task_configs = *configs;
    e.stopped_task_states.clear();  // states of tasks that may not exist any more
  }
  // Only the tasks whose config changed restart (removed ones stop, added ones start); the
  // connector and its unchanged tasks keep running.
  std::vector<TaskId> to_stop;
  std::vector<int> to_start;
  for (int id = 0; id < static_cast<int>(std::max(old.size(), configs->size())); ++id) {
    bool in_old = id < static_cast<int>(old.size());
    bool in_new = id < static_cast<int>(configs->size());
    if (in_old && in_new && old[id] == (*configs)[id]) continue;
    if (in_old) to_stop.push_back(TaskId{name, id});
    if (in_new) to_start.push_back(id);
  }
  (void)local_->stop_tasks(to_stop);
  if (auto r = store_->put_task_configs(name, *configs); !r.ok()) {
    logger("worker")->warn("persisting the task configs of {}: {}", name, r.error().message());
  }
  for (int id : to_start) {
    auto started = local_->start_task(TaskId{name, id}, e.config, (*configs)[id],
                                      e.target == TargetState::kPaused);
    if (!started.ok()) {
      std::lock_guard lock(state_mutex_);
      e.stopped_task_states[id] =
          TaskState{id, RunState::kFailed, options_.config.worker_id, started.error().message()};
    }
  }
  persist_status(name);
  logger("worker")->info("connector {}: tasks reconfigured ({} tasks, {} restarted)", name,
                         configs->size(), to_start.size());
}

void StandaloneWorker::persist_status(const std::string& name) {
  ConnectorState s;
  {
    std::lock_guard lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    s = state_of(name, it->second);
  }
  // Not marked as persisted here: the watcher compares with what it wrote itself and writes
  // again if needed (also when this write fails).
  if (auto r = store_->put_status(s); !r.ok()) {
    logger("worker")->warn("persisting the status of {}: {}", name, r.error().message());
  }
}

Result<bool> StandaloneWorker::put_connector(std::string_view name_view, KeyValue config,
                                             PutOptions options) {
  std::string name(name_view);
  if (name.empty()) return Error(ErrorCode::kInvalidArgument, "a connector needs a name");
  return put_connector_locked(name, lock_name(name), std::move(config), options);
}

Result<KeyValue> StandaloneWorker::patch_connector(std::string_view name_view,
                                                   const KeyValue& patch) {
  return patch_connector_config(name_view, patch, {});
}

Result<KeyValue> StandaloneWorker::patch_connector_config(std::string_view name_view,
                                                          const KeyValue& patch,
                                                          const std::vector<std::string>& remove) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  KeyValue merged;
  {
    std::lock_guard lock(state_mutex_);
    merged = locked.entry->config;
  }
  for (const auto& key : remove) merged.erase(key);
  for (const auto& [key, value] : patch) merged.put(key, value);
  RMQC_RETURN_IF_ERROR(
      put_connector_locked(name, std::move(locked.lock), merged, {.allow_update = true}));
  return merged;
}

Result<bool> StandaloneWorker::put_connector_locked(const std::string& name,
                                                    std::unique_lock<std::mutex> lock,
                                                    KeyValue config, PutOptions options) {
  (void)lock;  // held until this returns: the connector's lifecycle
  RMQC_RETURN_IF_ERROR(local_->check(config, name));
  forget_restarts(name);
  Entry* existing = nullptr;
  {
    std::lock_guard state(state_mutex_);
    if (auto it = connectors_.find(name); it != connectors_.end()) existing = &it->second;
  }
  if (existing && !options.allow_update) {
    return Error(ErrorCode::kAlreadyExists, "Connector " + name + " already exists");
  }
  TargetState target = options.initial_state;
  if (existing) {
    stop_connector(name, *existing, false);
    target = existing->target;
  }
  StoredConnector stored{config, target, {}};
  // Durable before acknowledged: a restart finds what the REST call confirmed.
  RMQC_RETURN_IF_ERROR(store_->put_connector(name, stored));
  Entry* e;
  {
    std::lock_guard state(state_mutex_);
    Entry& slot = connectors_[name];
    auto lifecycle = lifecycles_[name];
    slot = Entry{};
    slot.lifecycle = std::move(lifecycle);
    slot.config = std::move(config);
    slot.target = target;
    slot.type = local_->type_of(slot.config);
    e = &slot;
  }
  if (auto s = start_connector(name, *e); !s.ok()) {
    logger("worker")->error("connector {} failed to start: {}", name, s.error().message());
  }
  persist_status(name);
  logger("worker")->info("connector {} {}", name, existing ? "updated" : "created");
  return existing == nullptr;
}

Result<void> StandaloneWorker::delete_connector(std::string_view name_view) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  stop_connector(name, *locked.entry, false);
  {
    std::lock_guard lock(state_mutex_);
    connectors_.erase(name);
    restarts_.forget(name);
  }
  RMQC_RETURN_IF_ERROR(store_->remove_connector(name));
  logger("worker")->info("connector {} deleted", name);
  return {};
}

Result<void> StandaloneWorker::set_target_state(std::string_view name_view, TargetState state) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  Entry& e = *locked.entry;
  TargetState before = e.target;
  RMQC_RETURN_IF_ERROR(store_->put_target_state(name, state));
  forget_restarts(name);
  {
    std::lock_guard lock(state_mutex_);
    e.target = state;
  }
  if (state == TargetState::kStopped) {
    stop_connector(name, e, true);
  } else if (before == TargetState::kStopped || !local_->connector_status(name)) {
    (void)start_connector(name, e);
  } else {
    local_->set_paused(name, state == TargetState::kPaused);
  }
  persist_status(name);
  return {};
}

Result<void> StandaloneWorker::restart_connector(std::string_view name_view, bool include_tasks,
                                                 bool only_failed) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  forget_restarts(name);
  Entry& e = *locked.entry;
  auto connector = local_->connector_status(name);
  bool connector_failed = connector && connector->state == RunState::kFailed;
  if (include_tasks && only_failed && !connector_failed) {
    // Only the failed tasks: restart each in place.
    std::vector<int> failed;
    for (const auto& t : local_->task_states(name)) {
      if (t.state == RunState::kFailed) failed.push_back(t.id);
    }
    {
      std::lock_guard lock(state_mutex_);
      for (auto& [id, s] : e.stopped_task_states) {
        if (s.state == RunState::kFailed) failed.push_back(id);
      }
    }
    for (int id : failed) (void)restart_task_locked(name, e, id);
    return {};
  }
  if (!include_tasks && only_failed && !connector_failed) return {};
  stop_connector(name, e, false);
  auto s = start_connector(name, e);
  persist_status(name);
  if (!s.ok()) logger("worker")->error("restarting {}: {}", name, s.error().message());
  return {};
}

Result<void> StandaloneWorker::restart_task(std::string_view name_view, int id) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  forget_restarts(name, id);
  return restart_task_locked(name, *locked.entry, id);
}

Result<void> StandaloneWorker::restart_task_locked(const std::string& name, Entry& e, int id) {
  KeyValue task_config;
  {
    std::lock_guard lock(state_mutex_);
    if (id < 0 || id >= static_cast<int>(e.task_configs.size())) {
      return Error(ErrorCode::kNotFound,
                   "Task " + std::to_string(id) + " of connector " + name + " not found");
    }
    task_config = e.task_configs[id];
  }
  if (!local_->connector_status(name))
    return Error(ErrorCode::kInvalidArgument, "connector " + name + " is not running");
  (void)local_->stop_tasks({TaskId{name, id}});
  auto started =
      local_->start_task(TaskId{name, id}, e.config, task_config, e.target == TargetState::kPaused);
  std::lock_guard lock(state_mutex_);
  if (!started.ok()) {
    e.stopped_task_states[id] =
        TaskState{id, RunState::kFailed, options_.config.worker_id, started.error().message()};
    return std::move(started).error();
  }
  e.stopped_task_states.erase(id);
  return {};
}

Result<void> StandaloneWorker::set_max_tasks(std::string_view name, int max_tasks) {
  if (max_tasks < 1) return Error(ErrorCode::kInvalidArgument, "the task count must be at least 1");
  RMQC_RETURN_IF_ERROR(patch_connector(name, KeyValue{{"max.tasks", std::to_string(max_tasks)}}));
  return {};
}

Result<std::vector<SourceOffset>> StandaloneWorker::connector_offsets(std::string_view name) const {
  OffsetMap offsets;
  {
    std::unique_lock lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return not_found(name);
    if (it->second.type == ConnectorType::kSource) offsets = store_->positions(name);
    // A stopped sink has no task to ask: its group's offsets are read from the broker.
    if (it->second.type == ConnectorType::kSink && it->second.target == TargetState::kStopped) {
      KeyValue config = it->second.config;
      lock.unlock();
      return sink_group_offsets(options_.config, options_.namesrv_addr, std::string(name),
                                config);
    }
  }
  for (auto& [p, o] : local_->committed_offsets(std::string(name))) offsets[p] = o;
  std::vector<SourceOffset> out;
  for (auto& [p, o] : offsets) out.push_back(SourceOffset{p, o});
  return out;
}

Result<void> StandaloneWorker::alter_offsets(std::string_view name_view,
                                             const std::vector<OffsetChange>& changes) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  KeyValue config;
  {
    std::lock_guard lock(state_mutex_);
    if (locked.entry->target != TargetState::kStopped) return not_stopped_error(name);
    config = locked.entry->config;
  }
  const ConnectorType type = local_->type_of(config);
  RMQC_RETURN_IF_ERROR(check_offset_changes(type, changes));
  if (type == ConnectorType::kSink) {
    return alter_sink_offsets(options_.config, options_.namesrv_addr, name, config, changes);
  }
  return alter_source_positions(*store_, name, changes);
}

Result<void> StandaloneWorker::reset_offsets(std::string_view name_view) {
  std::string name(name_view);
  RMQC_ASSIGN_OR_RETURN(Locked locked, lock_existing(name));
  KeyValue config;
  {
    std::lock_guard lock(state_mutex_);
    if (locked.entry->target != TargetState::kStopped) return not_stopped_error(name);
    config = locked.entry->config;
  }
  if (local_->type_of(config) == ConnectorType::kSink) {
    return reset_sink_offsets(options_.config, options_.namesrv_addr, name, config);
  }
  return store_->remove_positions(name);
}

std::vector<plugins::PluginEntry> StandaloneWorker::plugins() const {
  return options_.registry->list();
}

Result<std::size_t> StandaloneWorker::reload_plugins() {
  if (!options_.reload_plugins) return std::size_t{0};
  return options_.reload_plugins();
}

}  // namespace rmqc::runtime
