#include "rest/responses.h"

#include "base/base64.h"

#include <algorithm>
#include <cctype>

namespace rmqc::rest {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Redactor::Redactor(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (!p.empty()) patterns_.push_back(lowercase(p));
  }
}

bool Redactor::is_secret(std::string_view key) const {
  if (patterns_.empty()) return false;
  std::string lower = lowercase(key);
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::string& p) { return lower.find(p) != std::string::npos; });
}

Json Redactor::config(const KeyValue& config) const {
  Json out = Json::object();
  for (const auto& [key, value] : config) {
    out[key] = is_secret(key) ? std::string(kRedacted) : value;
  }
  return out;
}

std::string Redactor::scrub(std::string text, const KeyValue& config) const {
  for (const auto& [key, value] : config) {
    if (value.empty() || !is_secret(key)) continue;
    for (std::size_t pos = text.find(value); pos != std::string::npos;
         pos = text.find(value, pos + kRedacted.size())) {
      text.replace(pos, value.size(), kRedacted);
    }
  }
  return text;
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kInvalidConfig:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kParseError:
      return 400;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kUnsupported:
      return 501;
    default:
      return 500;
  }
}

RestResponse json_response(int status, const Json& body) {
  RestResponse res;
  res.status = status;
  // Replace invalid UTF-8 (a config value can be anything) instead of throwing.
  res.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return res;
}

RestResponse empty_response(int status) {
  RestResponse res;
  res.status = status;
  res.content_type.clear();
  return res;
}

RestResponse error_response(ResponseStyle style, int status, std::string_view message) {
  Json body;
  if (style == ResponseStyle::kSeed) {
    body["status"] = status;
    body["body"] = message;
  } else {
    body["error_code"] = status;
    body["message"] = message;
  }
  return json_response(status, body);
}

RestResponse error_response(ResponseStyle style, const Error& error) {
  return error_response(style, http_status(error.code()), error.message());
}

RestResponse seed_ok(Json body) {
  Json envelope;
  envelope["status"] = 200;
  envelope["body"] = std::move(body);
  return json_response(200, envelope);
}

Result<Json> parse_json_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "request body is empty; expected a JSON object");
  }
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kParseError, std::string("malformed JSON: ") + e.what());
  }
}

Result<KeyValue> config_from_json(const Json& object) {
  if (!object.is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("expected a JSON object of config keys, got ") + object.type_name());
  }
  KeyValue config;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) {
      config.put(key, value.get<std::string>());
    } else if (value.is_number() || value.is_boolean()) {
      config.put(key, value.dump());
    } else {
      return Error(ErrorCode::kInvalidConfig, "config key '" + key +
                                                  "': expected a string, number or boolean, got " +
                                                  value.type_name());
    }
  }
  return config;
}

