#pragma once

// connection.url as JDBC users write it:
//   jdbc:mysql://host[:port][/database][?key=value&...]   (also jdbc:mariadb://, user:pw@host)
//   jdbc:postgresql://host[:port]/database[?key=value&...]
//   jdbc:sqlite:PATH   jdbc:sqlite::memory:   jdbc:sqlite:file.db?key=value
// The user and password URL parameters fill ConnectionConfig::user/password (the caller lets
// connection.user / connection.password win). Messages never contain the password.

#include "jdbc/common/dialect.h"

#include <string>
#include <string_view>

namespace rmqc::connectors::jdbc {

struct ParsedUrl {
  std::string scheme;  // lower case: "mysql", "mariadb", "postgresql", "sqlite", ...
  ConnectionConfig config;
};

Result<ParsedUrl> parse_connection_url(std::string_view url);

// The URL with every password (a password= parameter, the password of user:password@) replaced
// by "***": safe for logs and messages.
std::string redact_url(std::string_view url);

// The default port of a scheme (3306, 5432), 0 when none.
int default_port(std::string_view scheme);

}  // namespace rmqc::connectors::jdbc
