#include "runtime/storage/json_codec.h"

namespace rmqc::runtime::json_codec {

json value_to_json(const Value& v) {
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
      for (const auto& e : v.as_array()) a.push_back(value_to_json(e));
      return a;
    }
    case Value::Kind::kMap: {
      json o = json::object();
      for (const auto& [k, e] : v.as_map()) o[k.to_string()] = value_to_json(e);
      return o;
    }
    default: {
      std::int64_t n = 0;
      if (v.to_int64(n)) return n;
      return v.to_string();  // bytes, structs, decimals: their display form
    }
  }
}

Value value_from_json(const json& j) {
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
      for (const auto& e : j) l.push_back(value_from_json(e));
      return Value(std::move(l));
    }
    case json::value_t::object: {
      ValueMap m;
      for (const auto& [k, e] : j.items()) m.emplace_back(Value(k), value_from_json(e));
      return Value(std::move(m));
    }
    default:
      return Value();
  }
}

namespace {

template <typename Map>
json map_to_json(const Map& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = value_to_json(v);
  return o;
}

template <typename T>
T map_from_json(const json& j) {
  typename T::Map out;
  for (const auto& [k, v] : j.items()) out.emplace(k, value_from_json(v));
  return T(std::move(out));
}

}  // namespace

json partition_to_json(const RecordPartition& partition) {
  return map_to_json(partition.partition());
}
RecordPartition partition_from_json(const json& j) {
  return map_from_json<RecordPartition>(j);
}
json offset_to_json(const RecordOffset& offset) {
  return map_to_json(offset.offset());
}
RecordOffset offset_from_json(const json& j) {
  return map_from_json<RecordOffset>(j);
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

TargetState parse_target_state(std::string_view s) {
  if (s == "PAUSED") return TargetState::kPaused;
  if (s == "STOPPED") return TargetState::kStopped;
  return TargetState::kStarted;
}

RunState parse_run_state(std::string_view s) {
  for (auto st : {RunState::kUnassigned, RunState::kRunning, RunState::kPaused, RunState::kStopped,
                  RunState::kFailed, RunState::kDestroyed}) {
    if (run_state_name(st) == s) return st;
  }
  return RunState::kUnassigned;
}

ConnectorType parse_connector_type(std::string_view s) {
  if (s == "SOURCE") return ConnectorType::kSource;
  if (s == "SINK") return ConnectorType::kSink;
  return ConnectorType::kUnknown;
}

json task_state_to_json(const TaskState& t) {
  return {{"id", t.id},
          {"state", std::string(run_state_name(t.state))},
          {"workerId", t.worker_id},
          {"trace", t.trace ? json(*t.trace) : json(nullptr)}};
}

TaskState task_state_from_json(const json& j) {
  TaskState ts;
  ts.id = j.value("id", 0);
  ts.state = parse_run_state(j.value("state", "UNASSIGNED"));
  ts.worker_id = j.value("workerId", "");
  if (j.contains("trace") && j["trace"].is_string()) ts.trace = j["trace"].get<std::string>();
  return ts;
}

}  // namespace rmqc::runtime::json_codec
