#include "runtime/storage/topic_stores.h"

#include "base/file_util.h"
#include "base/logging.h"
#include "runtime/storage/json_codec.h"
#include "runtime/storage/position_key.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace rmqc::runtime {
namespace {

using json = nlohmann::json;
using namespace json_codec;

constexpr std::size_t kMaxRememberedRejections = 1024;

Result<json> parse_value(const LogRecord& record) {
  if (record.value.empty()) return json::object();
  try {
    auto j = json::parse(record.value);
    if (!j.is_object()) return Error(ErrorCode::kParseError, "not a JSON object");
    return j;
  } catch (const json::exception& e) {
    return Error(ErrorCode::kParseError, e.what());
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

json tasks_to_json(const std::vector<KeyValue>& tasks) {
  json a = json::array();
  for (const auto& t : tasks) a.push_back(kv_to_json(t));
  return a;
}

std::vector<KeyValue> tasks_from_json(const json& j) {
  std::vector<KeyValue> out;
  if (j.is_array()) {
    for (const auto& t : j) out.push_back(kv_from_json(t));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TopicStoreBase

namespace detail {

TopicStoreBase::TopicStoreBase(TopicStoreOptions options, std::string cache_file,
                               std::string thread_name)
    : options_(std::move(options)),
      cache_path_(options_.cache_dir + "/" + cache_file),
      thread_name_(std::move(thread_name)) {}

TopicStoreBase::~TopicStoreBase() {
  // The derived destructor closed the store already (apply() is gone by now).
  if (log_) log_->stop();
}

Result<void> TopicStoreBase::start() {
  if (options_.worker_id.empty())
    return Error(ErrorCode::kInvalidArgument, "topic store: no worker id");
  RMQC_RETURN_IF_ERROR(make_dirs(options_.cache_dir));
  auto text = read_file(cache_path_);
  if (text.ok()) {
    if (auto loaded = load_cache(*text); !loaded.ok()) {
      // The topic is the truth; the cache only gives a head start.
      logger("storage")->warn("ignoring the cache {}: {}", cache_path_, loaded.error().to_string());
    }
  } else if (text.error().code() != ErrorCode::kNotFound) {
    logger("storage")->warn("ignoring the cache {}: {}", cache_path_, text.error().to_string());
  }
  TopicLogOptions lo;
  lo.client = options_.client;
  lo.topic = options_.topic;
  lo.worker_id = options_.worker_id;
  lo.thread_name = thread_name_;
  lo.read_timeout = options_.read_timeout;
  lo.apply_timeout = options_.apply_timeout;
  RMQC_ASSIGN_OR_RETURN(log_,
                        TopicLog::open(
                            lo, [this](const LogRecord& r) { apply(r); }, [this] { on_idle(); }));
  started_.store(true);
  if (dirty_.load()) {
    if (auto r = flush_cache(); !r.ok()) {
      logger("storage")->warn("writing the cache {}: {}", cache_path_, r.error().to_string());
    }
  }
  return {};
}

void TopicStoreBase::close() {
  if (!log_) return;
  log_->stop();
  if (started_.exchange(false) && dirty_.load()) {
    if (auto r = flush_cache(); !r.ok()) {
      logger("storage")->warn("writing the cache {}: {}", cache_path_, r.error().to_string());
    }
  }
}

void TopicStoreBase::on_idle() {
  if (!started_.load() || !dirty_.load()) return;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mutex_);
    if (now - last_cache_write_ < options_.cache_interval) return;
  }
  if (auto r = flush_cache(); !r.ok()) {
    logger("storage")->warn("writing the cache {}: {}", cache_path_, r.error().to_string());
  }
}

Result<void> TopicStoreBase::flush_cache() {
  std::lock_guard lock(cache_mutex_);
  dirty_.store(false);
  last_cache_write_ = std::chrono::steady_clock::now();
  auto r = atomic_write_file(cache_path_, cache_snapshot());
  if (!r.ok()) dirty_.store(true);
  return r;
}

Result<void> TopicStoreBase::write(const std::vector<Write>& records) {
  if (records.empty()) return {};
  if (!log_) return Error(ErrorCode::kCancelled, "store not open");
  std::vector<std::int64_t> offsets;
  offsets.reserve(records.size());
  for (const auto& w : records) {
    RMQC_ASSIGN_OR_RETURN(auto offset, log_->append(w.key, w.value, w.deleted));
    offsets.push_back(offset);
  }
  RMQC_RETURN_IF_ERROR(log_->wait_applied(*std::max_element(offsets.begin(), offsets.end())));
  std::optional<Error> first;
  std::lock_guard lock(rejected_mutex_);
  for (auto offset : offsets) {
    auto it = rejected_.find(offset);
    if (it == rejected_.end()) continue;
    if (!first) first = it->second;
    rejected_.erase(it);
  }
  if (first) return *first;
  return {};
}

void TopicStoreBase::reject(const LogRecord& record, Error why) {
  logger("storage")->debug("topic '{}': record {} (key '{}', worker '{}') ignored: {}",
                           options_.topic, record.offset, record.key, record.writer,
                           why.to_string());
  if (record.writer != options_.worker_id) return;
  std::lock_guard lock(rejected_mutex_);
  rejected_.insert_or_assign(record.offset, std::move(why));
  while (rejected_.size() > kMaxRememberedRejections) rejected_.erase(rejected_.begin());
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// TopicConfigStore
//
// Keys: connector-<name> (config, target state, task configs; a deletion when marked deleted),
// target-<name>, tasks-<name>. Values: {"connector", "epoch", "worker", ...}.

namespace {

constexpr std::string_view kConnectorPrefix = "connector-";
constexpr std::string_view kTargetPrefix = "target-";
constexpr std::string_view kTasksPrefix = "tasks-";
constexpr std::string_view kRestartPrefix = "restart-";

}  // namespace

TopicConfigStore::TopicConfigStore(TopicStoreOptions options)
    : TopicStoreBase(std::move(options), "config-cache.json", "cfg-follow") {}

TopicConfigStore::~TopicConfigStore() {
  close();
}

Result<std::unique_ptr<TopicConfigStore>> TopicConfigStore::open(TopicStoreOptions options) {
  std::unique_ptr<TopicConfigStore> store(new TopicConfigStore(std::move(options)));
  RMQC_RETURN_IF_ERROR(store->start());
  return store;
}

void TopicConfigStore::apply(const LogRecord& record) {
  auto parsed = parse_value(record);
  if (!parsed.ok()) {
    logger("storage")->warn("config topic '{}': record {} (key '{}') is not valid: {}", topic(),
                            record.offset, record.key, parsed.error().to_string());
    return;
  }
  const json& v = *parsed;
  const std::string name = v.value("connector", "");
  if (name.empty()) {
    logger("storage")->warn("config topic '{}': record {} (key '{}') names no connector", topic(),
                            record.offset, record.key);
    return;
  }
  const std::int64_t epoch = v.value("epoch", std::int64_t{0});
  {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[name];
    if (epoch < entry.epoch) {
      reject(record, stale_epoch_error(name, epoch, entry.epoch));
      return;
    }
    try {
      if (starts_with(record.key, kConnectorPrefix)) {
        if (record.deleted) {
          entry.connector.reset();
        } else {
          StoredConnector c;
          c.config = kv_from_json(v.at("config"));
          c.target_state = parse_target_state(v.value("targetState", "STARTED"));
          c.task_configs = tasks_from_json(v.value("tasks", json::array()));
          entry.connector = std::move(c);
        }
      } else if (starts_with(record.key, kTargetPrefix) || starts_with(record.key, kTasksPrefix)) {
        if (!entry.connector) {
          reject(record, Error(ErrorCode::kNotFound, "no connector " + name));
          return;
        }
        if (starts_with(record.key, kTargetPrefix)) {
          entry.connector->target_state = parse_target_state(v.value("targetState", "STARTED"));
        } else {
          entry.connector->task_configs = tasks_from_json(v.value("tasks", json::array()));
        }
      } else if (starts_with(record.key, kRestartPrefix)) {
        if (!entry.connector) return;  // a restart of a connector deleted meanwhile
        RestartRequest r;
        r.include_tasks = v.value("includeTasks", false);
        r.only_failed = v.value("onlyFailed", false);
        r.task = v.value("task", -1);
        r.seq = record.offset + 1;  // unique and increasing: the topic's order
        entry.restart = r;
      } else {
        logger("storage")->debug("config topic '{}': unknown key '{}'", topic(), record.key);
        return;
      }
    } catch (const json::exception& e) {
      logger("storage")->warn("config topic '{}': record {} (key '{}') is not valid: {}", topic(),
                              record.offset, record.key, e.what());
      return;
    }
    entry.epoch = epoch;
    if (entry.connector) entry.connector->epoch = epoch;
  }
  mark_dirty();
  listeners_.notify({name});
}

Result<void> TopicConfigStore::request_restart(std::string_view name, RestartRequest request) {
  std::int64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end() || !it->second.connector)
      return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
    epoch = it->second.epoch;  // not a change of the config: the epoch stays
  }
  json v = {{"connector", std::string(name)},
            {"epoch", epoch},
            {"worker", worker_id()},
            {"includeTasks", request.include_tasks},
            {"onlyFailed", request.only_failed},
            {"task", request.task}};
  return write({{std::string(kRestartPrefix) + std::string(name), v.dump()}});
}

std::optional<RestartRequest> TopicConfigStore::restart_request(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.connector) return std::nullopt;
  return it->second.restart;
}

std::int64_t TopicConfigStore::view_epoch(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  return it == entries_.end() ? 0 : it->second.epoch;
}

Result<void> TopicConfigStore::put_connector(std::string_view name,
                                             const StoredConnector& connector) {
  const std::int64_t base = connector.epoch > 0 ? connector.epoch : view_epoch(name);
  json v = {{"connector", std::string(name)},
            {"epoch", base + 1},
            {"worker", worker_id()},
            {"config", kv_to_json(connector.config)},
            {"targetState", std::string(target_state_name(connector.target_state))},
            {"tasks", tasks_to_json(connector.task_configs)}};
  return write({{std::string(kConnectorPrefix) + std::string(name), v.dump()}});
}

Result<void> TopicConfigStore::put_target_state(std::string_view name, TargetState state) {
  std::int64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end() || !it->second.connector)
      return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
    epoch = it->second.epoch;
  }
  json v = {{"connector", std::string(name)},
            {"epoch", epoch + 1},
            {"worker", worker_id()},
            {"targetState", std::string(target_state_name(state))}};
  return write({{std::string(kTargetPrefix) + std::string(name), v.dump()}});
}

