#include "runtime/storage/state_store.h"

#include "base/file_util.h"
#include "runtime/storage/json_codec.h"
#include "runtime/storage/position_key.h"

#include <nlohmann/json.hpp>

namespace rmqc::runtime {
namespace {

using json = nlohmann::json;
using namespace json_codec;

constexpr const char* kConnectorsFile = "connectors.json";
constexpr const char* kPositionsFile = "positions.json";
constexpr const char* kStatusesFile = "statuses.json";

Result<json> load_json(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) {
    if (text.error().code() == ErrorCode::kNotFound) return json::object();
    return std::move(text).error();
  }
  try {
    return json::parse(*text);
  } catch (const json::exception& e) {
    // Atomic writes make a torn file impossible; a corrupt one is an operator problem, never
    // silently reset (that would lose every connector).
    return Error(ErrorCode::kDataLoss, path + " is corrupt: " + e.what());
  }
}

Error no_connector(std::string_view name) {
  return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(std::string dir) {
  RMQC_RETURN_IF_ERROR(make_dirs(dir));
  std::unique_ptr<StateStore> store(new StateStore(std::move(dir)));
  RMQC_RETURN_IF_ERROR(store->load());
  return store;
}

Result<void> StateStore::load() {
  RMQC_ASSIGN_OR_RETURN(json connectors, load_json(dir_ + "/" + kConnectorsFile));
  RMQC_ASSIGN_OR_RETURN(json positions, load_json(dir_ + "/" + kPositionsFile));
  RMQC_ASSIGN_OR_RETURN(json statuses, load_json(dir_ + "/" + kStatusesFile));
  try {
    for (const auto& [name, c] : connectors.items()) {
      StoredConnector sc;
      sc.config = kv_from_json(c.at("config"));
      sc.target_state = parse_target_state(c.value("targetState", "STARTED"));
      for (const auto& t : c.value("tasks", json::array()))
        sc.task_configs.push_back(kv_from_json(t));
      sc.epoch = c.value("epoch", std::int64_t{0});
      connectors_[name] = std::move(sc);
    }
    for (const auto& [name, list] : positions.items()) {
      auto& m = positions_[name];
      for (const auto& e : list) {
        RecordPosition p{partition_from_json(e.at("partition")), offset_from_json(e.at("offset"))};
        m[canonical_partition_key(p.partition)] = std::move(p);
      }
    }
    for (const auto& [name, s] : statuses.items()) {
      ConnectorState st;
      st.name = name;
      st.type = parse_connector_type(s.value("type", "UNKNOWN"));
      st.state = parse_run_state(s.value("state", "UNASSIGNED"));
      st.worker_id = s.value("workerId", "");
      if (s.contains("trace") && s["trace"].is_string()) st.trace = s["trace"].get<std::string>();
      for (const auto& t : s.value("tasks", json::array()))
        st.tasks.push_back(task_state_from_json(t));
      statuses_[name] = std::move(st);
    }
  } catch (const json::exception& e) {
    return Error(ErrorCode::kDataLoss, "worker state in " + dir_ + " is corrupt: " + e.what());
  }
  return {};
}

Result<void> StateStore::save_connectors_locked() {
  json out = json::object();
  for (const auto& [name, c] : connectors_) {
    json tasks = json::array();
    for (const auto& t : c.task_configs) tasks.push_back(kv_to_json(t));
    out[name] = {{"config", kv_to_json(c.config)},
                 {"targetState", std::string(target_state_name(c.target_state))},
                 {"tasks", std::move(tasks)},
                 {"epoch", c.epoch}};
  }
  return atomic_write_file(dir_ + "/" + kConnectorsFile, out.dump(2));
}

Result<void> StateStore::save_positions_locked() {
  json out = json::object();
  for (const auto& [name, m] : positions_) {
    json list = json::array();
    for (const auto& [key, p] : m) {
      list.push_back(
          {{"partition", partition_to_json(p.partition)}, {"offset", offset_to_json(p.offset)}});
    }
    out[name] = std::move(list);
  }
  return atomic_write_file(dir_ + "/" + kPositionsFile, out.dump());
}

Result<void> StateStore::save_statuses_locked() {
  json out = json::object();
  for (const auto& [name, s] : statuses_) {
    json tasks = json::array();
    for (const auto& t : s.tasks) tasks.push_back(task_state_to_json(t));
    out[name] = {{"type", std::string(connector_type_name(s.type))},
                 {"state", std::string(run_state_name(s.state))},
                 {"workerId", s.worker_id},
                 {"trace", s.trace ? json(*s.trace) : json(nullptr)},
                 {"tasks", std::move(tasks)}};
  }
  return atomic_write_file(dir_ + "/" + kStatusesFile, out.dump(2));
}

Result<void> StateStore::put_connector(std::string_view name, const StoredConnector& connector) {
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    std::int64_t applied = it == connectors_.end() ? 0 : it->second.epoch;
    std::int64_t epoch = (connector.epoch > 0 ? connector.epoch : applied) + 1;
    if (epoch < applied) return stale_epoch_error(name, epoch, applied);
    auto& stored = connectors_[std::string(name)];
    stored = connector;
    stored.epoch = std::max(epoch, applied + 1);
    RMQC_RETURN_IF_ERROR(save_connectors_locked());
  }
  listeners_.notify({std::string(name)});
  return {};
}

Result<void> StateStore::put_target_state(std::string_view name, TargetState state) {
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return no_connector(name);
    it->second.target_state = state;
    ++it->second.epoch;
    RMQC_RETURN_IF_ERROR(save_connectors_locked());
  }
  listeners_.notify({std::string(name)});
  return {};
}

