#include "runtime/local_worker.h"

#include "rmqc/api/errors.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "converters/converter_factory.h"
#include "runtime/direct_task.h"
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

class ConnectorContextImpl final : public ConnectorContext {
 public:
  ConnectorContextImpl(std::string name, LocalWorker::ConnectorCallbacks callbacks)
      : name_(std::move(name)), callbacks_(std::move(callbacks)) {}
  void request_task_reconfiguration() override {
    if (callbacks_.on_reconfigure) callbacks_.on_reconfigure();
  }
  void raise_error(const std::string& message) override {
    if (callbacks_.on_error) callbacks_.on_error(message);
  }
  std::string_view connector_name() const override { return name_; }

 private:
  std::string name_;
  LocalWorker::ConnectorCallbacks callbacks_;
};

}  // namespace

rocketmq::ClientConfig worker_client_config(const config::WorkerConfig& c,
                                            const std::string& namesrv) {
  rocketmq::ClientConfig client;
  client.namesrv_addr = namesrv;
  if (c.acl_enable) {
    client.access_key = c.access_key;
    client.secret_key = c.secret_key;
  }
  client.request_timeout = c.operation_timeout;
  client.serialize_type =
      c.binary_headers ? rocketmq::SerializeType::ROCKETMQ : rocketmq::SerializeType::JSON;
  return client;
}

Result<void> call_plugin(std::function<void()> fn, std::chrono::milliseconds timeout,
                         const std::string& what) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(fn));
  auto done = task->get_future();
  std::thread([task] {
    set_thread_name("plugin-call");
    (*task)();
  }).detach();
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
                "Sink connectors: consumer group (default connect-<connector name>; "
                "connector-consumer-group-<connector name> for a sink created with seed 001's "
                "RocketMQSinkConnector class or rocketmq.topics key).")
        .define(
            "consume.from.where", T::kString, "CONSUME_FROM_LAST_OFFSET", I::kLow,
            "Sink connectors: where a new group starts: CONSUME_FROM_LAST_OFFSET or "
            "CONSUME_FROM_FIRST_OFFSET.",
            validators::one_of({"CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_FIRST_OFFSET"}, false))
        .define("transforms", T::kList, "", I::kMedium,
                "Aliases of the transforms to apply, in order (see docs/transforms.md).")
        .define(std::string(kDirectEnableKey), T::kBoolean, "false", I::kMedium,
                "Run each task as a source task writing straight into a sink task, with no "
                "broker in between (source.task.class, sink.task.class; "
                "docs/connector-sdk.md#direct-tasks).")
        .define(std::string(kSourceTaskClassKey), T::kString, "", I::kMedium,
                "Direct connectors: the source task (its class name, simple name, or its "
                "connector's class name or alias).")
        .define(std::string(kSinkTaskClassKey), T::kString, "", I::kMedium,
                "Direct connectors: the sink task (its class name, simple name, or its "
                "connector's class name or alias).");
    d.merge(error_config_def());
    return d;
  }();
  return def;
}

LocalWorker::LocalWorker(Options options)
    : options_(std::move(options)), providers_(options_.config) {}

LocalWorker::~LocalWorker() {
  stop_all();
}

ConnectorType LocalWorker::type_of(const KeyValue& config) const {
  // A direct connector keeps source positions, whatever connector.class splits its work.
  if (direct_enabled(config)) return ConnectorType::kSource;
  const auto* entry = options_.registry->find(config.get_string("connector.class"));
  return entry && entry->kind == PluginKind::kSinkConnector ? ConnectorType::kSink
                                                            : ConnectorType::kSource;
}

Result<std::shared_ptr<Connector>> LocalWorker::create_connector(const KeyValue& config) const {
  const std::string klass = config.get_string("connector.class");
  const auto* entry = options_.registry->find(klass);
  if (entry && entry->kind == PluginKind::kSinkConnector) {
    RMQC_ASSIGN_OR_RETURN(auto c, options_.registry->create_sink_connector(klass));
    return std::shared_ptr<Connector>(std::move(c));
  }
  RMQC_ASSIGN_OR_RETURN(auto c, options_.registry->create_source_connector(klass));
  return std::shared_ptr<Connector>(std::move(c));
}

