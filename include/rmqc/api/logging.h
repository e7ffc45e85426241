#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace rmqc {

enum class LogLevel : int { kTrace, kDebug, kInfo, kWarn, kError };

// The worker's log, for connectors and other plugins: lines go where the worker's own go, with
// its pattern and level (`rmq-connect --log-level`). Implemented by the worker binary.
bool log_enabled(std::string_view logger_name, LogLevel level);
void log_write(std::string_view logger_name, LogLevel level, std::string_view message);

// A named logger whose calls stream their arguments, built only when the level is enabled:
//   const Logger log("jdbc-source");
//   log.info("read ", rows, " rows from ", table);
class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  bool enabled(LogLevel level) const { return log_enabled(name_, level); }

  template <typename... Args>
  void trace(const Args&... args) const {
    write(LogLevel::kTrace, args...);
  }
  template <typename... Args>
  void debug(const Args&... args) const {
    write(LogLevel::kDebug, args...);
  }
  template <typename... Args>
  void info(const Args&... args) const {
    write(LogLevel::kInfo, args...);
  }
  template <typename... Args>
  void warn(const Args&... args) const {
    write(LogLevel::kWarn, args...);
  }
  template <typename... Args>
  void error(const Args&... args) const {
    write(LogLevel::kError, args...);
  }

 private:
  template <typename... Args>
  void write(LogLevel level, const Args&... args) const {
    if (!log_enabled(name_, level)) return;
    std::ostringstream out;
    (out << ... << args);
    log_write(name_, level, out.str());
  }

  std::string name_;
};

}  // namespace rmqc
