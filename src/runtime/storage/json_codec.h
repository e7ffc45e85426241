#pragma once

// The JSON forms the worker's state stores share (the standalone files and the cluster topics):
// values of positions, connector configs, states. Internal to src/runtime/storage.

#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/api/value.h"

#include "runtime/connect_controller.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace rmqc::runtime::json_codec {

using json = nlohmann::json;

// Positions hold strings, integers, floats, booleans and nested maps/lists; that is what JSON
// keeps. Integers of every width are written as integers (and read back as INT64), floats as
// numbers (read back as FLOAT64); bytes, structs and decimals as their display text; map keys as
// their display text.
json value_to_json(const Value& v);
Value value_from_json(const json& j);

json partition_to_json(const RecordPartition& partition);
RecordPartition partition_from_json(const json& j);
json offset_to_json(const RecordOffset& offset);
RecordOffset offset_from_json(const json& j);

// String values stay strings; other JSON values (a config submitted as a number) are kept as
// their JSON text.
json kv_to_json(const KeyValue& kv);
KeyValue kv_from_json(const json& j);

TargetState parse_target_state(std::string_view s);  // unknown: kStarted
RunState parse_run_state(std::string_view s);        // unknown: kUnassigned
ConnectorType parse_connector_type(std::string_view s);

// {"id", "state", "workerId", "trace"}.
json task_state_to_json(const TaskState& t);
TaskState task_state_from_json(const json& j);

}  // namespace rmqc::runtime::json_codec
