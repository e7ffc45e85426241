#include "runtime/worker.h"

#include "rmqc/api/errors.h"

#include "base/logging.h"
#include "converters/converter_factory.h"
#include "runtime/errors/error_handler.h"
#include "transforms/transform_chain.h"

#include <future>
#include <thread>

namespace rmqc::runtime {
namespace {

constexpr auto kValidateTimeout = std::chrono::seconds(30);

std::string exception_text(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Runs a plugin call on its own thread and waits at most `timeout`: a hung plugin costs a thread,
// never the worker. What the call needs must be captured by value (shared_ptr).
Result<void> call_plugin(std::function<void()> fn, std::chrono::milliseconds timeout,
                         const std::string& what) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(fn));
  auto done = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (done.wait_for(timeout) != std::future_status::ready) {
    return Error(ErrorCode::kTimeout,
                 what + " did not return within " + std::to_string(timeout.count()) + " ms");
  }
  try {
    done.get();
  } catch (...) {
    return Error(ErrorCode::kInternal,
                 what + " failed: " + exception_text(std::current_exception()));
  }
  return {};
}

}  // namespace

// The connector keys the runtime itself reads.
const ConfigDef& runtime_connector_def() {
  static const ConfigDef def = [] {
    using T = ConfigDef::Type;
    using I = ConfigDef::Importance;
    ConfigDef d;
    d.define("connector.class", T::kClass, std::nullopt, I::kHigh,
             "The connector: its class name (e.g. org.apache.rocketmq.connect.file."
             "FileSourceConnector) or short alias.")
        .define("max.tasks", T::kInt, "1", I::kHigh, "Most tasks to run.",
                validators::between(1, 1024))
        .define("key.converter", T::kString, "", I::kMedium,
                "Converter of record keys (default: the worker's keyConverter).")
        .define("value.converter", T::kString, "", I::kMedium,
                "Converter of record values (default: the worker's valueConverter).")
        .define("connect.topicname", T::kString, "", I::kHigh,
                "Source connectors: topic of records without a topic extension.")
        .define("connect.topicnames", T::kList, "", I::kHigh,
                "Sink connectors: topics to consume, separated by ',' or ';' (required).")
        .define("task.group.id", T::kString, "", I::kMedium,
                "Sink connectors: consumer group (default connect-<connector name>).")
        .define(
            "consume.from.where", T::kString, "CONSUME_FROM_LAST_OFFSET", I::kLow,
            "Sink connectors: where a new group starts: CONSUME_FROM_LAST_OFFSET or "
            "CONSUME_FROM_FIRST_OFFSET.",
            validators::one_of({"CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_FIRST_OFFSET"}, false))
        .define("transforms", T::kList, "", I::kMedium,
                "Aliases of the transforms to apply, in order (see docs/transforms.md).");
    d.merge(error_config_def());
    return d;
  }();
  return def;
}

namespace {

class ConnectorContextImpl final : public ConnectorContext {
 public:
  ConnectorContextImpl(std::string name, std::function<void(std::string)> on_error,
                       std::function<void()> on_reconfigure)
      : name_(std::move(name)),
        on_error_(std::move(on_error)),
        on_reconfigure_(std::move(on_reconfigure)) {}
  void request_task_reconfiguration() override { on_reconfigure_(); }
  void raise_error(const std::string& message) override { on_error_(message); }
  std::string_view connector_name() const override { return name_; }

 private:
  std::string name_;
  std::function<void(std::string)> on_error_;
  std::function<void()> on_reconfigure_;
};

}  // namespace

StandaloneWorker::StandaloneWorker(Options options) : options_(std::move(options)) {}

StandaloneWorker::~StandaloneWorker() {
  stop();
}

