// The SDK's logging functions (rmqc/api/logging.h) on top of the worker's spdlog loggers.
#include "rmqc/api/logging.h"

#include "base/logging.h"

namespace rmqc {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

bool log_enabled(std::string_view logger_name, LogLevel level) {
  // The process-wide level, or the logger's own once PUT /admin/loggers gave one.
  return logger_enabled(logger_name, to_spdlog(level));
}

void log_write(std::string_view logger_name, LogLevel level, std::string_view message) {
  logger(logger_name)->log(to_spdlog(level), message);
}

}  // namespace rmqc
