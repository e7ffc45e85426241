#include "jdbc/common/connection_config.h"

#include "jdbc/common/connection_url.h"

#include <algorithm>
#include <cctype>
#include <thread>

namespace rmqc::connectors::jdbc {

void define_connection_keys(ConfigDef& def) {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  def.define(std::string(kConnectionUrlConfig), T::kString, std::nullopt, I::kHigh,
             "The database: jdbc:mysql://host:port[/db][?k=v&...], jdbc:mariadb://..., "
             "jdbc:postgresql://host[:port]/db[?k=v&...] or jdbc:sqlite:PATH. The URL "
             "parameters user and password are used when connection.user / "
             "connection.password are not set.",
             validators::non_empty());
  def.define(std::string(kConnectionUserConfig), T::kString, "", I::kHigh, "The database user.");
  def.define(std::string(kConnectionPasswordConfig), T::kPassword, "", I::kHigh,
             "The database user's password (never shown).");
  def.define(std::string(kConnectionAttemptsConfig), T::kInt, "3", I::kLow,
             "How many times to try connecting before giving up (an unreachable database; bad "
             "credentials are not retried).",
             validators::between(1, 1'000'000));
  def.define(std::string(kConnectionBackoffConfig), T::kLong, "10000", I::kLow,
             "Milliseconds to wait between connection attempts.",
             validators::between(0, 3'600'000));
  def.define(std::string(kDialectNameConfig), T::kString, "", I::kLow,
             "Force a dialect instead of choosing it by the URL: MySqlDatabaseDialect, "
             "PostgreSqlDatabaseDialect, SqliteDatabaseDialect (or mysql, postgresql, sqlite).");
  def.define(std::string(kDbTimezoneConfig), T::kString, "UTC", I::kMedium,
             "The time zone of DATETIME / TIMESTAMP WITHOUT TIME ZONE values: an IANA name "
             "(Asia/Shanghai), UTC, or an offset (+08:00).",
             [](std::string_view value) -> std::optional<std::string> {
               auto tz = TimeZone::load(value);
               if (!tz.ok()) return tz.error().message();
               return std::nullopt;
             });
  def.define(std::string(kQuoteIdentifiersConfig), T::kString, "ALWAYS", I::kLow,
             "Whether table and column names are quoted in SQL: ALWAYS or NEVER.",
             validators::one_of({"ALWAYS", "NEVER"}));
}

Result<JdbcConnectionSettings> connection_settings(const KeyValue& config,
                                                   const DialectRegistry& dialects) {
  JdbcConnectionSettings s;
  RMQC_ASSIGN_OR_RETURN(ParsedUrl url,
                        parse_connection_url(config.get_string(kConnectionUrlConfig)));
  RMQC_ASSIGN_OR_RETURN(s.dialect,
                        dialects.resolve(url.scheme, config.get_string(kDialectNameConfig)));
  s.scheme = std::move(url.scheme);
  s.connection = std::move(url.config);
  if (std::string user = config.get_string(kConnectionUserConfig); !user.empty()) {
    s.connection.user = std::move(user);
  }
  if (std::string password = config.get_string(kConnectionPasswordConfig); !password.empty()) {
    s.connection.password = std::move(password);
  }
  const std::string tz_name = config.get_string(kDbTimezoneConfig, "UTC");
  auto tz = TimeZone::load(tz_name.empty() ? "UTC" : tz_name);
  if (!tz.ok()) {
    return Error(ErrorCode::kInvalidConfig,
                 std::string(kDbTimezoneConfig) + ": " + tz.error().message());
  }
  s.time_zone = std::move(tz).value();
  s.connection.time_zone = s.time_zone.name();
  s.attempts = std::max(1, config.get_int(kConnectionAttemptsConfig, 3));
  s.backoff = std::chrono::milliseconds(
      std::max<std::int64_t>(0, config.get_long(kConnectionBackoffConfig, 10000)));
  std::string quote = config.get_string(kQuoteIdentifiersConfig, "ALWAYS");
  for (char& c : quote) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  s.quote_identifiers = quote != "NEVER";
  return s;
}

Result<std::unique_ptr<Connection>> connect_with_retries(const JdbcConnectionSettings& settings,
                                                         WakeupSignal* wakeup, const Logger& log) {
  const std::string& url = settings.connection.url;  // redacted by parse_connection_url
  for (int attempt = 1;; ++attempt) {
    auto connected = settings.dialect->connect(settings.connection);
    if (connected.ok()) {
      if (attempt > 1) log.info("connected to ", url, " at attempt ", attempt);
      return connected;
    }
    Error error = std::move(connected).error();
    if (!error.is_retriable()) {
      return Error(error.code(), "cannot connect to " + url + ": " + error.message(), false);
    }
    if (attempt >= settings.attempts) {
      return Error(error.code(),
                   "cannot connect to " + url + " after " + std::to_string(attempt) +
                       (attempt == 1 ? " attempt: " : " attempts: ") + error.message(),
                   true);
    }
    log.warn("cannot connect to ", url, " (attempt ", attempt, " of ", settings.attempts,
             "): ", error.message(), "; retrying in ", settings.backoff.count(), " ms");
    if (wakeup != nullptr) {
      if (wakeup->wait_for(settings.backoff)) {
        return Error::retriable(ErrorCode::kCancelled,
                                "connecting to " + url + " was interrupted (stopping)");
      }
    } else {
      std::this_thread::sleep_for(settings.backoff);
    }
  }
}

}  // namespace rmqc::connectors::jdbc
