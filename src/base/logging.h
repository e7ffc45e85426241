#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

// One named logger per subsystem ("broker", "worker", ...), all writing to stderr with the same
// pattern. Cheap to call repeatedly: loggers are created once and cached by spdlog.
std::shared_ptr<spdlog::logger> logger(std::string_view name);

// Sets the level of every logger: trace, debug, info, warn, error, critical, off.
bool set_log_level(std::string_view level);

// Whether `name` logs at `level`: the default level, or the logger's own once one was set.
bool logger_enabled(std::string_view name, spdlog::level::level_enum level);

// GET/PUT /admin/loggers (Kafka Connect's names and shapes): levels as OFF, FATAL, ERROR, WARN,
// INFO, DEBUG, TRACE. "root" stands for the default level, which every logger created later gets.
struct LoggerLevel {
  std::string name;
  std::string level;
  std::optional<std::int64_t> last_modified_ms;  // epoch ms of the last change through the API
};
// "root" first, then every logger by name.
std::vector<LoggerLevel> logger_levels();
std::optional<LoggerLevel> logger_level(std::string_view name);
// Sets the level of `name` and of the loggers under it ("worker" also sets "worker.x"); "root"
// sets every logger and the default. A name no logger has yet is created with that level. Returns
// the names set, or nullopt when `level` is not a level name (case-insensitive).
std::optional<std::vector<std::string>> set_logger_level(std::string_view name,
                                                         std::string_view level);

constexpr std::string_view kVersion = RMQC_VERSION;

}  // namespace rmqc