Result<ValidationResult> LocalWorker::validate(const KeyValue& config) const {
  ValidationResult v;
  v.plugin = config.get_string("connector.class");
  ConfigDef def = runtime_connector_def();
  std::shared_ptr<Connector> connector;
  if (const auto* entry = options_.registry->find(v.plugin);
      entry &&
      (entry->kind == PluginKind::kSourceConnector || entry->kind == PluginKind::kSinkConnector)) {
    if (auto c = create_connector(config); c.ok()) connector = std::move(c).value();
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
  const bool direct = direct_enabled(config);
  if (direct) {
    for (auto [key, kind] : {std::pair{kSourceTaskClassKey, PluginKind::kSourceConnector},
                             std::pair{kSinkTaskClassKey, PluginKind::kSinkConnector}}) {
      if (auto f = find_task_factory(*options_.registry, config.get_string(key), kind); !f.ok()) {
        add_error(key, f.error().message());
      }
    }
  }
  bool sink = connector && dynamic_cast<SinkConnector*>(connector.get()) != nullptr;
  if (sink && !direct && split_list(config.get_string("connect.topicnames")).empty()) {
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

std::string seed_consumer_group(std::string_view connector_name) {
  return "connector-consumer-group-" + std::string(connector_name);
}

KeyValue normalize_legacy_keys(KeyValue config, const plugins::PluginRegistry& registry,
                               std::string_view connector_name) {
  static constexpr std::string_view kSeedSinkClass =
      "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector";
  const bool seed_sink_keys = config.contains("rocketmq.topics");
  struct Rename {
    std::string_view legacy;
    std::string_view current;
    bool sink_only;
  };
  static constexpr Rename kRenames[] = {{"connector-class", "connector.class", false},
                                        {"tasks.num", "max.tasks", false},
                                        {"rocketmq.topics", "connect.topicnames", true}};
  for (const auto& r : kRenames) {
    const std::string* legacy = config.find(r.legacy);
    if (legacy == nullptr) continue;
    if (r.sink_only) {
      const auto* entry = registry.find(config.get_string("connector.class"));
      if (entry == nullptr || entry->kind != PluginKind::kSinkConnector) continue;
    }
    if (config.contains(r.current)) {
      logger("worker")->warn("connector config: legacy key {} ignored, {} is set", r.legacy,
                             r.current);
    } else {
      logger("worker")->warn("connector config: key {} is deprecated, use {}", r.legacy, r.current);
      config.put(std::string(r.current), *legacy);
    }
    config.erase(r.legacy);
  }
  // Seed 001 names a sink's RocketMQ consumer group connector-consumer-group-<name>.
  if (!connector_name.empty() && !config.contains("task.group.id") &&
      (seed_sink_keys || config.get_string("connector.class") == kSeedSinkClass)) {
    const auto* entry = registry.find(config.get_string("connector.class"));
    if (entry != nullptr && entry->kind == PluginKind::kSinkConnector) {
      config.put("task.group.id", seed_consumer_group(connector_name));
      logger("worker")->info("connector {}: seed 001 config, consumer group {}", connector_name,
                             config.get_string("task.group.id"));
    }
  }
  return config;
}

Result<void> LocalWorker::check(KeyValue& config, std::string_view name) const {
  config = normalize_legacy_keys(std::move(config), *options_.registry, name);
  RMQC_ASSIGN_OR_RETURN(ValidationResult v, validate(config));
  if (v.error_count == 0) return {};
  std::string message;
  for (const auto& r : v.results) {
    for (const auto& e : r.errors) message += (message.empty() ? "" : "; ") + e;
  }
  for (const auto& e : v.other_errors) message += (message.empty() ? "" : "; ") + e;
  return Error(ErrorCode::kInvalidConfig, "Connector configuration is invalid: " + message);
}

Result<ValidationResult> LocalWorker::validate_for_plugin(std::string_view plugin,
                                                          KeyValue config) const {
  config = normalize_legacy_keys(std::move(config), *options_.registry);
  if (!config.contains("connector.class")) config.put("connector.class", std::string(plugin));
  return validate(config);
}

Result<void> LocalWorker::start_connector(const std::string& name, const KeyValue& config,
                                          ConnectorCallbacks callbacks) {
  // The plugin gets the config with its ${...} references resolved; the instance keeps both.
  auto secrets = std::make_shared<SecretScrubber>();
  auto resolved = providers_.resolve(config, secrets.get());
  if (!resolved.ok()) {
    std::lock_guard lock(mutex_);
    auto& slot = connectors_[name];
    slot = ConnectorInstance{};
    slot.config = config;
    slot.status = {RunState::kFailed, "config provider: " + resolved.error().message()};
    return std::move(resolved).error().with_context("config provider");
  }
  auto created = create_connector(*resolved);
  if (!created.ok()) {
    std::lock_guard lock(mutex_);
    auto& slot = connectors_[name];
    slot = ConnectorInstance{};
    slot.config = config;
    slot.status = {RunState::kFailed, created.error().message()};
    return std::move(created).error();
  }
  std::shared_ptr<Connector> connector = std::move(created).value();
  auto context = std::make_shared<ConnectorContextImpl>(name, std::move(callbacks));
  {
    // Registered before start(): the connector may raise an error from inside start().
    std::lock_guard lock(mutex_);
    auto& slot = connectors_[name];
    slot = ConnectorInstance{};
    slot.config = config;
    slot.resolved = *resolved;
    slot.secrets = secrets;
    slot.connector = connector;
    slot.context = context;
    slot.status.state = RunState::kRunning;
  }
  auto started = call_plugin(
      [connector, context, plugin_config = *resolved] {
        connector->init(*context);
        connector->start(plugin_config);
      },
      options_.config.max_start_timeout, "connector start()");
  if (!started.ok()) {
    // A plugin's message may quote a resolved secret.
    std::string trace = secrets->scrub(started.error().message());
    fail_connector(name, trace);
    return Error(started.error().code(), std::move(trace));
  }
  return {};
}

void LocalWorker::stop_connector(const std::string& name) {
  std::shared_ptr<Connector> connector;
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return;
    connector = std::move(it->second.connector);
    connectors_.erase(it);
  }
  if (!connector) return;
  if (auto s = call_plugin([connector] { connector->stop(); }, options_.config.max_stop_timeout,
                           "connector stop()");
      !s.ok()) {
    logger("worker")->warn("connector {}: {}", name, s.error().message());
  }
}

std::optional<LocalWorker::ConnectorStatus> LocalWorker::connector_status(
    const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second.status;
}

void LocalWorker::fail_connector(const std::string& name, std::string trace) {
  std::lock_guard lock(mutex_);
  if (auto it = connectors_.find(name); it != connectors_.end()) {
    // raise_error() and task_configs() messages may quote a resolved secret.
    if (it->second.secrets) trace = it->second.secrets->scrub(std::move(trace));
    it->second.status = {RunState::kFailed, std::move(trace)};
  }
}

Result<std::vector<KeyValue>> LocalWorker::task_configs(const std::string& name, int max_tasks) {
  std::shared_ptr<Connector> connector;
  KeyValue raw;
  KeyValue resolved;
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end() || !it->second.connector) {
      return Error(ErrorCode::kInvalidArgument, "connector " + name + " is not running here");
    }
    if (it->second.status.state == RunState::kFailed) {
      return Error(ErrorCode::kInvalidArgument, "connector " + name + " failed");
    }
    connector = it->second.connector;
    raw = it->second.config;
    if (providers_.enabled()) resolved = it->second.resolved;
  }
  auto configs = std::make_shared<std::vector<KeyValue>>();
  auto asked = call_plugin(
      [connector, configs, max_tasks] { *configs = connector->task_configs(max_tasks); },
      options_.config.max_start_timeout, "task_configs()");
  if (!asked.ok()) {
    fail_connector(name, asked.error().message());
    return std::move(asked).error();
  }
  if (static_cast<int>(configs->size()) > max_tasks) configs->resize(max_tasks);
  for (std::size_t i = 0; i < configs->size(); ++i) {
    // Task configs are stored and shown: the secrets they got from the connector's resolved
    // config become ${...} references again (resolved when the task starts).
    if (providers_.enabled()) {
      (*configs)[i] = providers_.unresolve(std::move((*configs)[i]), raw, resolved);
    }
    (*configs)[i].put("task.id", static_cast<std::int64_t>(i));
    (*configs)[i].put("task.class", connector->task_class());
    (*configs)[i].put("connector.name", name);
    if (direct_enabled(raw)) stamp_direct_task_config((*configs)[i], raw);
  }
  return std::move(*configs);
}