Result<void> StateStore::put_task_configs(std::string_view name,
                                          std::vector<KeyValue> task_configs) {
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it == connectors_.end()) return no_connector(name);
    it->second.task_configs = std::move(task_configs);
    ++it->second.epoch;
    RMQC_RETURN_IF_ERROR(save_connectors_locked());
  }
  listeners_.notify({std::string(name)});
  return {};
}

Result<void> StateStore::remove_connector(std::string_view name) {
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    auto it = connectors_.find(name);
    if (it != connectors_.end()) {
      connectors_.erase(it);
      removed = true;
    }
    auto st = statuses_.find(name);
    if (st != statuses_.end()) statuses_.erase(st);
    // Positions stay: a connector re-created under the same name resumes where it was (as the
    // Java runtime and Kafka Connect do).
    RMQC_RETURN_IF_ERROR(save_connectors_locked());
    RMQC_RETURN_IF_ERROR(save_statuses_locked());
  }
  if (removed) listeners_.notify({std::string(name)});
  return {};
}

std::map<std::string, StoredConnector> StateStore::connectors() const {
  std::lock_guard lock(mutex_);
  return {connectors_.begin(), connectors_.end()};
}

std::optional<StoredConnector> StateStore::connector(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return std::nullopt;
  return it->second;
}

Result<void> StateStore::request_restart(std::string_view name, RestartRequest request) {
  {
    std::lock_guard lock(mutex_);
    if (connectors_.find(name) == connectors_.end()) {
      return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
    }
    request.seq = ++restart_seq_;
    restarts_[std::string(name)] = request;
  }
  listeners_.notify({std::string(name)});
  return {};
}

std::optional<RestartRequest> StateStore::restart_request(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = restarts_.find(name);
  if (it == restarts_.end()) return std::nullopt;
  return it->second;
}

int StateStore::add_listener(Listener listener) {
  return listeners_.add(std::move(listener));
}

void StateStore::remove_listener(int id) {
  listeners_.remove(id);
}