Result<void> TopicConfigStore::put_task_configs(std::string_view name,
                                                std::vector<KeyValue> task_configs) {
  std::int64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end() || !it->second.connector)
      return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
    epoch = it->second.epoch;
  }
  json v = {{"connector", std::string(name)},
            {"epoch", epoch + 1},
            {"worker", worker_id()},
            {"tasks", tasks_to_json(task_configs)}};
  return write({{std::string(kTasksPrefix) + std::string(name), v.dump()}});
}

Result<void> TopicConfigStore::remove_connector(std::string_view name) {
  std::int64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end() || !it->second.connector) return {};
    epoch = it->second.epoch;
  }
  json v = {{"connector", std::string(name)}, {"epoch", epoch + 1}, {"worker", worker_id()}};
  return write({{std::string(kConnectorPrefix) + std::string(name), v.dump(), true}});
}

std::map<std::string, StoredConnector> TopicConfigStore::connectors() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, StoredConnector> out;
  for (const auto& [name, e] : entries_) {
    if (e.connector) out.emplace(name, *e.connector);
  }
  return out;
}

std::optional<StoredConnector> TopicConfigStore::connector(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second.connector;
}

int TopicConfigStore::add_listener(Listener listener) {
  return listeners_.add(std::move(listener));
}

void TopicConfigStore::remove_listener(int id) {
  listeners_.remove(id);
}