Result<std::unique_ptr<StandaloneWorker>> StandaloneWorker::start(Options options) {
  if (!options.registry) return Error(ErrorCode::kInvalidArgument, "the worker needs a registry");
  std::unique_ptr<StandaloneWorker> w(new StandaloneWorker(std::move(options)));
  const auto& c = w->options_.config;
  RMQC_ASSIGN_OR_RETURN(w->store_, StateStore::open(c.store_path_root_dir + "/worker"));
  rocketmq::ProducerConfig pc;
  pc.client.namesrv_addr = w->options_.namesrv_addr;
  if (c.acl_enable) {
    pc.client.access_key = c.access_key;
    pc.client.secret_key = c.secret_key;
  }
  pc.client.request_timeout = c.operation_timeout;
  pc.client.serialize_type =
      c.binary_headers ? rocketmq::SerializeType::ROCKETMQ : rocketmq::SerializeType::JSON;
  pc.group = c.rmq_producer_group;
  pc.send_timeout = c.operation_timeout;
  auto producer = rocketmq::Producer::start(pc);
  if (!producer.ok()) return std::move(producer).error().with_context("starting the producer");
  w->producer_ = std::shared_ptr<rocketmq::Producer>(std::move(producer).value());
  w->register_stored();
  w->watcher_ = std::thread([raw = w.get()] { raw->watch_statuses(); });
  return w;
}

void StandaloneWorker::register_stored() {
  // Every stored connector is known (configs, target states, task configs) before start()
  // returns, so before the REST API and the ready line: a client asking right after "worker
  // ready" sees all of them, also while restore() is still starting them (regression:
  // tests/integration/worker_restart_test.cc, which once saw an empty list).
  std::lock_guard lock(state_mutex_);
  for (auto& [name, stored] : store_->connectors()) {
    Running r;
    r.config = stored.config;
    r.target = stored.target_state;
    r.task_configs = stored.task_configs;
    auto entry = options_.registry->find(r.config.get_string("connector.class"));
    r.type = entry && entry->kind == PluginKind::kSinkConnector ? ConnectorType::kSink
                                                                : ConnectorType::kSource;
    connectors_[name] = std::move(r);
  }
}

Result<void> StandaloneWorker::restore() {
  std::lock_guard life(lifecycle_mutex_);
  // The connectors were registered by start(); the REST API already answers (the ready line
  // comes first, so a slow connector start cannot hold it up).
  std::vector<std::string> names;
  {
    std::lock_guard lock(state_mutex_);
    for (const auto& [name, r] : connectors_) {
      if (!r.connector && r.tasks.empty()) names.push_back(name);
    }
  }
  for (const auto& name : names) {
    Running* running;
    {
      std::lock_guard lock(state_mutex_);
      auto it = connectors_.find(name);
      if (it == connectors_.end()) continue;  // deleted through the REST API meanwhile
      running = &it->second;
    }
    if (auto s = start_connector(name, *running); !s.ok()) {
      logger("worker")->error("restoring connector {}: {}", name, s.error().message());
    }
    persist_status(name);
  }
  return {};
}

void StandaloneWorker::watch_statuses() {
  constexpr auto kEvery = std::chrono::seconds(2);
  while (true) {
    bool reconfigure;
    {
      std::unique_lock lock(watch_mutex_);
      watch_cv_.wait_for(lock, kEvery, [&] { return watch_stop_ || reconfigure_pending_; });
      if (watch_stop_) return;
      reconfigure = std::exchange(reconfigure_pending_, false);
    }
    if (reconfigure) {
      std::vector<std::string> names;
      {
        std::lock_guard state(state_mutex_);
        for (const auto& [name, r] : connectors_) {
          if (r.reconfigure_requested) names.push_back(name);
        }
      }
      for (const auto& name : names) reconfigure_tasks(name);
    }
    std::vector<ConnectorState> changed;
    {
      std::lock_guard state(state_mutex_);
      for (const auto& [name, r] : connectors_) {
        // A task whose start() hangs is reported FAILED instead of UNASSIGNED forever.
        for (const auto& t : r.tasks) t->fail_if_start_timed_out(options_.config.max_start_timeout);
        ConnectorState s = state_of(name, r);
        std::string digest(run_state_name(s.state));
        for (const auto& t : s.tasks) digest += "," + std::string(run_state_name(t.state));
        auto& last = persisted_digest_[name];
        if (last != digest) {
          last = std::move(digest);
          changed.push_back(std::move(s));
        }
      }
    }
    for (const auto& s : changed) (void)store_->put_status(s);
  }
}