Result<std::shared_ptr<WorkerTask>> LocalWorker::make_task(const TaskId& id,
                                                           const KeyValue& raw_connector_config,
                                                           const KeyValue& raw_task_config) {
  // The task (and its converters and transforms) get the configs with ${...} resolved.
  auto secrets = std::make_shared<SecretScrubber>();
  auto resolved_connector = providers_.resolve(raw_connector_config, secrets.get());
  if (!resolved_connector.ok()) {
    return std::move(resolved_connector).error().with_context("config provider");
  }
  auto resolved_task = providers_.resolve(raw_task_config, secrets.get());
  if (!resolved_task.ok()) {
    return std::move(resolved_task).error().with_context("config provider");
  }
  const KeyValue& connector_config = *resolved_connector;
  const KeyValue& task_config = *resolved_task;
  TaskSetup setup;
  setup.connector = id.connector;
  setup.task_id = id.task;
  setup.worker_id = options_.config.worker_id;
  setup.connector_config = connector_config;
  setup.task_config = task_config;
  if (!secrets->empty()) setup.secrets = secrets;
  std::shared_ptr<Connector> factory;
  // A direct task (task.type=DIRECT): its source and sink tasks come from the connectors that
  // create them, each started with its side's config.
  std::unique_ptr<SinkTask> direct_sink;
  KeyValue direct_sink_config;
  if (is_direct_task(task_config)) {
    RMQC_ASSIGN_OR_RETURN(
        factory, find_task_factory(*options_.registry, task_config.get_string(kSourceTaskClassKey),
                                   PluginKind::kSourceConnector));
    RMQC_ASSIGN_OR_RETURN(
        auto sink_factory,
        find_task_factory(*options_.registry, task_config.get_string(kSinkTaskClassKey),
                          PluginKind::kSinkConnector));
    try {
      std::unique_ptr<Task> t = sink_factory->create_task();
      direct_sink.reset(dynamic_cast<SinkTask*>(t.get()));
      if (direct_sink) (void)t.release();
    } catch (...) {
      return Error(ErrorCode::kInternal,
                   "create_task() failed: " + exception_text(std::current_exception()));
    }
    if (!direct_sink) return Error(ErrorCode::kInternal, "the sink connector created no sink task");
    direct_sink_config = direct_side_config(task_config, kDirectSinkPrefix);
    setup.task_config = direct_side_config(task_config, kDirectSourcePrefix);
  }
  if (!factory) {
    std::lock_guard lock(mutex_);
    if (auto it = connectors_.find(id.connector); it != connectors_.end()) {
      factory = it->second.connector;
    }
  }
  if (!factory) {
    RMQC_ASSIGN_OR_RETURN(factory, create_connector(connector_config));
  }
  try {
    setup.task = factory->create_task();
  } catch (...) {
    return Error(ErrorCode::kInternal,
                 "create_task() failed: " + exception_text(std::current_exception()));
  }
  if (!setup.task) return Error(ErrorCode::kInternal, "the connector created no task");
  RMQC_ASSIGN_OR_RETURN(setup.key_converter,
                        converters::make_converter(*options_.registry, connector_config, true,
                                                   options_.config.key_converter));
  RMQC_ASSIGN_OR_RETURN(setup.value_converter,
                        converters::make_converter(*options_.registry, connector_config, false,
                                                   options_.config.value_converter));
  RMQC_ASSIGN_OR_RETURN(setup.chain,
                        transforms::TransformChain::build(connector_config, *options_.registry));
  RMQC_ASSIGN_OR_RETURN(setup.errors, parse_error_config(connector_config));
  setup.producer = options_.producer;
  setup.store = options_.positions;
  setup.commit_interval = options_.config.offset_commit_interval;
  setup.commit_timeout = options_.config.offset_commit_timeout;
  setup.message_logging = &message_logging_;
  setup.metrics_enabled = options_.config.metrics_enabled;
  // (The consumer's requests keep the client's default timeout, as before.)
  auto timeout = setup.client.request_timeout;
  setup.client = worker_client_config(options_.config, options_.namesrv_addr);
  setup.client.request_timeout = timeout;
  std::shared_ptr<WorkerTask> task;
  if (direct_sink) {
    if (!dynamic_cast<SourceTask*>(setup.task.get())) {
      return Error(ErrorCode::kInternal, "the source connector created no source task");
    }
    task = std::make_shared<WorkerDirectTask>(std::move(setup), std::move(direct_sink),
                                              std::move(direct_sink_config));
  } else if (type_of(connector_config) == ConnectorType::kSink) {
    task = std::make_shared<WorkerSinkTask>(std::move(setup));
  } else {
    task = std::make_shared<WorkerSourceTask>(std::move(setup));
  }
  return task;
}

