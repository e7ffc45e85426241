#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rmqc {

// What went wrong, independent of where. Subsystems put specifics in the message.
enum class ErrorCode : std::int32_t {
  kOk = 0,
  kInvalidArgument,    // caller passed something malformed (bad config value, bad REST body)
  kInvalidConfig,      // a configuration failed validation
  kParseError,         // bytes could not be decoded (JSON, frame, properties)
  kSchemaMismatch,     // a value does not match its schema
  kNotFound,           // named thing does not exist (connector, topic, plugin)
  kAlreadyExists,      // named thing exists already
  kUnsupported,        // a valid request this build or peer does not implement
  kTimeout,            // deadline passed; usually retriable
  kUnavailable,        // peer down, connection refused, broker busy; usually retriable
  kIoError,            // local file system or socket failure
  kProtocolError,      // peer violated the wire protocol
  kPermissionDenied,   // ACL or authentication failure
  kResourceExhausted,  // disk full, queue full, message too large
  kDataLoss,           // corruption detected
  kCancelled,          // shut down while waiting
  kInternal,           // a bug: an invariant did not hold
};

std::string_view error_code_name(ErrorCode code);

// An error value with the two flags a caller needs to decide what to do next (the librdkafka
// model): retriable = the same call may succeed later; fatal = the component cannot continue.
class Error {
 public:
  Error(ErrorCode code, std::string message, bool retriable = false, bool fatal = false)
      : code_(code), message_(std::move(message)), retriable_(retriable), fatal_(fatal) {}

  static Error retriable(ErrorCode code, std::string message) {
    return Error(code, std::move(message), /*retriable=*/true, /*fatal=*/false);
  }
  static Error fatal(ErrorCode code, std::string message) {
    return Error(code, std::move(message), /*retriable=*/false, /*fatal=*/true);
  }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool is_retriable() const { return retriable_; }
  bool is_fatal() const { return fatal_; }

  // Prefixes the message with where it happened: "field 'id': expected int64".
  Error& with_context(std::string_view context) {
    message_.insert(0, ": ");
    message_.insert(0, context);
    return *this;
  }

  // "SchemaMismatch: field 'id': expected int64 [retriable]"
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  bool retriable_;
  bool fatal_;
};

}  // namespace rmqc