void StandaloneWorker::stop() {
  {
    std::lock_guard lock(watch_mutex_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard life(lifecycle_mutex_);
  std::vector<std::string> names;
  {
    std::lock_guard lock(state_mutex_);
    for (auto& [name, r] : connectors_) names.push_back(name);
  }
  for (const auto& name : names) {
    stop_connector(connectors_[name], /*keep_task_states=*/false);
    persist_status(name);
  }
  {
    std::lock_guard lock(state_mutex_);
    connectors_.clear();
  }
  if (producer_) producer_->shutdown();
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
  for (const auto& [name, r] : connectors_) out.push_back(name);
  return out;
}

Error StandaloneWorker::not_found(std::string_view name) {
  return Error(ErrorCode::kNotFound, "Connector " + std::string(name) + " not found");
}

Result<StandaloneWorker::Running*> StandaloneWorker::slot(const std::string& name) {
  std::lock_guard lock(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return not_found(name);
  return &it->second;
}

Result<ConnectorInfo> StandaloneWorker::connector_info(std::string_view name) const {
  std::lock_guard lock(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) {
    return not_found(name);
  }
  ConnectorInfo info;
  info.name = it->first;
  info.type = it->second.type;
  info.config = it->second.config;
  info.task_configs = it->second.task_configs;
  info.target_state = it->second.target;
  return info;
}

ConnectorState StandaloneWorker::state_of(const std::string& name, const Running& r) const {
  ConnectorState s;
  s.name = name;
  s.type = r.type;
  s.state = r.state;
  s.trace = r.trace;
  s.worker_id = options_.config.worker_id;
  std::map<int, TaskState> tasks = r.stopped_task_states;
  for (const auto& t : r.tasks) tasks[t->id()] = t->state();
  for (auto& [id, t] : tasks) s.tasks.push_back(t);
  return s;
}

Result<ConnectorState> StandaloneWorker::connector_state(std::string_view name) const {
  std::lock_guard lock(state_mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) {
    return not_found(name);
  }
  return state_of(it->first, it->second);
}

Result<TaskState> StandaloneWorker::task_state(std::string_view name, int task) const {
  RMQC_ASSIGN_OR_RETURN(ConnectorState s, connector_state(name));
  for (const auto& t : s.tasks) {
    if (t.id == task) return t;
  }
  return Error(ErrorCode::kNotFound, "Task " + std::to_string(task) + " of connector " +
                                         std::string(name) + " not found");
}

Result<ValidationResult> StandaloneWorker::validate(const KeyValue& config) const {
  ValidationResult v;
  v.plugin = config.get_string("connector.class");
  ConfigDef def = runtime_connector_def();
  std::shared_ptr<Connector> connector;
  if (const auto* entry = options_.registry->find(v.plugin)) {
    if (entry->kind == PluginKind::kSourceConnector) {
      if (auto c = options_.registry->create_source_connector(v.plugin); c.ok()) {
        connector = std::shared_ptr<Connector>(std::move(c).value());
      }
    } else if (entry->kind == PluginKind::kSinkConnector) {
      if (auto c = options_.registry->create_sink_connector(v.plugin); c.ok()) {
        connector = std::shared_ptr<Connector>(std::move(c).value());
      }
    }
  }
  if (connector) {
    try {
      def.merge(connector->config_def());
    } catch (...) {
      v.other_errors.push_back("config_def() threw: " + exception_text(std::current_exception()));
    }
  }
  v.definitions = def.keys();
  v.results = def.validate(config);
  auto add_error = [&](std::string_view key, std::string message) {
    for (auto& r : v.results) {
      if (r.name == key) {
        r.errors.push_back(std::move(message));
        return;
      }
    }
    v.other_errors.push_back(std::string(key) + ": " + message);
  };
  if (!v.plugin.empty() && !connector) {
    add_error("connector.class", "no connector plugin named '" + v.plugin + "'");
  }
  bool sink = connector && dynamic_cast<SinkConnector*>(connector.get()) != nullptr;
  if (sink && split_list(config.get_string("connect.topicnames")).empty()) {
    add_error("connect.topicnames", "a sink connector needs connect.topicnames");
  }
  for (bool is_key : {true, false}) {
    auto c = converters::make_converter(
        *options_.registry, config, is_key,
        is_key ? options_.config.key_converter : options_.config.value_converter);
    if (!c.ok()) add_error(is_key ? "key.converter" : "value.converter", c.error().message());
  }
  if (auto t = transforms::TransformChain::validate(config, *options_.registry); !t.ok()) {
    add_error("transforms", t.error().message());
  }
  if (connector) {
    auto checked = call_plugin([connector, config] { connector->validate(config); },
                               kValidateTimeout, "the connector's validate()");
    if (!checked.ok()) v.other_errors.push_back(checked.error().message());
  }
  for (const auto& r : v.results) v.error_count += static_cast<int>(r.errors.size());
  v.error_count += static_cast<int>(v.other_errors.size());
  return v;
}

Result<ValidationResult> StandaloneWorker::validate_connector_config(std::string_view plugin,
                                                                     const KeyValue& config) const {
  KeyValue with_class = config;
  if (!with_class.contains("connector.class"))
    with_class.put("connector.class", std::string(plugin));
  return validate(with_class);
}

Result<std::shared_ptr<WorkerTask>> StandaloneWorker::make_task(const std::string& name, Running& r,
                                                                int id) {
  TaskSetup setup;
  setup.connector = name;
  setup.task_id = id;
  setup.worker_id = options_.config.worker_id;
  setup.connector_config = r.config;
  setup.task_config =
      id < static_cast<int>(r.task_configs.size()) ? r.task_configs[id] : KeyValue{};
  try {
    setup.task = r.connector->create_task();
  } catch (...) {
    return Error(ErrorCode::kInternal,
                 "create_task() failed: " + exception_text(std::current_exception()));
  }
  if (!setup.task) return Error(ErrorCode::kInternal, "the connector created no task");
  RMQC_ASSIGN_OR_RETURN(setup.key_converter,
                        converters::make_converter(*options_.registry, r.config, true,
                                                   options_.config.key_converter));
  RMQC_ASSIGN_OR_RETURN(setup.value_converter,
                        converters::make_converter(*options_.registry, r.config, false,
                                                   options_.config.value_converter));
  RMQC_ASSIGN_OR_RETURN(setup.chain,
                        transforms::TransformChain::build(r.config, *options_.registry));
  RMQC_ASSIGN_OR_RETURN(setup.errors, parse_error_config(r.config));
  setup.producer = producer_;
  setup.store = store_.get();
  setup.commit_interval = options_.config.offset_commit_interval;
  setup.commit_timeout = options_.config.offset_commit_timeout;
  setup.message_logging = &message_logging_;
  setup.client.namesrv_addr = options_.namesrv_addr;
  setup.client.serialize_type = options_.config.binary_headers ? rocketmq::SerializeType::ROCKETMQ
                                                               : rocketmq::SerializeType::JSON;
  if (options_.config.acl_enable) {
    setup.client.access_key = options_.config.access_key;
    setup.client.secret_key = options_.config.secret_key;
  }
  std::shared_ptr<WorkerTask> task;
  if (r.type == ConnectorType::kSink) {
    task = std::make_shared<WorkerSinkTask>(std::move(setup));
  } else {
    task = std::make_shared<WorkerSourceTask>(std::move(setup));
  }
  return task;
}

Result<void> StandaloneWorker::start_connector(const std::string& name, Running& r) {
  r.trace.reset();
  r.stopped_task_states.clear();
  if (r.target == TargetState::kStopped) {
    r.state = RunState::kStopped;
    return {};
  }
  const std::string klass = r.config.get_string("connector.class");
  std::shared_ptr<Connector> connector;
  if (r.type == ConnectorType::kSink) {
    auto c = options_.registry->create_sink_connector(klass);
    if (c.ok())
      connector = std::shared_ptr<Connector>(std::move(c).value());
    else
      r.trace = c.error().message();
  } else {
    auto c = options_.registry->create_source_connector(klass);
    if (c.ok())
      connector = std::shared_ptr<Connector>(std::move(c).value());
    else
      r.trace = c.error().message();
  }
  if (!connector) {
    r.state = RunState::kFailed;
    return Error(ErrorCode::kInternal, *r.trace);
  }
  auto context = std::make_shared<ConnectorContextImpl>(
      name,
      [this, name](std::string message) {
        std::lock_guard lock(state_mutex_);
        if (auto it = connectors_.find(name); it != connectors_.end()) {
          it->second.state = RunState::kFailed;
          it->second.trace = std::move(message);
        }
      },
      [this, name] {
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
      });
  KeyValue config = r.config;
  auto started = call_plugin(
      [connector, context, config] {
        connector->init(*context);
        connector->start(config);
      },
      options_.config.max_start_timeout, "connector start()");
  {
    std::lock_guard lock(state_mutex_);
    r.connector = connector;
    r.context = context;
  }
  if (!started.ok()) {
    std::lock_guard lock(state_mutex_);
    r.state = RunState::kFailed;
    r.trace = started.error().message();
    return std::move(started).error();
  }
  RMQC_ASSIGN_OR_RETURN(auto configs, ask_task_configs(name, r, connector));
  start_tasks(name, r, std::move(configs));
  return {};
}

Result<std::vector<KeyValue>> StandaloneWorker::ask_task_configs(
    const std::string& name, Running& r, const std::shared_ptr<Connector>& connector) {
  int max_tasks = r.config.get_int("max.tasks", 1);
  auto configs = std::make_shared<std::vector<KeyValue>>();
  auto asked = call_plugin(
      [connector, configs, max_tasks] { *configs = connector->task_configs(max_tasks); },
      options_.config.max_start_timeout, "task_configs()");
  if (!asked.ok()) {
    std::lock_guard lock(state_mutex_);
    r.state = RunState::kFailed;
    r.trace = asked.error().message();
    return std::move(asked).error();
  }
  if (static_cast<int>(configs->size()) > max_tasks) configs->resize(max_tasks);
  for (std::size_t i = 0; i < configs->size(); ++i) {
    (*configs)[i].put("task.id", static_cast<std::int64_t>(i));
    (*configs)[i].put("task.class", connector->task_class());
    (*configs)[i].put("connector.name", name);
  }
  return std::move(*configs);
}

void StandaloneWorker::start_tasks(const std::string& name, Running& r,
                                   std::vector<KeyValue> configs) {
  {
    std::lock_guard lock(state_mutex_);
    r.task_configs = configs;
  }
  (void)store_->put_task_configs(name, configs);
  std::vector<std::shared_ptr<WorkerTask>> tasks;
  for (int id = 0; id < static_cast<int>(configs.size()); ++id) {
    auto task = make_task(name, r, id);
    if (!task.ok()) {
      std::lock_guard lock(state_mutex_);
      r.stopped_task_states[id] =
          TaskState{id, RunState::kFailed, options_.config.worker_id, task.error().message()};
      continue;
    }
    if (r.target == TargetState::kPaused) (*task)->set_paused(true);
    (*task)->start();
    tasks.push_back(std::move(task).value());
  }
  std::lock_guard lock(state_mutex_);
  r.tasks = std::move(tasks);
  r.state = r.target == TargetState::kPaused ? RunState::kPaused : RunState::kRunning;
}

void StandaloneWorker::reconfigure_tasks(const std::string& name) {
  std::lock_guard life(lifecycle_mutex_);
  Running* r;
  std::shared_ptr<Connector> connector;
  {
    std::lock_guard lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    r = &it->second;
    r->reconfigure_requested = false;
    // A connector whose start() failed or timed out (or that raised an error) is not asked: its
    // tasks come back with a restart.
    if (r->target == TargetState::kStopped || r->state == RunState::kFailed) return;
    connector = r->connector;
  }
  if (!connector) return;
  auto configs = ask_task_configs(name, *r, connector);
  if (!configs.ok()) {
    logger("worker")->error("connector {}: task_configs() failed on reconfiguration: {}", name,
                            configs.error().message());
    persist_status(name);
    return;
  }
  {
    std::lock_guard lock(state_mutex_);
    if (*configs == r->task_configs) return;  // nothing changed: the tasks keep running
  }
  // Only the tasks restart; the connector (and its monitoring threads) keeps running.
  stop_tasks(*r, false);
  {
    std::lock_guard lock(state_mutex_);
    r->stopped_task_states.clear();  // states of tasks that may not exist any more
  }
  start_tasks(name, *r, std::move(configs).value());
  persist_status(name);
  logger("worker")->info("connector {}: tasks reconfigured ({} tasks)", name, r->tasks.size());
}

void StandaloneWorker::stop_connector(Running& r, bool keep_task_states) {
  stop_tasks(r, keep_task_states);
  std::shared_ptr<Connector> connector;
  {
    std::lock_guard lock(state_mutex_);
    connector = std::move(r.connector);
    r.connector.reset();
  }
  if (connector) {
    if (auto s = call_plugin([connector] { connector->stop(); }, options_.config.max_stop_timeout,
                             "connector stop()");
        !s.ok()) {
      logger("worker")->warn("{}", s.error().message());
    }
  }
}

void StandaloneWorker::stop_tasks(Running& r, bool keep_task_states) {
  std::vector<std::shared_ptr<WorkerTask>> tasks;
  {
    std::lock_guard lock(state_mutex_);
    tasks = std::move(r.tasks);
    r.tasks.clear();
  }
  // (A paused task wakes for its stop: unpausing them first would let the others run on while
  // the first ones are being stopped.)
  for (auto& t : tasks) {
    t->stop(options_.config.max_stop_timeout);
    if (keep_task_states) {
      std::lock_guard lock(state_mutex_);
      auto s = t->state();
      if (s.state != RunState::kFailed) s.state = RunState::kUnassigned;
      r.stopped_task_states[t->id()] = s;
    }
  }
}

void StandaloneWorker::persist_status(const std::string& name) {
  ConnectorState s;
  {
    std::lock_guard lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    s = state_of(name, it->second);
  }
  if (auto r = store_->put_status(s); !r.ok()) {
    logger("worker")->warn("persisting the status of {}: {}", name, r.error().message());
  }
}

Result<bool> StandaloneWorker::put_connector(std::string_view name_view, KeyValue config,
                                             PutOptions options) {
  std::string name(name_view);
  if (name.empty()) return Error(ErrorCode::kInvalidArgument, "a connector needs a name");
  std::lock_guard life(lifecycle_mutex_);
  return put_connector_locked(name, std::move(config), options);
}

Result<KeyValue> StandaloneWorker::patch_connector(std::string_view name_view,
                                                   const KeyValue& patch) {
  std::string name(name_view);
  std::lock_guard life(lifecycle_mutex_);
  RMQC_ASSIGN_OR_RETURN(Running * r, slot(name));
  KeyValue merged;
  {
    std::lock_guard lock(state_mutex_);
    merged = r->config;
  }
  for (const auto& [key, value] : patch) merged.put(key, value);
  RMQC_RETURN_IF_ERROR(put_connector_locked(name, merged, {.allow_update = true}));
  return merged;
}

Result<bool> StandaloneWorker::put_connector_locked(const std::string& name, KeyValue config,
                                                    PutOptions options) {
  const bool allow_update = options.allow_update;
  RMQC_ASSIGN_OR_RETURN(ValidationResult v, validate(config));
  if (v.error_count > 0) {
    std::string message;
    for (const auto& r : v.results) {
      for (const auto& e : r.errors) message += (message.empty() ? "" : "; ") + e;
    }
    for (const auto& e : v.other_errors) message += (message.empty() ? "" : "; ") + e;
    return Error(ErrorCode::kInvalidConfig, "Connector configuration is invalid: " + message);
  }
  bool exists;
  {
    std::lock_guard lock(state_mutex_);
    exists = connectors_.find(name) != connectors_.end();
  }
  if (exists && !allow_update) {
    return Error(ErrorCode::kAlreadyExists, "Connector " + name + " already exists");
  }
  TargetState target = options.initial_state;
  if (exists) {
    stop_connector(connectors_[name], false);
    std::lock_guard lock(state_mutex_);
    target = connectors_[name].target;
  }
  StoredConnector stored{config, target, {}};
  // Durable before acknowledged: a restart finds what the REST call confirmed.
  RMQC_RETURN_IF_ERROR(store_->put_connector(name, stored));
  Running* r;
  {
    std::lock_guard lock(state_mutex_);
    Running& slot = connectors_[name];
    slot = Running{};
    slot.config = std::move(config);
    slot.target = target;
    const auto* entry = options_.registry->find(slot.config.get_string("connector.class"));
    slot.type = entry && entry->kind == PluginKind::kSinkConnector ? ConnectorType::kSink
                                                                   : ConnectorType::kSource;
    r = &slot;
  }
  if (auto s = start_connector(name, *r); !s.ok()) {
    logger("worker")->error("connector {} failed to start: {}", name, s.error().message());
  }
  persist_status(name);
  logger("worker")->info("connector {} {}", name, exists ? "updated" : "created");
  return !exists;
}

Result<void> StandaloneWorker::delete_connector(std::string_view name_view) {
  std::string name(name_view);
  std::lock_guard life(lifecycle_mutex_);
  RMQC_ASSIGN_OR_RETURN(Running * r, slot(name));
  stop_connector(*r, false);
  {
    std::lock_guard lock(state_mutex_);
    connectors_.erase(name);
  }
  RMQC_RETURN_IF_ERROR(store_->remove_connector(name));
  logger("worker")->info("connector {} deleted", name);
  return {};
}

Result<void> StandaloneWorker::set_target_state(std::string_view name_view, TargetState state) {
  std::string name(name_view);
  std::lock_guard life(lifecycle_mutex_);
  RMQC_ASSIGN_OR_RETURN(Running * r, slot(name));
  TargetState before = r->target;
  RMQC_RETURN_IF_ERROR(store_->put_target_state(name, state));
  {
    std::lock_guard lock(state_mutex_);
    r->target = state;
  }
  if (state == TargetState::kStopped) {
    stop_connector(*r, true);
    std::lock_guard lock(state_mutex_);
    r->state = RunState::kStopped;
  } else if (before == TargetState::kStopped || !r->connector) {
    (void)start_connector(name, *r);
  } else {
    std::lock_guard lock(state_mutex_);
    for (auto& t : r->tasks) t->set_paused(state == TargetState::kPaused);
    if (r->state != RunState::kFailed) {
      r->state = state == TargetState::kPaused ? RunState::kPaused : RunState::kRunning;
    }
  }
  persist_status(name);
  return {};
}

Result<void> StandaloneWorker::restart_connector(std::string_view name_view, bool include_tasks,
                                                 bool only_failed) {
  std::string name(name_view);
  std::lock_guard life(lifecycle_mutex_);
  RMQC_ASSIGN_OR_RETURN(Running * r, slot(name));
  if (include_tasks && only_failed && r->state != RunState::kFailed) {
    // Only the failed tasks: restart each in place.
    std::vector<int> failed;
    {
      std::lock_guard lock(state_mutex_);
      for (auto& t : r->tasks) {
        if (t->state().state == RunState::kFailed) failed.push_back(t->id());
      }
      for (auto& [id, s] : r->stopped_task_states) {
        if (s.state == RunState::kFailed) failed.push_back(id);
      }
    }
    for (int id : failed) (void)restart_task_locked(name, id);
    return {};
  }
  if (!include_tasks && only_failed && r->state != RunState::kFailed) return {};
  stop_connector(*r, false);
  auto s = start_connector(name, *r);
  persist_status(name);
  if (!s.ok()) logger("worker")->error("restarting {}: {}", name, s.error().message());
  return {};
}

Result<void> StandaloneWorker::restart_task(std::string_view name_view, int id) {
  std::lock_guard life(lifecycle_mutex_);
  return restart_task_locked(std::string(name_view), id);
}

Result<void> StandaloneWorker::restart_task_locked(const std::string& name, int id) {
  RMQC_ASSIGN_OR_RETURN(Running * r, slot(name));
  std::shared_ptr<WorkerTask> old;
  {
    std::lock_guard lock(state_mutex_);
    if (id < 0 || id >= static_cast<int>(r->task_configs.size())) {
      return Error(ErrorCode::kNotFound,
                   "Task " + std::to_string(id) + " of connector " + name + " not found");
    }
    for (auto& t : r->tasks) {
      if (t->id() == id) old = t;
    }
  }
  if (!r->connector)
    return Error(ErrorCode::kInvalidArgument, "connector " + name + " is not running");
  if (old) old->stop(options_.config.max_stop_timeout);
  auto task = make_task(name, *r, id);
  std::lock_guard lock(state_mutex_);
  std::erase_if(r->tasks, [&](const auto& t) { return t->id() == id; });
  if (!task.ok()) {
    r->stopped_task_states[id] =
        TaskState{id, RunState::kFailed, options_.config.worker_id, task.error().message()};
    return std::move(task).error();
  }
  r->stopped_task_states.erase(id);
  if (r->target == TargetState::kPaused) (*task)->set_paused(true);
  (*task)->start();
  r->tasks.push_back(std::move(task).value());
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
    std::lock_guard lock(state_mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) {
      return not_found(name);
    }
    if (it->second.type == ConnectorType::kSource) offsets = store_->positions(name);
    for (const auto& t : it->second.tasks) {
      for (auto& [p, o] : t->committed_offsets()) offsets[p] = o;
    }
  }
  std::vector<SourceOffset> out;
  for (auto& [p, o] : offsets) out.push_back(SourceOffset{p, o});
  return out;
}

std::vector<plugins::PluginEntry> StandaloneWorker::plugins() const {
  return options_.registry->list();
}

Result<std::size_t> StandaloneWorker::reload_plugins() {
  if (!options_.reload_plugins) return std::size_t{0};
  return options_.reload_plugins();
}

}  // namespace rmqc::runtime