Result<void> LocalWorker::start_task(const TaskId& id, const KeyValue& connector_config,
                                     const KeyValue& task_config, bool paused) {
  auto made = make_task(id, connector_config, task_config);
  if (!made.ok()) {
    // The message (a converter's or transform's complaint) may quote a resolved value.
    SecretScrubber secrets;
    (void)providers_.resolve(connector_config, &secrets);
    (void)providers_.resolve(task_config, &secrets);
    return Error(made.error().code(), secrets.scrub(made.error().message()),
                 made.error().is_retriable(), made.error().is_fatal());
  }
  std::shared_ptr<WorkerTask> task = std::move(made).value();
  if (paused) task->set_paused(true);
  std::shared_ptr<WorkerTask> old;
  {
    std::lock_guard lock(mutex_);
    auto& slot = tasks_[id];
    old = std::exchange(slot, task);
  }
  // A second start of the same task replaces the first (the caller should have stopped it).
  if (old) old->stop(options_.config.max_stop_timeout);
  task->start();
  return {};
}

std::vector<TaskState> LocalWorker::stop_tasks(const std::vector<TaskId>& ids) {
  std::vector<std::shared_ptr<WorkerTask>> stopping;
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
      auto it = tasks_.find(id);
      if (it == tasks_.end()) continue;
      stopping.push_back(std::move(it->second));
      tasks_.erase(it);
    }
  }
  if (stopping.empty()) return {};
  // In parallel, under one deadline: stopping n tasks takes as long as the slowest, not the sum
  // (a connector with many tasks no longer holds its coordinator for n stop timeouts).
  const auto deadline = std::chrono::steady_clock::now() + options_.config.max_stop_timeout;
  auto remaining = [deadline] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  if (stopping.size() == 1) {
    stopping[0]->stop(remaining());
  } else {
    std::vector<std::thread> stoppers;
    stoppers.reserve(stopping.size());
    for (auto& t : stopping) {
      stoppers.emplace_back([&t, &remaining] {
        set_thread_name("task-stop");
        t->stop(remaining());
      });
    }
    for (auto& s : stoppers) s.join();
  }
  std::vector<TaskState> out;
  out.reserve(stopping.size());
  for (const auto& t : stopping) out.push_back(t->state());
  return out;
}