std::string TopicConfigStore::cache_snapshot() const {
  json connectors = json::object();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : entries_) {
      if (e.connector) {
        connectors[name] = {
            {"epoch", e.epoch},
            {"config", kv_to_json(e.connector->config)},
            {"targetState", std::string(target_state_name(e.connector->target_state))},
            {"tasks", tasks_to_json(e.connector->task_configs)}};
      } else {
        connectors[name] = {{"epoch", e.epoch}, {"deleted", true}};
      }
    }
  }
  return json{{"topic", topic()}, {"connectors", std::move(connectors)}}.dump(2);
}

Result<void> TopicConfigStore::load_cache(std::string_view text) {
  try {
    auto j = json::parse(text);
    std::map<std::string, Entry, std::less<>> entries;
    for (const auto& [name, c] : j.at("connectors").items()) {
      Entry e;
      e.epoch = c.value("epoch", std::int64_t{0});
      if (!c.value("deleted", false)) {
        StoredConnector sc;
        sc.config = kv_from_json(c.at("config"));
        sc.target_state = parse_target_state(c.value("targetState", "STARTED"));
        sc.task_configs = tasks_from_json(c.value("tasks", json::array()));
        sc.epoch = e.epoch;
        e.connector = std::move(sc);
      }
      entries.emplace(name, std::move(e));
    }
    std::lock_guard lock(mutex_);
    entries_ = std::move(entries);
  } catch (const json::exception& e) {
    return Error(ErrorCode::kDataLoss, std::string("corrupt: ") + e.what());
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// TopicPositionStore
//
// Keys: position-<connector>-<canonical partition key> with {"connector", "partition",
// "offset", "worker"}; position-<connector> marked deleted drops all of a connector's positions.

namespace {

constexpr std::string_view kPositionPrefix = "position-";

}  // namespace

TopicPositionStore::TopicPositionStore(TopicStoreOptions options)
    : TopicStoreBase(std::move(options), "positions-cache.json", "pos-follow") {}

TopicPositionStore::~TopicPositionStore() {
  close();
}

Result<std::unique_ptr<TopicPositionStore>> TopicPositionStore::open(TopicStoreOptions options) {
  std::unique_ptr<TopicPositionStore> store(new TopicPositionStore(std::move(options)));
  RMQC_RETURN_IF_ERROR(store->start());
  return store;
}

void TopicPositionStore::apply(const LogRecord& record) {
  auto parsed = parse_value(record);
  if (!parsed.ok() || !starts_with(record.key, kPositionPrefix)) {
    logger("storage")->warn("position topic '{}': record {} (key '{}') is not valid", topic(),
                            record.offset, record.key);
    return;
  }
  const json& v = *parsed;
  const std::string connector = v.value("connector", "");
  try {
    std::lock_guard lock(mutex_);
    if (record.deleted) {
      if (v.contains("partition")) {
        auto it = positions_.find(connector);
        if (it != positions_.end())
          it->second.erase(canonical_partition_key(partition_from_json(v.at("partition"))));
      } else {
        positions_.erase(connector);
      }
    } else {
      RecordPosition p{partition_from_json(v.at("partition")), offset_from_json(v.at("offset"))};
      auto key = canonical_partition_key(p.partition);
      positions_[connector][std::move(key)] = std::move(p);
    }
  } catch (const json::exception& e) {
    logger("storage")->warn("position topic '{}': record {} (key '{}') is not valid: {}", topic(),
                            record.offset, record.key, e.what());
    return;
  }
  mark_dirty();
}

Result<void> TopicPositionStore::put_positions(std::string_view connector,
                                               const OffsetMap& positions) {
  std::vector<Write> writes;
  writes.reserve(positions.size());
  for (const auto& [p, o] : positions) {
    json v = {{"connector", std::string(connector)},
              {"partition", partition_to_json(p)},
              {"offset", offset_to_json(o)},
              {"worker", worker_id()}};
    writes.push_back(
        {std::string(kPositionPrefix) + std::string(connector) + "-" + canonical_partition_key(p),
         v.dump()});
  }
  return write(writes);
}

std::optional<RecordOffset> TopicPositionStore::position(std::string_view connector,
                                                         const RecordPartition& partition) const {
  std::string key = canonical_partition_key(partition);
  std::lock_guard lock(mutex_);
  auto it = positions_.find(connector);
  if (it == positions_.end()) return std::nullopt;
  auto p = it->second.find(key);
  if (p == it->second.end()) return std::nullopt;
  return p->second.offset;
}

OffsetMap TopicPositionStore::positions(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  OffsetMap out;
  auto it = positions_.find(connector);
  if (it == positions_.end()) return out;
  for (const auto& [key, p] : it->second) out[p.partition] = p.offset;
  return out;
}

Result<void> TopicPositionStore::remove_positions(std::string_view connector) {
  json v = {{"connector", std::string(connector)}, {"worker", worker_id()}};
  return write({{std::string(kPositionPrefix) + std::string(connector), v.dump(), true}});
}

std::string TopicPositionStore::cache_snapshot() const {
  json out = json::object();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, m] : positions_) {
      json list = json::array();
      for (const auto& [key, p] : m) {
        list.push_back(
            {{"partition", partition_to_json(p.partition)}, {"offset", offset_to_json(p.offset)}});
      }
      out[name] = std::move(list);
    }
  }
  return json{{"topic", topic()}, {"positions", std::move(out)}}.dump();
}

