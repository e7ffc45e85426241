#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace rmqc {

// One named logger per subsystem ("broker", "worker", ...), all writing to stderr with the same
// pattern. Cheap to call repeatedly: loggers are created once and cached by spdlog.
std::shared_ptr<spdlog::logger> logger(std::string_view name);

// Sets the level of every logger: trace, debug, info, warn, error, critical, off.
bool set_log_level(std::string_view level);

constexpr std::string_view kVersion = RMQC_VERSION;

}  // namespace rmqc
