#include "jdbc/common/connection_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rmqc::connectors::jdbc {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s, std::string_view what,
                                   const std::string& safe_url) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Error(ErrorCode::kInvalidConfig,
                     "connection.url '" + safe_url + "': bad %-escape in " + std::string(what));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Error url_error(const std::string& safe_url, std::string_view problem) {
  return Error(ErrorCode::kInvalidConfig,
               "connection.url '" + safe_url + "': " + std::string(problem));
}

// key=value&key=value; user and password go to the config, the rest to properties.
Result<void> parse_params(std::string_view query, ConnectionConfig& config,
                          const std::string& safe_url) {
  while (!query.empty()) {
    auto amp = query.find_first_of("&;");
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string_view raw_key = item.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (raw_key.empty()) return url_error(safe_url, "a parameter has no name");
    RMQC_ASSIGN_OR_RETURN(std::string key, percent_decode(raw_key, "a parameter name", safe_url));
    RMQC_ASSIGN_OR_RETURN(std::string value,
                          percent_decode(raw_value, "parameter '" + key + "'", safe_url));
    if (iequals(key, "user")) {
      config.user = std::move(value);
    } else if (iequals(key, "password")) {
      config.password = std::move(value);
    } else {
      config.properties.emplace_back(std::move(key), std::move(value));
    }
  }
  return {};
}

}  // namespace

int default_port(std::string_view scheme) {
  if (scheme == "mysql" || scheme == "mariadb") return 3306;
  if (scheme == "postgresql" || scheme == "postgres") return 5432;
  return 0;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  // user:password@ in the authority.
  if (auto slashes = out.find("://"); slashes != std::string::npos) {
    std::size_t start = slashes + 3;
    std::size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    std::size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... parameters (any case).
  std::string low = lower(out);
  std::size_t pos = 0;
  while ((pos = low.find("password=", pos)) != std::string::npos) {
    bool at_param_start =
        pos > 0 && (low[pos - 1] == '?' || low[pos - 1] == '&' || low[pos - 1] == ';');
    std::size_t value_start = pos + 9;
    if (!at_param_start) {
      pos = value_start;
      continue;
    }
    std::size_t value_end = out.find_first_of("&;", value_start);
    if (value_end == std::string::npos) value_end = out.size();
    out.replace(value_start, value_end - value_start, "***");
    low = lower(out);
    pos = value_start + 3;
  }
  return out;
}

Result<ParsedUrl> parse_connection_url(std::string_view url) {
  const std::string safe = redact_url(url);
  ParsedUrl parsed;
  parsed.config.url = safe;
  if (url.empty()) {
    return Error(ErrorCode::kInvalidConfig, "connection.url is empty");
  }
  if (url.size() < 5 || !iequals(url.substr(0, 5), "jdbc:")) {
    return url_error(safe, "expected jdbc:<database>:..., such as jdbc:mysql://host:3306/db");
  }
  std::string_view rest = url.substr(5);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return url_error(safe, "no database type after 'jdbc:'");
  }
  parsed.scheme = lower(rest.substr(0, colon));
  rest = rest.substr(colon + 1);
  ConnectionConfig& config = parsed.config;

  if (parsed.scheme == "sqlite") {
    std::string_view path = rest;
    std::string_view query;
    // ":memory:" has no parameters; a file name may be followed by ?key=value.
    if (auto q = path.find('?'); q != std::string_view::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    if (path.empty()) return url_error(safe, "no database file after 'jdbc:sqlite:'");
    if (path.starts_with("file:")) path.remove_prefix(5);
    if (path.empty()) return url_error(safe, "no database file after 'jdbc:sqlite:file:'");
    config.database = std::string(path);
    RMQC_RETURN_IF_ERROR(parse_params(query, config, safe));
    return parsed;
  }

  // Server databases: //authority[/database][?params]; PostgreSQL also allows jdbc:postgresql:db.
  std::string_view authority;
  std::string_view path;
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    auto slash = rest.find('/');
    authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  } else if (parsed.scheme == "postgresql" && !rest.empty() &&
             rest.find('/') == std::string_view::npos) {
    path = rest;  // jdbc:postgresql:database (localhost)
  } else {
    return url_error(safe, "expected jdbc:" + parsed.scheme + "://host[:port][/database]");
  }
  if (authority.find(',') != std::string_view::npos) {
    return url_error(safe, "several hosts (failover lists) are not supported; name one host");
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto c = userinfo.find(':');
    RMQC_ASSIGN_OR_RETURN(config.user, percent_decode(userinfo.substr(0, c), "the user", safe));
    if (c != std::string_view::npos) {
      RMQC_ASSIGN_OR_RETURN(config.password,
                            percent_decode(userinfo.substr(c + 1), "the password", safe));
    }
  }
  std::string_view host = authority;
  std::string_view port_text;
  if (host.starts_with('[')) {  // [IPv6]:port
    auto close = host.find(']');
    if (close == std::string_view::npos) return url_error(safe, "unclosed '[' in the host");
    std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (after[0] != ':') return url_error(safe, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return url_error(safe, "empty port");
    }
  } else if (auto c = host.rfind(':'); c != std::string_view::npos) {
    port_text = host.substr(c + 1);
    host = host.substr(0, c);
    if (port_text.empty()) return url_error(safe, "empty port");
  }
  config.host = host.empty() ? "localhost" : std::string(host);
  config.port = default_port(parsed.scheme);
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return url_error(safe, "port '" + std::string(port_text) + "' is not a number in 1..65535");
    }
    config.port = port;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find('/') != std::string_view::npos) {
    return url_error(safe, "the database name '" + std::string(path) + "' contains '/'");
  }
  RMQC_ASSIGN_OR_RETURN(config.database, percent_decode(path, "the database name", safe));
  RMQC_RETURN_IF_ERROR(parse_params(query, config, safe));
  return parsed;
}

}  // namespace rmqc::connectors::jdbc