Result<void> TopicPositionStore::load_cache(std::string_view text) {
  try {
    auto j = json::parse(text);
    std::map<std::string, std::map<std::string, RecordPosition>, std::less<>> positions;
    for (const auto& [name, list] : j.at("positions").items()) {
      auto& m = positions[name];
      for (const auto& e : list) {
        RecordPosition p{partition_from_json(e.at("partition")), offset_from_json(e.at("offset"))};
        m[canonical_partition_key(p.partition)] = std::move(p);
      }
    }
    std::lock_guard lock(mutex_);
    positions_ = std::move(positions);
  } catch (const json::exception& e) {
    return Error(ErrorCode::kDataLoss, std::string("corrupt: ") + e.what());
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// TopicStatusStore
//
// Keys: status-<connector> {"connector", "type", "state", "workerId", "trace", "generation",
// "tasks": [ids], "worker"} and status-<connector>-<task> {"connector", "task", "state",
// "workerId", "trace", "generation", "worker"}; status-<connector> marked deleted (with the
// generation) drops the connector's statuses.

namespace {

constexpr std::string_view kStatusPrefix = "status-";

Error stale_generation_error(std::string_view what, std::int64_t generation, std::int64_t applied) {
  return Error(ErrorCode::kAlreadyExists,
               "status of " + std::string(what) + " was written by generation " +
                   std::to_string(applied) + "; this write's generation " +
                   std::to_string(generation) + " is older (this worker's view is outdated)");
}

}  // namespace

TopicStatusStore::TopicStatusStore(TopicStoreOptions options)
    : TopicStoreBase(std::move(options), "status-cache.json", "status-follow") {}

TopicStatusStore::~TopicStatusStore() {
  close();
}

Result<std::unique_ptr<TopicStatusStore>> TopicStatusStore::open(TopicStoreOptions options) {
  std::unique_ptr<TopicStatusStore> store(new TopicStatusStore(std::move(options)));
  RMQC_RETURN_IF_ERROR(store->start());
  return store;
}

void TopicStatusStore::apply(const LogRecord& record) {
  auto parsed = parse_value(record);
  if (!parsed.ok() || !starts_with(record.key, kStatusPrefix)) {
    logger("storage")->warn("status topic '{}': record {} (key '{}') is not valid", topic(),
                            record.offset, record.key);
    return;
  }
  const json& v = *parsed;
  const std::string name = v.value("connector", "");
  const std::int64_t generation = v.value("generation", std::int64_t{0});
  try {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[name];
    if (record.deleted) {
      entry.connector.reset();
      entry.tasks.clear();
      entry.generation = std::max(entry.generation, generation);
      entry.floor = std::max(entry.floor, generation);
    } else if (v.contains("task")) {
      const int id = v.at("task").get<int>();
      auto it = entry.tasks.find(id);
      const std::int64_t applied =
          std::max(entry.floor, it == entry.tasks.end() ? 0 : it->second.generation);
      if (generation < applied) {
        reject(record,
               stale_generation_error(name + " task " + std::to_string(id), generation, applied));
        return;
      }
      if (v.contains("expect")) {
        // A claim: it holds only if the task's holder is the one the claimant saw.
        const std::string holder = it == entry.tasks.end() ? "" : it->second.state.worker_id;
        const std::string expected = v.at("expect").get<std::string>();
        if (holder != expected) {
          reject(record, Error(ErrorCode::kAlreadyExists,
                               "task " + std::to_string(id) + " of " + name +
                                   " is held by worker '" + holder + "', not '" + expected + "'"));
          return;
        }
      }
      TaskState t = task_state_from_json(v);
      t.id = id;
      entry.tasks[id] = TaskEntry{std::move(t), generation};
    } else {
      if (generation < entry.generation) {
        reject(record, stale_generation_error(name, generation, entry.generation));
        return;
      }
      ConnectorState st;
      st.name = name;
      st.type = parse_connector_type(v.value("type", "UNKNOWN"));
      st.state = parse_run_state(v.value("state", "UNASSIGNED"));
      st.worker_id = v.value("workerId", "");
      if (v.contains("trace") && v["trace"].is_string()) st.trace = v["trace"].get<std::string>();
      entry.connector = std::move(st);
      entry.generation = generation;
      // Tasks the connector no longer lists go, unless a newer generation wrote them (a record
      // without a task list, put_connector_status's, leaves the tasks alone).
      std::set<int> listed;
      for (const auto& id : v.value("tasks", json::array())) listed.insert(id.get<int>());
      for (auto it = entry.tasks.begin(); v.contains("tasks") && it != entry.tasks.end();) {
        if (!listed.contains(it->first) && it->second.generation <= generation) {
          it = entry.tasks.erase(it);
        } else {
          ++it;
        }
      }
    }
  } catch (const json::exception& e) {
    logger("storage")->warn("status topic '{}': record {} (key '{}') is not valid: {}", topic(),
                            record.offset, record.key, e.what());
    return;
  }
  mark_dirty();
}

Result<void> TopicStatusStore::put_status(const ConnectorState& state, std::int64_t generation) {
  std::vector<Write> writes;
  json ids = json::array();
  for (const auto& t : state.tasks) ids.push_back(t.id);
  json c = {{"connector", state.name},
            {"type", std::string(connector_type_name(state.type))},
            {"state", std::string(run_state_name(state.state))},
            {"workerId", state.worker_id},
            {"trace", state.trace ? json(*state.trace) : json(nullptr)},
            {"generation", generation},
            {"tasks", std::move(ids)},
            {"worker", worker_id()}};
  writes.push_back({std::string(kStatusPrefix) + state.name, c.dump()});
  for (const auto& t : state.tasks) {
    json v = task_state_to_json(t);
    v.erase("id");
    v["connector"] = state.name;
    v["task"] = t.id;
    v["generation"] = generation;
    v["worker"] = worker_id();
    writes.push_back(
        {std::string(kStatusPrefix) + state.name + "-" + std::to_string(t.id), v.dump()});
  }
  return write(writes);
}

Result<void> TopicStatusStore::put_connector_status(const ConnectorState& state,
                                                    std::int64_t generation) {
  json c = {{"connector", state.name},
            {"type", std::string(connector_type_name(state.type))},
            {"state", std::string(run_state_name(state.state))},
            {"workerId", state.worker_id},
            {"trace", state.trace ? json(*state.trace) : json(nullptr)},
            {"generation", generation},
            {"worker", worker_id()}};
  return write({{std::string(kStatusPrefix) + state.name, c.dump()}});
}

Result<void> TopicStatusStore::put_task_status(std::string_view connector, const TaskState& task,
                                               std::int64_t generation) {
  json v = task_state_to_json(task);
  v.erase("id");
  v["connector"] = std::string(connector);
  v["task"] = task.id;
  v["generation"] = generation;
  v["worker"] = worker_id();
  return write(
      {{std::string(kStatusPrefix) + std::string(connector) + "-" + std::to_string(task.id),
        v.dump()}});
}

Result<void> TopicStatusStore::claim_task(std::string_view connector, const TaskState& task,
                                          std::int64_t generation,
                                          const std::string& expected_holder) {
  json v = task_state_to_json(task);
  v.erase("id");
  v["connector"] = std::string(connector);
  v["task"] = task.id;
  v["generation"] = generation;
  v["worker"] = worker_id();
  v["expect"] = expected_holder;
  return write(
      {{std::string(kStatusPrefix) + std::string(connector) + "-" + std::to_string(task.id),
        v.dump()}});
}

ConnectorState TopicStatusStore::assemble(const std::string& name, const Entry& entry) {
  ConnectorState st;
  if (entry.connector) {
    st = *entry.connector;
  } else {
    st.name = name;  // task records only, so far
  }
  for (const auto& [id, t] : entry.tasks) st.tasks.push_back(t.state);
  return st;
}

std::optional<ConnectorState> TopicStatusStore::status(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(connector);
  if (it == entries_.end() || (!it->second.connector && it->second.tasks.empty())) {
    return std::nullopt;
  }
  return assemble(it->first, it->second);
}

std::map<std::string, ConnectorState> TopicStatusStore::statuses() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, ConnectorState> out;
  for (const auto& [name, e] : entries_) {
    if (e.connector || !e.tasks.empty()) out.emplace(name, assemble(name, e));
  }
  return out;
}

Result<void> TopicStatusStore::remove_status(std::string_view connector) {
  std::int64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(connector);
    if (it == entries_.end() || (!it->second.connector && it->second.tasks.empty())) return {};
    generation = it->second.generation;
    for (const auto& [id, t] : it->second.tasks) generation = std::max(generation, t.generation);
  }
  json v = {
      {"connector", std::string(connector)}, {"generation", generation}, {"worker", worker_id()}};
  return write({{std::string(kStatusPrefix) + std::string(connector), v.dump(), true}});
}

