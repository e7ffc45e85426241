#include "runtime/storage/state_store.h"

#include "base/file_util.h"

#include <nlohmann/json.hpp>

namespace rmqc::runtime {
namespace {

using json = nlohmann::json;

constexpr const char* kConnectorsFile = "connectors.json";
constexpr const char* kPositionsFile = "positions.json";
constexpr const char* kStatusesFile = "statuses.json";

// Positions hold strings, integers, floats, booleans and nested maps/lists; that is what JSON
// keeps. Integers come back as INT64 and floats as FLOAT64.
json to_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBoolean:
      return v.as_bool();
    case Value::Kind::kFloat32:
      return static_cast<double>(v.as_float32());
    case Value::Kind::kFloat64:
      return v.as_float64();
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kArray: {
      json a = json::array();
      for (const auto& e : v.as_array()) a.push_back(to_json(e));
      return a;
    }
    case Value::Kind::kMap: {
      json o = json::object();
      for (const auto& [k, e] : v.as_map()) o[k.to_string()] = to_json(e);
      return o;
    }
    default: {
      std::int64_t n = 0;
      if (v.to_int64(n)) return n;
      return v.to_string();  // bytes, structs, decimals: their display form
    }
  }
}

Value from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return Value();
    case json::value_t::boolean:
      return Value(j.get<bool>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return Value(j.get<std::int64_t>());
    case json::value_t::number_float:
      return Value(j.get<double>());
    case json::value_t::string:
      return Value(j.get<std::string>());
    case json::value_t::array: {
      ValueList l;
      for (const auto& e : j) l.push_back(from_json(e));
      return Value(std::move(l));
    }
    case json::value_t::object: {
      ValueMap m;
      for (const auto& [k, e] : j.items()) m.emplace_back(Value(k), from_json(e));
      return Value(std::move(m));
    }
    default:
      return Value();
  }
}

template <typename Map>
json map_to_json(const Map& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = to_json(v);
  return o;
}

template <typename Map>
Map map_from_json(const json& j) {
  typename Map::Map out;
  for (const auto& [k, v] : j.items()) out.emplace(k, from_json(v));
  return Map(std::move(out));
}

json kv_to_json(const KeyValue& kv) {
  json o = json::object();
  for (const auto& [k, v] : kv) o[k] = v;
  return o;
}

KeyValue kv_from_json(const json& j) {
  KeyValue kv;
  for (const auto& [k, v] : j.items()) kv.put(k, v.is_string() ? v.get<std::string>() : v.dump());
  return kv;
}

TargetState parse_target(const std::string& s) {
  if (s == "PAUSED") return TargetState::kPaused;
  if (s == "STOPPED") return TargetState::kStopped;
  return TargetState::kStarted;
}

RunState parse_run_state(const std::string& s) {
  for (auto st : {RunState::kUnassigned, RunState::kRunning, RunState::kPaused, RunState::kStopped,
                  RunState::kFailed, RunState::kDestroyed}) {
    if (run_state_name(st) == s) return st;
  }
  return RunState::kUnassigned;
}

ConnectorType parse_type(const std::string& s) {
  if (s == "SOURCE") return ConnectorType::kSource;
  if (s == "SINK") return ConnectorType::kSink;
  return ConnectorType::kUnknown;
}

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
      sc.target_state = parse_target(c.value("targetState", "STARTED"));
      for (const auto& t : c.value("tasks", json::array()))
        sc.task_configs.push_back(kv_from_json(t));
      connectors_[name] = std::move(sc);
    }
    for (const auto& [name, list] : positions.items()) {
      OffsetMap m;
      for (const auto& e : list) {
        m[map_from_json<RecordPartition>(e.at("partition"))] =
            map_from_json<RecordOffset>(e.at("offset"));
      }
      positions_[name] = std::move(m);
    }
    for (const auto& [name, s] : statuses.items()) {
      ConnectorState st;
      st.name = name;
      st.type = parse_type(s.value("type", "UNKNOWN"));
      st.state = parse_run_state(s.value("state", "UNASSIGNED"));
      st.worker_id = s.value("workerId", "");
      if (s.contains("trace") && s["trace"].is_string()) st.trace = s["trace"].get<std::string>();
      for (const auto& t : s.value("tasks", json::array())) {
        TaskState ts;
        ts.id = t.value("id", 0);
        ts.state = parse_run_state(t.value("state", "UNASSIGNED"));
        ts.worker_id = t.value("workerId", "");
        if (t.contains("trace") && t["trace"].is_string()) ts.trace = t["trace"].get<std::string>();
        st.tasks.push_back(std::move(ts));
      }
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
                 {"tasks", std::move(tasks)}};
  }
  return atomic_write_file(dir_ + "/" + kConnectorsFile, out.dump(2));
}

