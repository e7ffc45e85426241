#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace rmqc {

std::shared_ptr<spdlog::logger> logger(std::string_view name) {
  static std::mutex mutex;
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(key)) return existing;
  auto created = spdlog::stderr_color_mt(key);
  created->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  created->set_level(spdlog::get_level());
  return created;
}

bool set_log_level(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return true;
}

namespace {

// Last changes through set_logger_level, by logger name ("root" too).
std::mutex modified_mutex;
std::map<std::string, std::int64_t, std::less<>> modified;  // under modified_mutex
std::atomic<bool> per_logger_levels{false};

std::string kafka_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARN";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "FATAL";
    default:
      return "OFF";
  }
}

std::optional<spdlog::level::level_enum> parse_kafka_level(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "TRACE") return spdlog::level::trace;
  if (upper == "DEBUG") return spdlog::level::debug;
  if (upper == "INFO") return spdlog::level::info;
  if (upper == "WARN" || upper == "WARNING") return spdlog::level::warn;
  if (upper == "ERROR") return spdlog::level::err;
  if (upper == "FATAL" || upper == "CRITICAL") return spdlog::level::critical;
  if (upper == "OFF") return spdlog::level::off;
  return std::nullopt;
}

std::optional<std::int64_t> modified_at(std::string_view name) {
  std::lock_guard lock(modified_mutex);
  auto it = modified.find(name);
  if (it == modified.end()) return std::nullopt;
  return it->second;
}

bool under(std::string_view name, std::string_view parent) {
  return name == parent ||
         (name.size() > parent.size() && name.starts_with(parent) && name[parent.size()] == '.');
}

}  // namespace

bool logger_enabled(std::string_view name, spdlog::level::level_enum level) {
  // Only after a logger was given its own level is the (locked) registry consulted.
  if (!per_logger_levels.load(std::memory_order_relaxed)) return level >= spdlog::get_level();
  return logger(name)->should_log(level);
}

std::vector<LoggerLevel> logger_levels() {
  std::vector<LoggerLevel> out;
  out.push_back({"root", kafka_level_name(spdlog::get_level()), modified_at("root")});
  std::vector<std::pair<std::string, spdlog::level::level_enum>> loggers;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    if (!l->name().empty()) loggers.emplace_back(l->name(), l->level());
  });
  std::sort(loggers.begin(), loggers.end());
  for (const auto& [name, level] : loggers) {
    out.push_back({name, kafka_level_name(level), modified_at(name)});
  }
  return out;
}

std::optional<LoggerLevel> logger_level(std::string_view name) {
  if (name == "root")
    return LoggerLevel{"root", kafka_level_name(spdlog::get_level()), modified_at("root")};
  auto l = spdlog::get(std::string(name));
  if (!l) return std::nullopt;
  return LoggerLevel{std::string(name), kafka_level_name(l->level()), modified_at(name)};
}

std::optional<std::vector<std::string>> set_logger_level(std::string_view name,
                                                         std::string_view level) {
  auto parsed = parse_kafka_level(level);
  if (!parsed) return std::nullopt;
  const bool root = name == "root";
  if (root) {
    spdlog::set_level(*parsed);
  } else {
    (void)logger(name);  // exists from now on, so the level holds when it is first used
    per_logger_levels.store(true, std::memory_order_relaxed);
  }
  std::vector<std::string> changed;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    if (root || under(l->name(), name)) {
      l->set_level(*parsed);
      changed.push_back(l->name());
    }
  });
  std::sort(changed.begin(), changed.end());
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(modified_mutex);
  modified[std::string(name)] = now;
  for (const auto& n : changed) modified[n] = now;
  return changed;
}

}  // namespace rmqc
