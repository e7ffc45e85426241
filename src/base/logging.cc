#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

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

}  // namespace rmqc