std::string TopicStatusStore::cache_snapshot() const {
  json out = json::object();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : entries_) {
      json tasks = json::array();
      for (const auto& [id, t] : e.tasks) {
        json tj = task_state_to_json(t.state);
        tj["generation"] = t.generation;
        tasks.push_back(std::move(tj));
      }
      json c = nullptr;
      if (e.connector) {
        c = {{"type", std::string(connector_type_name(e.connector->type))},
             {"state", std::string(run_state_name(e.connector->state))},
             {"workerId", e.connector->worker_id},
             {"trace", e.connector->trace ? json(*e.connector->trace) : json(nullptr)}};
      }
      out[name] = {{"connector", std::move(c)},
                   {"generation", e.generation},
                   {"floor", e.floor},
                   {"tasks", std::move(tasks)}};
    }
  }
  return json{{"topic", topic()}, {"statuses", std::move(out)}}.dump(2);
}

Result<void> TopicStatusStore::load_cache(std::string_view text) {
  try {
    auto j = json::parse(text);
    std::map<std::string, Entry, std::less<>> entries;
    for (const auto& [name, s] : j.at("statuses").items()) {
      Entry e;
      e.generation = s.value("generation", std::int64_t{0});
      e.floor = s.value("floor", std::int64_t{0});
      if (s.contains("connector") && s["connector"].is_object()) {
        const auto& c = s["connector"];
        ConnectorState st;
        st.name = name;
        st.type = parse_connector_type(c.value("type", "UNKNOWN"));
        st.state = parse_run_state(c.value("state", "UNASSIGNED"));
        st.worker_id = c.value("workerId", "");
        if (c.contains("trace") && c["trace"].is_string()) st.trace = c["trace"].get<std::string>();
        e.connector = std::move(st);
      }
      for (const auto& t : s.value("tasks", json::array())) {
        TaskEntry te{task_state_from_json(t), t.value("generation", std::int64_t{0})};
        e.tasks[te.state.id] = std::move(te);
      }
      entries.emplace(name, std::move(e));
    }
    std::lock_guard lock(mutex_);
    entries_ = std::move(entries);
  } catch (const json::exception& e) {
    return Error(ErrorCode::kDataLoss, std::string("corrupt: ") + e.what());
  }
  return {};
}

}  // namespace rmqc::runtime
