#pragma once

// The connection keys shared by the JDBC source and sink, and connecting with retries.

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/logging.h"
#include "rmqc/api/wakeup.h"

#include "jdbc/common/dialect.h"
#include "jdbc/common/dialect_registry.h"
#include "jdbc/common/values.h"

#include <chrono>
#include <memory>
#include <string>

namespace rmqc::connectors::jdbc {

inline constexpr std::string_view kConnectionUrlConfig = "connection.url";
inline constexpr std::string_view kConnectionUserConfig = "connection.user";
inline constexpr std::string_view kConnectionPasswordConfig = "connection.password";
inline constexpr std::string_view kConnectionAttemptsConfig = "connection.attempts";
inline constexpr std::string_view kConnectionBackoffConfig = "connection.backoff.ms";
inline constexpr std::string_view kDialectNameConfig = "dialect.name";
inline constexpr std::string_view kDbTimezoneConfig = "db.timezone";
inline constexpr std::string_view kQuoteIdentifiersConfig = "quote.sql.identifiers";

// Adds connection.url, connection.user, connection.password (a password: hidden), connection.
// attempts (3), connection.backoff.ms (10000), dialect.name, db.timezone (UTC) and
// quote.sql.identifiers (ALWAYS | NEVER).
void define_connection_keys(ConfigDef& def);

// Everything needed to open connections, from a parsed config.
struct JdbcConnectionSettings {
  const Dialect* dialect = nullptr;
  std::string scheme;
  ConnectionConfig connection;
  TimeZone time_zone;
  int attempts = 3;
  std::chrono::milliseconds backoff{10000};
  bool quote_identifiers = true;
};

// Resolves the dialect (dialect.name, else the URL's scheme), parses the URL and db.timezone;
// connection.user / connection.password win over the URL's user / password parameters.
Result<JdbcConnectionSettings> connection_settings(const KeyValue& config,
                                                   const DialectRegistry& dialects);

// Opens a connection, trying up to settings.attempts times with settings.backoff between tries
// while the error is retriable (an unreachable database); a non-retriable one (bad credentials,
// missing database) returns at once. A notification of wakeup (may be null) ends the back-off
// early with a retriable kCancelled error. The final error names the URL (never the password)
// and the number of attempts.
Result<std::unique_ptr<Connection>> connect_with_retries(const JdbcConnectionSettings& settings,
                                                         WakeupSignal* wakeup, const Logger& log);

}  // namespace rmqc::connectors::jdbc