void LocalWorker::set_paused(const std::string& connector, bool paused) {
  std::lock_guard lock(mutex_);
  for (auto it = tasks_.lower_bound(TaskId{connector, std::numeric_limits<int>::min()});
       it != tasks_.end() && it->first.connector == connector; ++it) {
    it->second->set_paused(paused);
  }
}

std::vector<TaskId> LocalWorker::tasks(const std::string& connector) const {
  std::lock_guard lock(mutex_);
  std::vector<TaskId> out;
  for (auto it = tasks_.lower_bound(TaskId{connector, std::numeric_limits<int>::min()});
       it != tasks_.end() && it->first.connector == connector; ++it) {
    out.push_back(it->first);
  }
  return out;
}

std::vector<TaskId> LocalWorker::all_tasks() const {
  std::lock_guard lock(mutex_);
  std::vector<TaskId> out;
  for (const auto& [id, t] : tasks_) out.push_back(id);
  return out;
}

std::vector<TaskState> LocalWorker::task_states(const std::string& connector) const {
  std::lock_guard lock(mutex_);
  std::vector<TaskState> out;
  for (auto it = tasks_.lower_bound(TaskId{connector, std::numeric_limits<int>::min()});
       it != tasks_.end() && it->first.connector == connector; ++it) {
    out.push_back(it->second->state());
  }
  return out;
}

std::vector<TaskMetricsSnapshot> LocalWorker::task_metrics() const {
  std::vector<std::shared_ptr<WorkerTask>> tasks;
  {
    std::lock_guard lock(mutex_);
    tasks.reserve(tasks_.size());
    for (const auto& [id, t] : tasks_) tasks.push_back(t);
  }
  std::vector<TaskMetricsSnapshot> out;
  out.reserve(tasks.size());
  for (const auto& t : tasks) out.push_back(t->metrics());
  return out;
}

OffsetMap LocalWorker::committed_offsets(const std::string& connector) const {
  std::lock_guard lock(mutex_);
  OffsetMap out;
  for (auto it = tasks_.lower_bound(TaskId{connector, std::numeric_limits<int>::min()});
       it != tasks_.end() && it->first.connector == connector; ++it) {
    for (auto& [p, o] : it->second->committed_offsets()) out[p] = o;
  }
  return out;
}

void LocalWorker::check_start_timeouts() {
  std::lock_guard lock(mutex_);
  for (const auto& [id, t] : tasks_) t->fail_if_start_timed_out(options_.config.max_start_timeout);
}

void LocalWorker::stop_all() {
  (void)stop_tasks(all_tasks());
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, c] : connectors_) names.push_back(name);
  }
  for (const auto& name : names) stop_connector(name);
}

}  // namespace rmqc::runtime
