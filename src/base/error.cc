#include "rmqc/base/error.h"

namespace rmqc {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "Ok";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kInvalidConfig:
      return "InvalidConfig";
    case ErrorCode::kParseError:
      return "ParseError";
    case ErrorCode::kSchemaMismatch:
      return "SchemaMismatch";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kUnsupported:
      return "Unsupported";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kIoError:
      return "IoError";
    case ErrorCode::kProtocolError:
      return "ProtocolError";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kResourceExhausted:
      return "ResourceExhausted";
    case ErrorCode::kDataLoss:
      return "DataLoss";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Error::to_string() const {
  std::string out(error_code_name(code_));
  out += ": ";
  out += message_;
  if (retriable_) out += " [retriable]";
  if (fatal_) out += " [fatal]";
  return out;
}

}  // namespace rmqc