Result<void> StateStore::put_positions(std::string_view connector, const OffsetMap& positions) {
  if (positions.empty()) return {};
  std::lock_guard lock(mutex_);
  auto& m = positions_[std::string(connector)];
  for (const auto& [p, o] : positions) m[canonical_partition_key(p)] = RecordPosition{p, o};
  return save_positions_locked();
}

std::optional<RecordOffset> StateStore::position(std::string_view connector,
                                                 const RecordPartition& partition) const {
  std::string key = canonical_partition_key(partition);
  std::lock_guard lock(mutex_);
  auto it = positions_.find(connector);
  if (it == positions_.end()) return std::nullopt;
  auto p = it->second.find(key);
  if (p == it->second.end()) return std::nullopt;
  return p->second.offset;
}

OffsetMap StateStore::positions(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  OffsetMap out;
  auto it = positions_.find(connector);
  if (it == positions_.end()) return out;
  for (const auto& [key, p] : it->second) out[p.partition] = p.offset;
  return out;
}

Result<void> StateStore::remove_positions(std::string_view connector) {
  std::lock_guard lock(mutex_);
  auto it = positions_.find(connector);
  if (it == positions_.end()) return {};
  positions_.erase(it);
  return save_positions_locked();
}

Result<void> StateStore::put_status(const ConnectorState& state, std::int64_t /*generation*/) {
  std::lock_guard lock(mutex_);
  statuses_[state.name] = state;
  return save_statuses_locked();
}

Result<void> StateStore::put_connector_status(const ConnectorState& state,
                                              std::int64_t /*generation*/) {
  std::lock_guard lock(mutex_);
  auto& s = statuses_[state.name];
  auto tasks = std::move(s.tasks);
  s = state;
  s.tasks = std::move(tasks);
  return save_statuses_locked();
}

Result<void> StateStore::put_task_status(std::string_view connector, const TaskState& task,
                                         std::int64_t /*generation*/) {
  std::lock_guard lock(mutex_);
  auto it = statuses_.find(connector);
  if (it == statuses_.end()) {
    ConnectorState s;
    s.name = std::string(connector);
    it = statuses_.emplace(s.name, std::move(s)).first;
  }
  auto& tasks = it->second.tasks;
  auto t =
      std::find_if(tasks.begin(), tasks.end(), [&](const TaskState& x) { return x.id == task.id; });
  if (t == tasks.end()) {
    tasks.push_back(task);
    std::sort(tasks.begin(), tasks.end(),
              [](const TaskState& a, const TaskState& b) { return a.id < b.id; });
  } else {
    *t = task;
  }
  return save_statuses_locked();
}

Result<void> StateStore::claim_task(std::string_view connector, const TaskState& task,
                                    std::int64_t generation, const std::string& expected_holder) {
  {
    std::lock_guard lock(mutex_);
    std::string holder;
    if (auto it = statuses_.find(connector); it != statuses_.end()) {
      for (const auto& t : it->second.tasks) {
        if (t.id == task.id) holder = t.worker_id;
      }
    }
    if (holder != expected_holder) {
      return Error(ErrorCode::kAlreadyExists, "task " + std::to_string(task.id) + " of " +
                                                  std::string(connector) + " is held by worker '" +
                                                  holder + "'");
    }
  }
  // (One process: nothing can come between the check and the write that matters here, the
  // coordinators sharing this store in tests claim on their rebalance threads.)
  return put_task_status(connector, task, generation);
}

std::optional<ConnectorState> StateStore::status(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  auto it = statuses_.find(connector);
  if (it == statuses_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, ConnectorState> StateStore::statuses() const {
  std::lock_guard lock(mutex_);
  return {statuses_.begin(), statuses_.end()};
}

Result<void> StateStore::remove_status(std::string_view connector) {
  std::lock_guard lock(mutex_);
  auto it = statuses_.find(connector);
  if (it == statuses_.end()) return {};
  statuses_.erase(it);
  return save_statuses_locked();
}

}  // namespace rmqc::runtime
