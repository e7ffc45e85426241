#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/value.h"
#include "rmqc/base/result.h"

#include "rest/router.h"
#include "runtime/connect_controller.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rmqc::rest {

// Ordered so bodies list keys as the seeds show them ("name" first, "type" last).
using Json = nlohmann::ordered_json;

inline constexpr std::string_view kRedacted = "******";

// Hides the values of secret-looking keys in everything the API returns or logs.
class Redactor {
 public:
  explicit Redactor(const std::vector<std::string>& patterns);
  // Case-insensitive substring match of any pattern.
  bool is_secret(std::string_view key) const;
  // The config as a JSON object of strings, secret values replaced by "******".
  Json config(const KeyValue& config) const;
  // Replaces every secret value of config found in text (error messages may quote values).
  std::string scrub(std::string text, const KeyValue& config) const;

 private:
  std::vector<std::string> patterns_;  // lowercase, non-empty
};

// ErrorCode -> HTTP status, as documented on ConnectController.
int http_status(ErrorCode code);

RestResponse json_response(int status, const Json& body);
RestResponse empty_response(int status);
// Seed routes: {"status":N,"body":"message"}; Kafka routes: {"error_code":N,"message":"..."}.
// Either way the HTTP status is N.
RestResponse error_response(ResponseStyle style, int status, std::string_view message);
RestResponse error_response(ResponseStyle style, const Error& error);
// {"status":200,"body":body}
RestResponse seed_ok(Json body);

// The request body as JSON; InvalidArgument for an empty body, ParseError with the parser's
// message for malformed JSON.
Result<Json> parse_json_body(std::string_view body);
// A flat JSON object of config keys. Strings are kept, numbers and booleans are written as
// text ("max.tasks": 1 -> "1"); null, arrays and objects are rejected naming the key.
Result<KeyValue> config_from_json(const Json& object);

// Seed 002 shapes (workerId, uppercase type, "trace": null).
Json seed_task_status(const runtime::TaskState& task);
Json seed_status(const runtime::ConnectorState& state);
Json seed_info(const runtime::ConnectorInfo& info, const Redactor& redactor);
// Kafka Connect shapes (worker_id, lowercase type, trace only when set).
Json kafka_task_status(const runtime::TaskState& task);
Json kafka_status(const runtime::ConnectorState& state);
Json kafka_info(const runtime::ConnectorInfo& info, const Redactor& redactor);
// [{"id":{"connector","task"},"config":{...}}], the same in both.
Json task_configs(const runtime::ConnectorInfo& info, const Redactor& redactor);
// Kafka's validate answer; secret values of config are scrubbed from the error messages too.
Json kafka_validation(const runtime::ValidationResult& result, const Redactor& redactor,
                      const KeyValue& config = {});
// Partition and offset values (strings, numbers, nested maps and lists).
Json value_to_json(const Value& value);

std::string lowercase(std::string_view text);

}  // namespace rmqc::rest