namespace {

Json optional_string(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json task_ids(const runtime::ConnectorInfo& info) {
  Json tasks = Json::array();
  for (std::size_t i = 0; i < info.task_configs.size(); ++i) {
    tasks.push_back({{"connector", info.name}, {"task", i}});
  }
  return tasks;
}

}  // namespace

Json seed_task_status(const runtime::TaskState& task) {
  return {{"state", runtime::run_state_name(task.state)},
          {"trace", optional_string(task.trace)},
          {"workerId", task.worker_id},
          {"id", task.id}};
}

Json seed_status(const runtime::ConnectorState& state) {
  Json tasks = Json::array();
  for (const auto& t : state.tasks) tasks.push_back(seed_task_status(t));
  return {{"name", state.name},
          {"connector",
           {{"state", runtime::run_state_name(state.state)},
            {"trace", optional_string(state.trace)},
            {"workerId", state.worker_id}}},
          {"tasks", std::move(tasks)},
          {"type", runtime::connector_type_name(state.type)}};
}

Json seed_info(const runtime::ConnectorInfo& info, const Redactor& redactor) {
  return {{"name", info.name},
          {"config", redactor.config(info.config)},
          {"tasks", task_ids(info)},
          {"type", runtime::connector_type_name(info.type)}};
}

Json kafka_task_status(const runtime::TaskState& task) {
  Json out = {{"id", task.id},
              {"state", runtime::run_state_name(task.state)},
              {"worker_id", task.worker_id}};
  if (task.trace) out["trace"] = *task.trace;
  return out;
}

Json kafka_status(const runtime::ConnectorState& state) {
  Json connector = {{"state", runtime::run_state_name(state.state)},
                    {"worker_id", state.worker_id}};
  if (state.trace) connector["trace"] = *state.trace;
  Json tasks = Json::array();
  for (const auto& t : state.tasks) tasks.push_back(kafka_task_status(t));
  return {{"name", state.name},
          {"connector", std::move(connector)},
          {"tasks", std::move(tasks)},
          {"type", lowercase(runtime::connector_type_name(state.type))}};
}

Json kafka_info(const runtime::ConnectorInfo& info, const Redactor& redactor) {
  return {{"name", info.name},
          {"config", redactor.config(info.config)},
          {"tasks", task_ids(info)},
          {"type", lowercase(runtime::connector_type_name(info.type))}};
}

Json task_configs(const runtime::ConnectorInfo& info, const Redactor& redactor) {
  Json tasks = Json::array();
  for (std::size_t i = 0; i < info.task_configs.size(); ++i) {
    tasks.push_back({{"id", {{"connector", info.name}, {"task", i}}},
                     {"config", redactor.config(info.task_configs[i])}});
  }
  return tasks;
}

Json kafka_validation(const runtime::ValidationResult& result, const Redactor& redactor,
                      const KeyValue& config) {
  Json configs = Json::array();
  for (std::size_t i = 0; i < result.definitions.size(); ++i) {
    const auto& def = result.definitions[i];
    bool secret = def.type == ConfigDef::Type::kPassword || redactor.is_secret(def.name);
    Json default_value = nullptr;
    if (def.default_value) default_value = secret ? std::string(kRedacted) : *def.default_value;
    Json definition = {{"name", def.name},
                       {"type", config_type_name(def.type)},
                       {"required", !def.default_value.has_value()},
                       {"default_value", std::move(default_value)},
                       {"importance", importance_name(def.importance)},
                       {"documentation", def.documentation},
                       {"group", nullptr},
                       {"width", "NONE"},
                       {"display_name", def.name},
                       {"dependents", Json::array()},
                       {"order", -1}};
    Json value = {{"name", def.name},
                  {"value", nullptr},
                  {"recommended_values", Json::array()},
                  {"errors", Json::array()},
                  {"visible", true}};
    if (i < result.results.size()) {
      const auto& r = result.results[i];
      if (r.value) value["value"] = secret ? std::string(kRedacted) : *r.value;
      for (const auto& e : r.errors) value["errors"].push_back(redactor.scrub(e, config));
    }
    configs.push_back({{"definition", std::move(definition)}, {"value", std::move(value)}});
  }
  Json other = Json::array();
  for (const auto& e : result.other_errors) other.push_back(redactor.scrub(e, config));
  return {{"name", result.plugin},
          {"error_count", result.error_count},
          {"groups", Json::array()},
          {"configs", std::move(configs)},
          {"other_errors", std::move(other)}};
}

Json value_to_json(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBoolean:
      return value.as_bool();
    case Value::Kind::kInt8:
    case Value::Kind::kInt16:
    case Value::Kind::kInt32:
    case Value::Kind::kInt64: {
      std::int64_t v = 0;
      value.to_int64(v);
      return v;
    }
    case Value::Kind::kFloat32:
      return value.as_float32();
    case Value::Kind::kFloat64:
      return value.as_float64();
    case Value::Kind::kString:
      return value.as_string();
    case Value::Kind::kBytes: {
      const Bytes& bytes = value.as_bytes();
      std::string out;
      base64_encode_append(bytes.data(), bytes.size(), out);
      return out;
    }
    case Value::Kind::kArray: {
      Json out = Json::array();
      for (const auto& v : value.as_array()) out.push_back(value_to_json(v));
      return out;
    }
    case Value::Kind::kMap: {
      Json out = Json::object();
      for (const auto& [k, v] : value.as_map()) {
        const std::string* key = k.get_if<std::string>();
        out[key ? *key : k.to_string()] = value_to_json(v);
      }
      return out;
    }
    case Value::Kind::kDecimal:
      return value.as_decimal().to_string();
    case Value::Kind::kStruct:
      return value.to_string();
  }
  return nullptr;
}

}  // namespace rmqc::rest