Result<void> StateStore::save_positions_locked() {
  json out = json::object();
  for (const auto& [name, m] : positions_) {
    json list = json::array();
    for (const auto& [p, o] : m) {
      list.push_back(
          {{"partition", map_to_json(p.partition())}, {"offset", map_to_json(o.offset())}});
    }
    out[name] = std::move(list);
  }
  return atomic_write_file(dir_ + "/" + kPositionsFile, out.dump());
}

Result<void> StateStore::save_statuses_locked() {
  json out = json::object();
  for (const auto& [name, s] : statuses_) {
    json tasks = json::array();
    for (const auto& t : s.tasks) {
      tasks.push_back({{"id", t.id},
                       {"state", std::string(run_state_name(t.state))},
                       {"workerId", t.worker_id},
                       {"trace", t.trace ? json(*t.trace) : json(nullptr)}});
    }
    out[name] = {{"type", std::string(connector_type_name(s.type))},
                 {"state", std::string(run_state_name(s.state))},
                 {"workerId", s.worker_id},
                 {"trace", s.trace ? json(*s.trace) : json(nullptr)},
                 {"tasks", std::move(tasks)}};
  }
  return atomic_write_file(dir_ + "/" + kStatusesFile, out.dump(2));
}

Result<void> StateStore::put_connector(std::string_view name, const StoredConnector& connector) {
  std::lock_guard lock(mutex_);
  connectors_[std::string(name)] = connector;
  return save_connectors_locked();
}

Result<void> StateStore::put_target_state(std::string_view name, TargetState state) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end())
    return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
  it->second.target_state = state;
  return save_connectors_locked();
}

Result<void> StateStore::put_task_configs(std::string_view name,
                                          std::vector<KeyValue> task_configs) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end())
    return Error(ErrorCode::kNotFound, "no connector " + std::string(name));
  it->second.task_configs = std::move(task_configs);
  return save_connectors_locked();
}

Result<void> StateStore::remove_connector(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it != connectors_.end()) connectors_.erase(it);
  auto st = statuses_.find(name);
  if (st != statuses_.end()) statuses_.erase(st);
  // Positions stay: a connector re-created under the same name resumes where it was (as the
  // Java runtime and Kafka Connect do).
  RMQC_RETURN_IF_ERROR(save_connectors_locked());
  return save_statuses_locked();
}

std::map<std::string, StoredConnector> StateStore::connectors() const {
  std::lock_guard lock(mutex_);
  return {connectors_.begin(), connectors_.end()};
}

Result<void> StateStore::put_positions(std::string_view connector, const OffsetMap& positions) {
  if (positions.empty()) return {};
  std::lock_guard lock(mutex_);
  auto& m = positions_[std::string(connector)];
  for (const auto& [p, o] : positions) m[p] = o;
  return save_positions_locked();
}

std::optional<RecordOffset> StateStore::position(std::string_view connector,
                                                 const RecordPartition& partition) const {
  std::lock_guard lock(mutex_);
  auto it = positions_.find(connector);
  if (it == positions_.end()) return std::nullopt;
  auto p = it->second.find(partition);
  if (p == it->second.end()) return std::nullopt;
  return p->second;
}

OffsetMap StateStore::positions(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  auto it = positions_.find(connector);
  return it == positions_.end() ? OffsetMap{} : it->second;
}

Result<void> StateStore::put_status(const ConnectorState& state) {
  std::lock_guard lock(mutex_);
  statuses_[state.name] = state;
  return save_statuses_locked();
}

std::optional<ConnectorState> StateStore::status(std::string_view connector) const {
  std::lock_guard lock(mutex_);
  auto it = statuses_.find(connector);
  if (it == statuses_.end()) return std::nullopt;
  return it->second;
}

}  // namespace rmqc::runtime
