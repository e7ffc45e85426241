#include "jdbc/mysql/mysql_connection.h"

#include "rmqc/api/logging.h"

#include "jdbc/common/values.h"

#include <absl/time/civil_time.h>
#include <absl/time/clock.h>
#include <absl/time/time.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <errmsg.h>
#include <limits>
#include <mutex>
#include <mysql.h>
#include <mysqld_error.h>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rmqc::connectors::jdbc::mysql {
namespace {

const Logger& logger() {
  static const Logger log("jdbc-mysql");
  return log;
}

void library_init() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool truthy(std::string_view value) {
  const std::string v = lower(value);
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

// ---------------------------------------------------------------------------------------------
// Settings: ConnectionConfig plus the URL properties this dialect honours.

struct Settings {
  std::string url;
  std::string host;
  unsigned port = 3306;
  std::string user;
  std::string password;
  std::string database;
  std::string unix_socket;
  unsigned connect_timeout_s = 10;
  unsigned read_timeout_s = 0;
  unsigned write_timeout_s = 0;
  bool tls = false;
  bool tls_verify = false;
  std::string tls_ca;
  bool tinyint1_is_bit = true;
  enum class ZeroDate { kError, kNull, kRound } zero_date = ZeroDate::kError;
  std::string zone_name;
};

unsigned millis_to_seconds(std::string_view text, std::string_view key) {
  std::int64_t ms = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || p != text.data() + text.size() || ms < 0) {
    logger().warn("connection.url: ignoring ", key, "=", text, " (expected milliseconds)");
    return 0;
  }
  return static_cast<unsigned>((ms + 999) / 1000);
}

Settings make_settings(const ConnectionConfig& config) {
  Settings s;
  s.url = config.url;
  s.host = config.host.empty() ? "localhost" : config.host;
  if (config.port > 0) s.port = static_cast<unsigned>(config.port);
  s.user = config.user;
  s.password = config.password;
  s.database = config.database;
  s.zone_name = config.time_zone.empty() ? "UTC" : config.time_zone;
  for (const auto& [key, value] : config.properties) {
    const std::string k = lower(key);
    const std::string v = lower(value);
    if (k == "user") {
      if (s.user.empty()) s.user = value;
    } else if (k == "password") {
      if (s.password.empty()) s.password = value;
    } else if (k == "connecttimeout") {
      s.connect_timeout_s = millis_to_seconds(value, key);
    } else if (k == "sockettimeout") {
      s.read_timeout_s = s.write_timeout_s = millis_to_seconds(value, key);
    } else if (k == "usessl" || k == "requiressl" || k == "usesl") {
      s.tls = truthy(value);
    } else if (k == "verifyservercertificate") {
      s.tls_verify = truthy(value);
      if (s.tls_verify) s.tls = true;
    } else if (k == "sslmode") {
      // Connector/J: DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY;
      // MariaDB Connector/J: disable, trust, verify-ca, verify-full.
      if (v == "disabled" || v == "disable" || v == "preferred") {
        s.tls = false;
      } else if (v == "required" || v == "trust") {
        s.tls = true;
      } else if (v == "verify_ca" || v == "verify_identity" || v == "verify-ca" ||
                 v == "verify-full") {
        s.tls = true;
        s.tls_verify = true;
      } else {
        logger().warn("connection.url: unknown sslMode=", value, "; TLS not used");
      }
    } else if (k == "sslca" || k == "serversslcert") {
      s.tls_ca = value;
    } else if (k == "tinyint1isbit") {
      s.tinyint1_is_bit = truthy(value);
    } else if (k == "zerodatetimebehavior") {
      if (v == "converttonull" || v == "convert_to_null") {
        s.zero_date = Settings::ZeroDate::kNull;
      } else if (v == "round") {
        s.zero_date = Settings::ZeroDate::kRound;
      } else {
        s.zero_date = Settings::ZeroDate::kError;
      }
    } else if (k == "servertimezone" || k == "connectiontimezone") {
      if (config.time_zone.empty() || config.time_zone == "UTC") {
        logger().info("connection.url: ", key, "=", value,
                      " used as the time zone of DATETIME values (db.timezone is UTC)");
        s.zone_name = value;
      } else {
        logger().debug("connection.url: ", key, " ignored: db.timezone=", config.time_zone,
                       " wins");
      }
    } else if (k == "localsocket") {
      s.unix_socket = value;
    } else if (k == "characterencoding" || k == "useunicode" || k == "charset") {
      logger().debug("connection.url: ", key,
                     " ignored: the connection always uses utf8mb4 and hands out UTF-8");
    } else {
      logger().debug("connection.url: property ", key, " is not used by the native runtime");
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Errors

bool is_connection_error(unsigned code) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_IPSOCK_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_HANDSHAKE_ERR:
    case CR_SERVER_LOST_EXTENDED:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case CR_SOCKET_CREATE_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_NORMAL_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case ER_CON_COUNT_ERROR:
    case 4031:  // MySQL 8: the client was disconnected by the server because of inactivity
      return true;
    default:
      return false;
  }
}

// kind and retriable flag of a server or client error number.
std::pair<ErrorCode, bool> classify(unsigned code) {
  if (is_connection_error(code)) return {ErrorCode::kUnavailable, true};
  switch (code) {
    case ER_LOCK_DEADLOCK:
      return {ErrorCode::kUnavailable, true};
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_STATEMENT_TIMEOUT:
    case 3024:  // MySQL: max_execution_time exceeded
      return {ErrorCode::kTimeout, true};
    case ER_QUERY_INTERRUPTED:  // killed by someone else than cancel()
      return {ErrorCode::kUnavailable, true};
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return {ErrorCode::kPermissionDenied, false};
    case ER_NO_SUCH_TABLE:
    case ER_BAD_DB_ERROR:
    case ER_BAD_FIELD_ERROR:
      return {ErrorCode::kNotFound, false};
    case ER_TABLE_EXISTS_ERROR:
      return {ErrorCode::kAlreadyExists, false};
    case CR_OUT_OF_MEMORY:
      return {ErrorCode::kResourceExhausted, false};
    default:
      break;
  }
  if (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) return {ErrorCode::kIoError, false};
  // Constraint violations (1062 duplicate key, 1048 NULL, 1451/1452 foreign keys, 4025 check),
  // bad values (1264 out of range, 1265/1292/1366 wrong value, 1406 too long), syntax: the
  // statement will not succeed as it is.
  return {ErrorCode::kInvalidArgument, false};
}

Error make_error(unsigned code, std::string_view sqlstate, std::string_view message,
                 std::string_view what) {
  auto [kind, retriable] = classify(code);
  std::string text(what);
  text += ": ";
  text += message;
  text += " (MySQL error ";
  text += std::to_string(code);
  if (!sqlstate.empty()) {
    text += ", SQLSTATE ";
    text += sqlstate;
  }
  text += ")";
  return Error(kind, std::move(text), retriable);
}

Error error_of(MYSQL* m, std::string_view what) {
  return make_error(mysql_errno(m), mysql_sqlstate(m), mysql_error(m), what);
}

Error cancelled_error() {
  return Error(ErrorCode::kCancelled, "statement cancelled (the task is stopping)");
}

// ---------------------------------------------------------------------------------------------
// Opening a handle

struct HandleCloser {
  void operator()(MYSQL* m) const {
    if (m != nullptr) mysql_close(m);
  }
};
using Handle = std::unique_ptr<MYSQL, HandleCloser>;

Result<Handle> open_handle(const Settings& s, unsigned connect_timeout_s, bool with_database) {
  library_init();
  Handle m(mysql_init(nullptr));
  if (!m) return Error(ErrorCode::kResourceExhausted, "mysql_init failed");
  if (connect_timeout_s > 0) {
    mysql_optionsv(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s);
  }
  if (s.read_timeout_s > 0) mysql_optionsv(m.get(), MYSQL_OPT_READ_TIMEOUT, &s.read_timeout_s);
  if (s.write_timeout_s > 0) {
    mysql_optionsv(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &s.write_timeout_s);
  }
  mysql_optionsv(m.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool off = 0;
  mysql_optionsv(m.get(), MYSQL_OPT_RECONNECT, &off);
  unsigned int no_infile = 0;
  mysql_optionsv(m.get(), MYSQL_OPT_LOCAL_INFILE, &no_infile);
  if (s.unix_socket.empty()) {
    // A JDBC URL names a TCP endpoint, "localhost" included.
    unsigned int tcp = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m.get(), MYSQL_OPT_PROTOCOL, &tcp);
  }
  if (s.tls) {
    my_bool on = 1;
    mysql_optionsv(m.get(), MYSQL_OPT_SSL_ENFORCE, &on);
    my_bool verify = s.tls_verify ? 1 : 0;
    mysql_optionsv(m.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (!s.tls_ca.empty()) mysql_optionsv(m.get(), MYSQL_OPT_SSL_CA, s.tls_ca.c_str());
  }
  const char* db = with_database && !s.database.empty() ? s.database.c_str() : nullptr;
  const char* socket = s.unix_socket.empty() ? nullptr : s.unix_socket.c_str();
  // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched (as Connector/J does), so the
  // sink's update mode sees a row that exists but did not change as written.
  if (mysql_real_connect(m.get(), s.host.c_str(), s.user.c_str(), s.password.c_str(), db, s.port,
                         socket, CLIENT_FOUND_ROWS) == nullptr) {
    return error_of(m.get(), "cannot connect to " + s.url + " as '" + s.user + "'");
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Parameters -> SQL literals

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, p);
}

void append_escaped(std::string& out, MYSQL* m, std::string_view text) {
  out.push_back('\'');
  const std::size_t at = out.size();
  out.resize(at + text.size() * 2 + 1);
  const unsigned long n = mysql_real_escape_string(m, out.data() + at, text.data(),
                                                   static_cast<unsigned long>(text.size()));
  out.resize(at + n);
  out.push_back('\'');
}

void append_hex(std::string& out, const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  out += "X'";
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  out.push_back('\'');
}

Result<void> append_literal(std::string& out, MYSQL* m, const SqlParam& param, const TimeZone& zone,
                            std::size_t index) {
  const Value& v = param.value;
  if (v.is_null()) {
    out += "NULL";
    return {};
  }
  std::int64_t i = 0;
  switch (param.kind) {
    case ColumnKind::kDate:
      if (v.to_int64(i)) {
        out.push_back('\'');
        out += format_date(static_cast<std::int32_t>(i));
        out.push_back('\'');
        return {};
      }
      break;
    case ColumnKind::kTime:
      if (v.to_int64(i)) {
        out.push_back('\'');
        out += format_time(static_cast<std::int32_t>(i));
        out.push_back('\'');
        return {};
      }
      break;
    case ColumnKind::kTimestamp:
      if (v.to_int64(i)) {
        out.push_back('\'');
        out += format_timestamp(i, zone);
        out.push_back('\'');
        return {};
      }
      break;
    default:
      break;
  }
  switch (v.kind()) {
    case Value::Kind::kBoolean:
      out += *v.get_if<bool>() ? "1" : "0";
      return {};
    case Value::Kind::kInt8:
    case Value::Kind::kInt16:
    case Value::Kind::kInt32:
    case Value::Kind::kInt64:
      v.to_int64(i);
      append_int(out, i);
      return {};
    case Value::Kind::kFloat32:
    case Value::Kind::kFloat64: {
      char buf[64];
      // A float goes out as the shortest double naming the same value: its own shortest
      // text ("3.4028235e+38") read as DOUBLE can exceed FLOAT's range.
      const double d = v.kind() == Value::Kind::kFloat32 ? static_cast<double>(*v.get_if<float>())
                                                         : *v.get_if<double>();
      const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, d);
      if (!std::isfinite(d)) {
        return Error(ErrorCode::kInvalidArgument,
                     "parameter " + std::to_string(index + 1) + ": " + v.to_string() +
                         " cannot be stored in MySQL (no NaN or infinity)");
      }
      // "1e+300" and "1.5" are both numeric literals MySQL reads as DOUBLE.
      out.append(buf, r.ptr);
      return {};
    }
    case Value::Kind::kDecimal:
      out += v.get_if<Decimal>()->to_string();
      return {};
    case Value::Kind::kString:
      append_escaped(out, m, *v.get_if<std::string>());
      return {};
    case Value::Kind::kBytes:
      append_hex(out, *v.get_if<Bytes>());
      return {};
    default:
      return Error(ErrorCode::kInvalidArgument, "parameter " + std::to_string(index + 1) +
                                                    " of kind " + std::string(kind_name(v.kind())) +
                                                    " cannot be sent to MySQL as " +
                                                    std::string(column_kind_name(param.kind)));
  }
}

// Replaces each '?' outside quotes, backticks and comments by its parameter's literal.
Result<std::string> substitute(MYSQL* m, const std::string& sql,
                               const std::vector<SqlParam>& params, const TimeZone& zone) {
  if (params.empty()) return sql;
  std::string out;
  out.reserve(sql.size() + params.size() * 16);
  std::size_t next = 0;
  const std::size_t n = sql.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      std::size_t j = i + 1;
      while (j < n) {
        if (sql[j] == '\\' && c != '`') {
          j += 2;
          continue;
        }
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      j = std::min(j + 1, n);
      out.append(sql, i, j - i);
      i = j;
    } else if (c == '-' && i + 2 < n && sql[i + 1] == '-' &&
               (sql[i + 2] == ' ' || sql[i + 2] == '\t' || sql[i + 2] == '\n')) {
      std::size_t j = sql.find('\n', i);
      j = j == std::string::npos ? n : j;
      out.append(sql, i, j - i);
      i = j;
    } else if (c == '#') {
      std::size_t j = sql.find('\n', i);
      j = j == std::string::npos ? n : j;
      out.append(sql, i, j - i);
      i = j;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      std::size_t j = sql.find("*/", i + 2);
      j = j == std::string::npos ? n : j + 2;
      out.append(sql, i, j - i);
      i = j;
    } else if (c == '?') {
      if (next >= params.size()) {
        return Error(ErrorCode::kInvalidArgument, "statement has more placeholders than the " +
                                                      std::to_string(params.size()) +
                                                      " parameters given: " + sql.substr(0, 200));
      }
      RMQC_RETURN_IF_ERROR(append_literal(out, m, params[next], zone, next));
      ++next;
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (next != params.size()) {
    return Error(ErrorCode::kInvalidArgument, "statement has " + std::to_string(next) +
                                                  " placeholders for " +
                                                  std::to_string(params.size()) + " parameters");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text -> values

constexpr std::int64_t kMillisPerDay = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_digits(const char* p, int n, int& out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = p[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

struct CivilText {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
};

// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.ffffff]", as the server writes them.
bool parse_civil(const char* p, std::size_t len, bool with_time, CivilText& out) {
  if (len < 10 || p[4] != '-' || p[7] != '-') return false;
  if (!read_digits(p, 4, out.year) || !read_digits(p + 5, 2, out.month) ||
      !read_digits(p + 8, 2, out.day)) {
    return false;
  }
  if (!with_time) return len == 10;
  if (len < 19 || p[10] != ' ' || p[13] != ':' || p[16] != ':') return false;
  if (!read_digits(p + 11, 2, out.hour) || !read_digits(p + 14, 2, out.minute) ||
      !read_digits(p + 17, 2, out.second)) {
    return false;
  }
  out.millis = 0;
  if (len > 19) {
    if (p[19] != '.') return false;
    int scale = 100;
    for (std::size_t i = 20; i < len; ++i) {
      const char c = p[i];
      if (c < '0' || c > '9') return false;
      out.millis += (c - '0') * scale;
      scale /= 10;
    }
  }
  return true;
}

enum class Decode : std::uint8_t {
  kBoolText,
  kBoolBit,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt64,
  kDecimal,
  kFloat,
  kDouble,
  kString,
  kBytes,
  kDate,
  kTime,
  kDateTime,   // zone-less: in the connection's time zone
  kTimestamp,  // TIMESTAMP: in the session's time zone
};

const char* type_name(const MYSQL_FIELD& f) {
  switch (f.type) {
    case MYSQL_TYPE_TINY:
      return "TINYINT";
    case MYSQL_TYPE_SHORT:
      return "SMALLINT";
    case MYSQL_TYPE_INT24:
      return "MEDIUMINT";
    case MYSQL_TYPE_LONG:
      return "INT";
    case MYSQL_TYPE_LONGLONG:
      return "BIGINT";
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return "DECIMAL";
    case MYSQL_TYPE_FLOAT:
      return "FLOAT";
    case MYSQL_TYPE_DOUBLE:
      return "DOUBLE";
    case MYSQL_TYPE_BIT:
      return "BIT";
    case MYSQL_TYPE_YEAR:
      return "YEAR";
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
      return "DATE";
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2:
      return "TIME";
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2:
      return "DATETIME";
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2:
      return "TIMESTAMP";
    case MYSQL_TYPE_JSON:
      return "JSON";
    case MYSQL_TYPE_ENUM:
      return "ENUM";
    case MYSQL_TYPE_SET:
      return "SET";
    case MYSQL_TYPE_GEOMETRY:
      return "GEOMETRY";
    case MYSQL_TYPE_NULL:
      return "NULL";
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
      return f.charsetnr == 63 ? "BLOB" : "TEXT";
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
      return f.charsetnr == 63 ? "VARBINARY" : "VARCHAR";
    case MYSQL_TYPE_STRING:
      if (f.flags & ENUM_FLAG) return "ENUM";
      if (f.flags & SET_FLAG) return "SET";
      return f.charsetnr == 63 ? "BINARY" : "CHAR";
    default:
      return "UNKNOWN";
  }
}

// MariaDB's extended metadata: the data type name of plugin types ("uuid", "inet6").
bool has_type_name(MYSQL_FIELD* f, std::string_view name) {
  MARIADB_CONST_STRING attr{nullptr, 0};
  return mariadb_field_attr(&attr, f, MARIADB_FIELD_ATTR_DATA_TYPE_NAME) == 0 &&
         attr.length == name.size() && lower(std::string_view(attr.str, attr.length)) == name;
}

bool is_json_field(MYSQL_FIELD* f) {
  if (f->type == MYSQL_TYPE_JSON) return true;
  MARIADB_CONST_STRING attr{nullptr, 0};
  if (mariadb_field_attr(&attr, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 && attr.length == 4) {
    return lower(std::string_view(attr.str, attr.length)) == "json";
  }
  return false;
}

// ColumnDef and decoder of one result column.
std::pair<ColumnDef, Decode> describe_field(MYSQL_FIELD* f, const Settings& s) {
  ColumnDef c;
  c.name.assign(f->name, f->name_length);
  c.nullable = (f->flags & NOT_NULL_FLAG) == 0;
  c.primary_key = (f->flags & PRI_KEY_FLAG) != 0;
  c.auto_increment = (f->flags & AUTO_INCREMENT_FLAG) != 0;
  const bool is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
  c.native_type = type_name(*f);
  if (is_unsigned) c.native_type += " UNSIGNED";
  Decode d = Decode::kString;
  switch (f->type) {
    case MYSQL_TYPE_TINY:
      if (f->length == 1 && s.tinyint1_is_bit) {
        c.kind = ColumnKind::kBoolean;
        c.native_type = "TINYINT(1)";
        d = Decode::kBoolText;
      } else if (is_unsigned) {
        c.kind = ColumnKind::kInt16;
        d = Decode::kInt16;
      } else {
        c.kind = ColumnKind::kInt8;
        d = Decode::kInt8;
      }
      break;
    case MYSQL_TYPE_SHORT:
      c.kind = is_unsigned ? ColumnKind::kInt32 : ColumnKind::kInt16;
      d = is_unsigned ? Decode::kInt32 : Decode::kInt16;
      break;
    case MYSQL_TYPE_INT24:
      c.kind = ColumnKind::kInt32;
      d = Decode::kInt32;
      break;
    case MYSQL_TYPE_LONG:
      c.kind = is_unsigned ? ColumnKind::kInt64 : ColumnKind::kInt32;
      d = is_unsigned ? Decode::kInt64 : Decode::kInt32;
      break;
    case MYSQL_TYPE_LONGLONG:
      if (is_unsigned) {
        c.kind = ColumnKind::kDecimal;
        c.precision = 20;
        c.scale = 0;
        d = Decode::kUInt64;
      } else {
        c.kind = ColumnKind::kInt64;
        d = Decode::kInt64;
      }
      break;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: {
      c.kind = ColumnKind::kDecimal;
      c.scale = static_cast<int>(f->decimals);
      long p = static_cast<long>(f->length) - (f->decimals > 0 ? 1 : 0) - (is_unsigned ? 0 : 1);
      c.precision = static_cast<int>(std::max(p, 1L));
      d = Decode::kDecimal;
      break;
    }
    case MYSQL_TYPE_FLOAT:
      c.kind = ColumnKind::kFloat32;
      d = Decode::kFloat;
      break;
    case MYSQL_TYPE_DOUBLE:
      c.kind = ColumnKind::kFloat64;
      d = Decode::kDouble;
      break;
    case MYSQL_TYPE_BIT:
      if (f->length == 1) {
        c.kind = ColumnKind::kBoolean;
        d = Decode::kBoolBit;
      } else {
        c.kind = ColumnKind::kBytes;
        c.precision = static_cast<int>((f->length + 7) / 8);
        d = Decode::kBytes;
      }
      c.native_type = "BIT(" + std::to_string(f->length) + ")";
      break;
    case MYSQL_TYPE_YEAR:
      c.kind = ColumnKind::kInt16;
      d = Decode::kInt16;
      break;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
      c.kind = ColumnKind::kDate;
      d = Decode::kDate;
      break;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2:
      c.kind = ColumnKind::kTime;
      c.precision = static_cast<int>(f->decimals);
      d = Decode::kTime;
      break;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2:
      c.kind = ColumnKind::kTimestamp;
      c.precision = static_cast<int>(f->decimals);
      d = Decode::kDateTime;
      break;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2:
      c.kind = ColumnKind::kTimestamp;
      c.with_time_zone = true;
      c.precision = static_cast<int>(f->decimals);
      d = Decode::kTimestamp;
      break;
    case MYSQL_TYPE_GEOMETRY:
      c.kind = ColumnKind::kBytes;
      d = Decode::kBytes;
      break;
    case MYSQL_TYPE_JSON:
      c.kind = ColumnKind::kJson;
      d = Decode::kString;
      break;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING: {
      const bool blob = f->type != MYSQL_TYPE_VARCHAR && f->type != MYSQL_TYPE_VAR_STRING &&
                        f->type != MYSQL_TYPE_STRING;
      if (f->charsetnr == 63 && (f->flags & (ENUM_FLAG | SET_FLAG)) == 0) {
        c.kind = ColumnKind::kBytes;
        d = Decode::kBytes;
        c.precision = blob ? 0 : static_cast<int>(f->length);
      } else if (has_type_name(f, "uuid")) {
        c.kind = ColumnKind::kUuid;
        c.native_type = "UUID";
        d = Decode::kString;
      } else if (is_json_field(f)) {
        c.kind = ColumnKind::kJson;
        c.native_type = "JSON";
        d = Decode::kString;
      } else {
        c.kind = ColumnKind::kString;
        d = Decode::kString;
        // Results are utf8mb4: length counts 4 bytes a character.
        c.precision = blob ? 0 : static_cast<int>(f->length / 4);
      }
      break;
    }
    default:
      c.kind = ColumnKind::kString;
      d = Decode::kString;
      break;
  }
  return {std::move(c), d};
}

// ---------------------------------------------------------------------------------------------
// Session state shared by a connection and its open cursor

struct Session {
  MYSQL* mysql = nullptr;
  MYSQL_RES* active = nullptr;  // the streaming result of an open cursor
  std::uint64_t active_id = 0;
  std::uint64_t next_id = 0;
  std::atomic<bool> cancel_requested{false};
  std::atomic<bool> in_statement{false};
  std::atomic<std::uint64_t> statement_seq{0};

  ~Session() {
    finish_active();
    if (mysql != nullptr) mysql_close(mysql);
  }
  // Reads and drops what is left of an open result, so the connection can run a statement.
  void finish_active() {
    if (active != nullptr) {
      mysql_free_result(active);
      active = nullptr;
    }
    active_id = 0;
    in_statement = false;
  }
};

class MySqlCursor final : public RowCursor {
 public:
  MySqlCursor(std::shared_ptr<Session> session, MYSQL_RES* res, std::uint64_t id,
              std::vector<ColumnDef> columns, std::vector<Decode> decoders,
              const Settings* settings, const TimeZone* zone, absl::TimeZone session_zone)
      : session_(std::move(session)),
        res_(res),
        id_(id),
        columns_(std::move(columns)),
        decoders_(std::move(decoders)),
        zero_date_(settings->zero_date),
        zone_(*zone),
        session_zone_(session_zone) {}

  ~MySqlCursor() override {
    if (res_ != nullptr && session_->active == res_ && session_->active_id == id_) {
      session_->finish_active();
    }
  }

  const std::vector<ColumnDef>& columns() const override { return columns_; }

  Result<bool> next(std::vector<Value>& row) override {
    if (res_ == nullptr) return false;
    if (session_->active != res_ || session_->active_id != id_) {
      res_ = nullptr;
      return Error(ErrorCode::kInternal,
                   "result closed: another statement ran on its connection before it was read");
    }
    if (session_->cancel_requested.exchange(false)) {
      close();
      return cancelled_error();
    }
    MYSQL_ROW r = mysql_fetch_row(res_);
    if (r == nullptr) {
      const unsigned code = mysql_errno(session_->mysql);
      if (code != 0) {
        Error e = error_of(session_->mysql, "reading rows");
        const bool cancelled = session_->cancel_requested.exchange(false);
        close();
        if (cancelled) return cancelled_error();
        return e;
      }
      close();
      return false;
    }
    const unsigned long* lengths = mysql_fetch_lengths(res_);
    const std::size_t n = decoders_.size();
    row.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (r[i] == nullptr) {
        row[i] = Value();
        continue;
      }
      if (auto bad = decode(i, r[i], lengths[i], row[i]); !bad.ok()) {
        close();
        return std::move(bad).error();
      }
    }
    return true;
  }

 private:
  void close() {
    if (res_ != nullptr && session_->active == res_ && session_->active_id == id_) {
      session_->finish_active();
    }
    res_ = nullptr;
    session_->in_statement = false;
  }

  Error bad_value(std::size_t i, const char* p, unsigned long len, std::string_view why = {}) {
    std::string text = "column '" + columns_[i].name + "' (" + columns_[i].native_type +
                       "): cannot read '" + std::string(p, std::min<unsigned long>(len, 64)) + "'";
    if (!why.empty()) {
      text += ": ";
      text += why;
    }
    return Error(ErrorCode::kParseError, std::move(text));
  }

  template <typename T>
  Result<void> store_int(std::size_t i, const char* p, unsigned long len, Value& out) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(p, p + len, v);
    if (ec != std::errc() || end != p + len || v < std::numeric_limits<T>::min() ||
        v > std::numeric_limits<T>::max()) {
      return bad_value(i, p, len);
    }
    out = Value(static_cast<T>(v));
    return {};
  }

  // A zero date ('0000-00-00') as zeroDateTimeBehavior says.
  Result<bool> zero_date(std::size_t i, const char* p, unsigned long len, Value& out,
                         std::int64_t round_value) {
    switch (zero_date_) {
      case Settings::ZeroDate::kNull:
        out = Value();
        return true;
      case Settings::ZeroDate::kRound:
        out = columns_[i].kind == ColumnKind::kDate
                  ? Value(static_cast<std::int32_t>(round_value / kMillisPerDay))
                  : Value(round_value);
        return true;
      case Settings::ZeroDate::kError:
        break;
    }
    return bad_value(i, p, len,
                     "zero date (add zeroDateTimeBehavior=convertToNull or round to the URL)");
  }

  Result<void> decode(std::size_t i, const char* p, unsigned long len, Value& out) {
    switch (decoders_[i]) {
      case Decode::kBoolText:
        out = Value(!(len == 1 && p[0] == '0'));
        return {};
      case Decode::kBoolBit: {
        bool any = false;
        for (unsigned long k = 0; k < len; ++k) any = any || p[k] != 0;
        out = Value(any);
        return {};
      }
      case Decode::kInt8:
        return store_int<std::int8_t>(i, p, len, out);
      case Decode::kInt16:
        return store_int<std::int16_t>(i, p, len, out);
      case Decode::kInt32:
        return store_int<std::int32_t>(i, p, len, out);
      case Decode::kInt64:
        return store_int<std::int64_t>(i, p, len, out);
      case Decode::kUInt64: {
        std::uint64_t v = 0;
        auto [end, ec] = std::from_chars(p, p + len, v);
        if (ec != std::errc() || end != p + len) return bad_value(i, p, len);
        if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          out = Value(Decimal::from_unscaled(static_cast<std::int64_t>(v), 0));
        } else {
          Decimal dec;
          dec.scale = 0;
          dec.unscaled.resize(9);
          dec.unscaled[0] = 0;
          for (int b = 0; b < 8; ++b) {
            dec.unscaled[static_cast<std::size_t>(8 - b)] = static_cast<std::uint8_t>(v >> (8 * b));
          }
          out = Value(std::move(dec));
        }
        return {};
      }
      case Decode::kDecimal: {
        const int scale = columns_[i].scale;
        // Fast path: up to 18 digits fit an int64 unscaled value.
        std::int64_t unscaled = 0;
        int digits = 0;
        int frac = -1;
        bool negative = false;
        bool ok = len > 0;
        for (unsigned long k = 0; k < len && ok; ++k) {
          const char ch = p[k];
          if (ch >= '0' && ch <= '9') {
            if (digits == 18) {
              ok = false;
              break;
            }
            unscaled = unscaled * 10 + (ch - '0');
            ++digits;
            if (frac >= 0) ++frac;
          } else if (ch == '.' && frac < 0) {
            frac = 0;
          } else if (ch == '-' && k == 0) {
            negative = true;
          } else {
            ok = false;
          }
        }
        if (ok && std::max(frac, 0) <= scale) {
          for (int k = std::max(frac, 0); k < scale; ++k) {
            if (unscaled > std::numeric_limits<std::int64_t>::max() / 10) {
              ok = false;
              break;
            }
            unscaled *= 10;
          }
          if (ok) {
            out = Value(Decimal::from_unscaled(negative ? -unscaled : unscaled, scale));
            return {};
          }
        }
        auto parsed = parse_decimal(std::string_view(p, len), scale);
        if (!parsed.ok()) return bad_value(i, p, len, parsed.error().message());
        out = Value(std::move(parsed).value());
        return {};
      }
      case Decode::kFloat: {
        float v = 0;
        auto [end, ec] = std::from_chars(p, p + len, v);
        if (ec != std::errc() || end != p + len) return bad_value(i, p, len);
        out = Value(v);
        return {};
      }
      case Decode::kDouble: {
        double v = 0;
        auto [end, ec] = std::from_chars(p, p + len, v);
        if (ec != std::errc() || end != p + len) return bad_value(i, p, len);
        out = Value(v);
        return {};
      }
      case Decode::kString:
        if (auto* s = out.get_if<std::string>()) {
          s->assign(p, len);
        } else {
          out = Value(std::string(p, len));
        }
        return {};
      case Decode::kBytes:
        if (auto* b = out.get_if<Bytes>()) {
          b->assign(reinterpret_cast<const std::uint8_t*>(p),
                    reinterpret_cast<const std::uint8_t*>(p) + len);
        } else {
          out = Value(Bytes(reinterpret_cast<const std::uint8_t*>(p),
                            reinterpret_cast<const std::uint8_t*>(p) + len));
        }
        return {};
      case Decode::kDate: {
        CivilText t;
        if (!parse_civil(p, len, false, t)) return bad_value(i, p, len);
        if (t.year == 0 || t.month == 0 || t.day == 0) {
          auto z = zero_date(i, p, len, out, days_from_civil(1, 1, 1) * kMillisPerDay);
          if (!z.ok()) return std::move(z).error();
          return {};
        }
        out = Value(static_cast<std::int32_t>(
            days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day))));
        return {};
      }
      case Decode::kTime: {
        auto ms = parse_time(std::string_view(p, len));
        if (!ms.ok()) return bad_value(i, p, len);
        if (*ms < 0 || *ms >= kMillisPerDay) {
          return bad_value(i, p, len, "outside 00:00:00..23:59:59.999 (a time of day)");
        }
        out = Value(*ms);
        return {};
      }
      case Decode::kDateTime:
      case Decode::kTimestamp: {
        CivilText t;
        if (!parse_civil(p, len, true, t)) return bad_value(i, p, len);
        if (t.year == 0 || t.month == 0 || t.day == 0) {
          auto z = zero_date(i, p, len, out, days_from_civil(1, 1, 1) * kMillisPerDay);
          if (!z.ok()) return std::move(z).error();
          return {};
        }
        const bool utc = decoders_[i] == Decode::kDateTime ? zone_.is_utc() : session_utc_;
        std::int64_t ms = 0;
        if (utc) {
          ms = (days_from_civil(t.year, static_cast<unsigned>(t.month),
                                static_cast<unsigned>(t.day)) *
                    86400 +
                t.hour * 3600 + t.minute * 60 + t.second) *
               1000;
        } else {
          const absl::CivilSecond cs(t.year, t.month, t.day, t.hour, t.minute, t.second);
          const absl::TimeZone& z =
              decoders_[i] == Decode::kDateTime ? zone_.zone() : session_zone_;
          ms = absl::ToUnixMillis(absl::FromCivil(cs, z));
        }
        out = Value(ms + t.millis);
        return {};
      }
    }
    return {};
  }

  std::shared_ptr<Session> session_;
  MYSQL_RES* res_;
  std::uint64_t id_;
  std::vector<ColumnDef> columns_;
  std::vector<Decode> decoders_;
  // Copies: a cursor may outlive its connection.
  Settings::ZeroDate zero_date_;
  TimeZone zone_;
  absl::TimeZone session_zone_;
  bool session_utc_ = session_zone_ == absl::UTCTimeZone();
};

// ---------------------------------------------------------------------------------------------
// The connection

std::string offset_text(int seconds) {
  std::string out = seconds < 0 ? "-" : "+";
  const int a = std::abs(seconds);
  const int hours = a / 3600;
  const int minutes = a / 60 % 60;
  out.push_back(static_cast<char>('0' + hours / 10 % 10));
  out.push_back(static_cast<char>('0' + hours % 10));
  out.push_back(':');
  out.push_back(static_cast<char>('0' + minutes / 10));
  out.push_back(static_cast<char>('0' + minutes % 10));
  return out;
}

class MySqlConnection final : public Connection {
 public:
  MySqlConnection(Settings settings, TimeZone zone, Handle handle)
      : settings_(std::move(settings)), zone_(std::move(zone)) {
    session_ = std::make_shared<Session>();
    session_->mysql = handle.release();
    thread_id_ = mysql_thread_id(session_->mysql);
  }

  // Session settings: strict SQL mode, autocommit, the time zone.
  Result<void> init() {
    RMQC_RETURN_IF_ERROR(
        run_plain("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                  "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', autocommit = 1",
                  "setting the session"));
    // TIMESTAMP columns created by auto.create: nullable, no implicit DEFAULT/ON UPDATE
    // (the default since MariaDB 10.10 and MySQL 8; older servers may refuse: ignored).
    const std::string explicit_defaults = "SET SESSION explicit_defaults_for_timestamp = 1";
    if (mysql_real_query(session_->mysql, explicit_defaults.data(), explicit_defaults.size()) !=
        0) {
      logger().debug("explicit_defaults_for_timestamp: ", mysql_error(session_->mysql));
    }
    auto packet = text_rows("SELECT @@max_allowed_packet", {});
    if (packet.ok() && !packet->empty() && (*packet)[0][0]) {
      const std::string& t = *(*packet)[0][0];
      std::from_chars(t.data(), t.data() + t.size(), max_packet_);
    }
    if (zone_.is_utc()) {
      session_zone_ = absl::UTCTimeZone();
      return run_plain("SET SESSION time_zone = '+00:00'", "setting the time zone");
    }
    // TIMESTAMP columns are converted by the server in the session zone: make it db.timezone so
    // DATETIME and TIMESTAMP values read and write alike. An IANA name needs the server's time
    // zone tables (mysql_tzinfo_to_sql); without them the zone's current offset is used.
    if (zone_.name().find('/') != std::string::npos) {
      std::string sql = "SET SESSION time_zone = ";
      append_escaped(sql, session_->mysql, zone_.name());
      if (mysql_real_query(session_->mysql, sql.data(), sql.size()) == 0) {
        session_zone_ = zone_.zone();
        return {};
      }
      if (mysql_errno(session_->mysql) != ER_UNKNOWN_TIME_ZONE) {
        return error_of(session_->mysql, "setting the time zone");
      }
    }
    const absl::Time now = absl::Now();
    const int offset = zone_.zone().At(now).offset;
    absl::TimeZone::CivilTransition transition;
    if (zone_.zone().NextTransition(now - absl::Hours(24 * 366), &transition) &&
        absl::FromCivil(transition.from, zone_.zone()) < now + absl::Hours(24 * 366)) {
      logger().warn("db.timezone ", zone_.name(),
                    " is unknown to the server (no time zone tables) and has daylight saving "
                    "time: TIMESTAMP columns are converted at the fixed offset ",
                    offset_text(offset), "; DATETIME columns use the zone's rules");
    }
    session_zone_ = absl::FixedTimeZone(offset);
    return run_plain("SET SESSION time_zone = '" + offset_text(offset) + "'",
                     "setting the time zone");
  }

  Result<std::unique_ptr<RowCursor>> query(const std::string& sql,
                                           const std::vector<SqlParam>& params) override {
    RMQC_ASSIGN_OR_RETURN(std::string text, prepare(sql, params));
    RMQC_RETURN_IF_ERROR(send(text));
    MYSQL* m = session_->mysql;
    MYSQL_RES* res = mysql_use_result(m);
    if (res == nullptr) {
      session_->in_statement = false;
      if (mysql_errno(m) != 0) return statement_error("query");
      // A statement without a result set: no columns, no rows.
      return std::unique_ptr<RowCursor>(
          new MySqlCursor(session_, nullptr, 0, {}, {}, &settings_, &zone_, session_zone_));
    }
    const unsigned n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    std::vector<ColumnDef> columns;
    std::vector<Decode> decoders;
    columns.reserve(n);
    decoders.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      auto [c, d] = describe_field(&fields[i], settings_);
      columns.push_back(std::move(c));
      decoders.push_back(d);
    }
    session_->active = res;
    session_->active_id = ++session_->next_id;
    return std::unique_ptr<RowCursor>(new MySqlCursor(session_, res, session_->active_id,
                                                      std::move(columns), std::move(decoders),
                                                      &settings_, &zone_, session_zone_));
  }

  Result<std::int64_t> execute(const std::string& sql,
                               const std::vector<SqlParam>& params) override {
    RMQC_ASSIGN_OR_RETURN(std::string text, prepare(sql, params));
    RMQC_RETURN_IF_ERROR(send(text));
    MYSQL* m = session_->mysql;
    std::int64_t changed = 0;
    if (mysql_field_count(m) > 0) {
      MYSQL_RES* res = mysql_use_result(m);
      if (res != nullptr) mysql_free_result(res);
    } else {
      changed = static_cast<std::int64_t>(mysql_affected_rows(m));
    }
    session_->in_statement = false;
    if (mysql_errno(m) != 0) return statement_error("statement");
    return changed;
  }

  Result<void> begin() override { return run_plain("START TRANSACTION", "begin"); }
  Result<void> commit() override { return run_plain("COMMIT", "commit"); }
  Result<void> rollback() override { return run_plain("ROLLBACK", "rollback"); }

  Result<std::vector<TableId>> list_tables(const TableFilter& filter) override {
    std::string sql =
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT "
        "IN ('mysql', 'sys', 'information_schema', 'performance_schema')";
    std::vector<SqlParam> params;
    if (!filter.catalog_pattern.empty()) {
      sql += " AND TABLE_SCHEMA LIKE ?";
      params.push_back({ColumnKind::kString, Value(filter.catalog_pattern)});
    } else if (!settings_.database.empty()) {
      // A URL naming a database means that database (Connector/J's nullCatalogMeansCurrent).
      sql += " AND TABLE_SCHEMA = ?";
      params.push_back({ColumnKind::kString, Value(settings_.database)});
    }
    std::vector<std::string> types;
    for (const auto& t : filter.table_types) {
      const std::string u = lower(t);
      if (u == "table" || u == "base table") {
        types.push_back("BASE TABLE");
        types.push_back("SYSTEM VERSIONED");
      } else if (u == "view" || u == "system view") {
        types.push_back("VIEW");
      } else {
        logger().debug("table.types: ", t, " does not exist in MySQL; ignored");
      }
    }
    if (types.empty()) types = {"BASE TABLE", "SYSTEM VERSIONED"};
    sql += " AND TABLE_TYPE IN (";
    for (std::size_t i = 0; i < types.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.push_back({ColumnKind::kString, Value(types[i])});
    }
    sql += ") ORDER BY TABLE_SCHEMA, TABLE_NAME";
    RMQC_ASSIGN_OR_RETURN(auto rows, text_rows(sql, params));
    std::vector<TableId> out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back(TableId{r[0].value_or(""), "", r[1].value_or("")});
    return out;
  }

  Result<std::vector<ColumnDef>> describe_table(const TableId& table) override;

  // Sets a flag the running (or, when none runs, the next) statement answers with kCancelled,
  // and kills the server-side query from a second connection (connect timeout 2 s).
  void cancel() override {
    session_->cancel_requested = true;
    const std::uint64_t seq = session_->statement_seq.load();
    auto killer = open_handle(settings_, 2, /*with_database=*/false);
    if (!killer.ok()) {
      logger().warn("cancel: ", killer.error().message());
      return;
    }
    const std::string kill = "KILL QUERY " + std::to_string(thread_id_);
    // A statement sent just before the flag was set may reach the server after the first KILL:
    // kill again while the same statement is still running.
    for (int attempt = 0; attempt < 4; ++attempt) {
      if (mysql_real_query(killer->get(), kill.data(), kill.size()) != 0) {
        const unsigned code = mysql_errno(killer->get());
        if (code != ER_NO_SUCH_THREAD) {
          logger().warn("cancel: ", error_of(killer->get(), kill).message());
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!session_->in_statement || session_->statement_seq.load() != seq) return;
    }
  }

 private:
  Result<std::string> prepare(const std::string& sql, const std::vector<SqlParam>& params) {
    session_->finish_active();
    return substitute(session_->mysql, sql, params, zone_);
  }

  Result<void> send(const std::string& text) {
    if (session_->cancel_requested.exchange(false)) return cancelled_error();
    if (max_packet_ > 0 && text.size() > max_packet_) {
      // The server would drop the connection, which looks retriable but never succeeds.
      return Error(ErrorCode::kResourceExhausted,
                   "statement of " + std::to_string(text.size()) +
                       " bytes exceeds the server's max_allowed_packet (" +
                       std::to_string(max_packet_) + " bytes): write fewer rows a statement");
    }
    session_->statement_seq.fetch_add(1);
    session_->in_statement = true;
    if (mysql_real_query(session_->mysql, text.data(), static_cast<unsigned long>(text.size())) !=
        0) {
      session_->in_statement = false;
      return statement_error("statement");
    }
    if (session_->cancel_requested.exchange(false)) {
      // Finished anyway (MySQL's SLEEP() returns 1 when killed): still report the cancel.
      if (mysql_field_count(session_->mysql) > 0) {
        MYSQL_RES* res = mysql_use_result(session_->mysql);
        if (res != nullptr) mysql_free_result(res);
      }
      session_->in_statement = false;
      return cancelled_error();
    }
    return {};
  }

  Error statement_error(std::string_view what) {
    Error e = error_of(session_->mysql, what);
    if (session_->cancel_requested.exchange(false)) return cancelled_error();
    return e;
  }

  Result<void> run_plain(const std::string& sql, std::string_view what) {
    session_->finish_active();
    RMQC_RETURN_IF_ERROR(send(sql));
    session_->in_statement = false;
    (void)what;
    return {};
  }

  // A small result as text (NULL = nullopt), for the catalog queries.
  Result<std::vector<std::vector<std::optional<std::string>>>> text_rows(
      const std::string& sql, const std::vector<SqlParam>& params) {
    RMQC_ASSIGN_OR_RETURN(std::string text, prepare(sql, params));
    RMQC_RETURN_IF_ERROR(send(text));
    MYSQL* m = session_->mysql;
    MYSQL_RES* res = mysql_store_result(m);
    session_->in_statement = false;
    std::vector<std::vector<std::optional<std::string>>> out;
    if (res == nullptr) {
      if (mysql_errno(m) != 0) return statement_error("catalog query");
      return out;
    }
    const unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
      const unsigned long* lengths = mysql_fetch_lengths(res);
      std::vector<std::optional<std::string>> row(n);
      for (unsigned i = 0; i < n; ++i) {
        if (r[i] != nullptr) row[i] = std::string(r[i], lengths[i]);
      }
      out.push_back(std::move(row));
    }
    mysql_free_result(res);
    return out;
  }

  Settings settings_;
  TimeZone zone_;
  absl::TimeZone session_zone_ = absl::UTCTimeZone();
  std::uint64_t max_packet_ = 0;
  std::shared_ptr<Session> session_;
  unsigned long thread_id_ = 0;
};

// "int(10) unsigned" -> a ColumnDef the way result metadata would give it.
ColumnDef column_from_catalog(const std::vector<std::optional<std::string>>& r, const Settings& s) {
  // COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, EXTRA, NUMERIC_PRECISION,
  // NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION
  auto text = [&](std::size_t i) { return r[i].value_or(""); };
  auto number = [&](std::size_t i) {
    std::int64_t v = 0;
    if (r[i]) std::from_chars(r[i]->data(), r[i]->data() + r[i]->size(), v);
    return v;
  };
  ColumnDef c;
  c.name = text(0);
  const std::string type = lower(text(1));
  const std::string column_type = lower(text(2));
  c.nullable = text(3) == "YES";
  c.primary_key = text(4) == "PRI";
  c.auto_increment = lower(text(5)).find("auto_increment") != std::string::npos;
  const bool is_unsigned = column_type.find("unsigned") != std::string::npos;
  c.native_type = column_type;
  for (char& ch : c.native_type)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const auto clamp = [](std::int64_t v) {
    return static_cast<int>(std::min<std::int64_t>(v, std::numeric_limits<int>::max()));
  };
  if (type == "tinyint") {
    if (s.tinyint1_is_bit && column_type.starts_with("tinyint(1)")) {
      c.kind = ColumnKind::kBoolean;
    } else {
      c.kind = is_unsigned ? ColumnKind::kInt16 : ColumnKind::kInt8;
    }
  } else if (type == "smallint") {
    c.kind = is_unsigned ? ColumnKind::kInt32 : ColumnKind::kInt16;
  } else if (type == "mediumint") {
    c.kind = ColumnKind::kInt32;
  } else if (type == "int" || type == "integer") {
    c.kind = is_unsigned ? ColumnKind::kInt64 : ColumnKind::kInt32;
  } else if (type == "bigint") {
    if (is_unsigned) {
      c.kind = ColumnKind::kDecimal;
      c.precision = 20;
    } else {
      c.kind = ColumnKind::kInt64;
    }
  } else if (type == "decimal" || type == "numeric") {
    c.kind = ColumnKind::kDecimal;
    c.precision = clamp(number(6));
    c.scale = clamp(number(7));
  } else if (type == "float") {
    c.kind = ColumnKind::kFloat32;
  } else if (type == "double" || type == "real" || type == "double precision") {
    c.kind = ColumnKind::kFloat64;
  } else if (type == "bit") {
    const std::int64_t bits = number(6);
    if (bits <= 1) {
      c.kind = ColumnKind::kBoolean;
    } else {
      c.kind = ColumnKind::kBytes;
      c.precision = clamp((bits + 7) / 8);
    }
  } else if (type == "year") {
    c.kind = ColumnKind::kInt16;
  } else if (type == "date") {
    c.kind = ColumnKind::kDate;
  } else if (type == "time") {
    c.kind = ColumnKind::kTime;
    c.precision = clamp(number(9));
  } else if (type == "datetime") {
    c.kind = ColumnKind::kTimestamp;
    c.precision = clamp(number(9));
  } else if (type == "timestamp") {
    c.kind = ColumnKind::kTimestamp;
    c.with_time_zone = true;
    c.precision = clamp(number(9));
  } else if (type == "json") {
    c.kind = ColumnKind::kJson;
  } else if (type == "char" || type == "varchar") {
    c.kind = ColumnKind::kString;
    c.precision = clamp(number(8));
  } else if (type == "tinytext" || type == "text" || type == "mediumtext" || type == "longtext" ||
             type == "enum" || type == "set") {
    c.kind = ColumnKind::kString;
  } else if (type == "binary" || type == "varbinary") {
    c.kind = ColumnKind::kBytes;
    c.precision = clamp(number(8));
  } else if (type == "tinyblob" || type == "blob" || type == "mediumblob" || type == "longblob" ||
             type == "geometry" || type == "point" || type == "linestring" || type == "polygon") {
    c.kind = ColumnKind::kBytes;
  } else if (type == "uuid") {  // MariaDB 10.7+
    c.kind = ColumnKind::kUuid;
  } else {
    c.kind = ColumnKind::kString;
  }
  return c;
}

Result<std::vector<ColumnDef>> MySqlConnection::describe_table(const TableId& table) {
  std::vector<SqlParam> params;
  std::string schema_condition;
  if (table.catalog.empty()) {
    schema_condition = "TABLE_SCHEMA = DATABASE()";
  } else {
    schema_condition = "TABLE_SCHEMA = ?";
    params.push_back({ColumnKind::kString, Value(table.catalog)});
  }
  params.push_back({ColumnKind::kString, Value(table.table)});
  RMQC_ASSIGN_OR_RETURN(
      auto rows,
      text_rows("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, EXTRA, "
                "NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION "
                "FROM information_schema.COLUMNS WHERE " +
                    schema_condition + " AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                params));
  if (rows.empty()) {
    std::string name = table.catalog.empty() ? table.table : table.catalog + "." + table.table;
    if (table.catalog.empty() && settings_.database.empty()) {
      return Error(ErrorCode::kNotFound,
                   "table '" + name +
                       "' not found: the connection has no default database (name the table as "
                       "db.table or put the database in connection.url)");
    }
    return Error(ErrorCode::kNotFound, "table '" + name + "' does not exist");
  }
  std::vector<ColumnDef> columns;
  columns.reserve(rows.size());
  for (const auto& r : rows) columns.push_back(column_from_catalog(r, settings_));
  // MariaDB's JSON is LONGTEXT with a CHECK (json_valid(`c`)) constraint.
  bool has_longtext = false;
  for (const auto& c : columns) has_longtext = has_longtext || c.native_type == "LONGTEXT";
  if (has_longtext) {
    auto checks = text_rows(
        "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA "
        "= " +
            std::string(table.catalog.empty() ? "DATABASE()" : "?") + " AND TABLE_NAME = ?",
        params);
    if (checks.ok()) {
      for (auto& c : columns) {
        if (c.native_type != "LONGTEXT") continue;
        const std::string wanted = "json_valid(`" + c.name + "`)";
        for (const auto& r : *checks) {
          if (r[0] && lower(*r[0]) == lower(wanted)) {
            c.kind = ColumnKind::kJson;
            c.native_type = "JSON";
          }
        }
      }
    } else {
      logger().debug("describe_table: no CHECK constraints: ", checks.error().message());
    }
  }
  return columns;
}

}  // namespace

Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) {
  Settings s = make_settings(config);
  auto zone = TimeZone::load(s.zone_name);
  if (!zone.ok()) return std::move(zone).error();
  RMQC_ASSIGN_OR_RETURN(Handle handle, open_handle(s, s.connect_timeout_s, true));
  auto connection =
      std::make_unique<MySqlConnection>(std::move(s), std::move(zone).value(), std::move(handle));
  RMQC_RETURN_IF_ERROR(connection->init());
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace rmqc::connectors::jdbc::mysql
