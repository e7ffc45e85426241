#pragma once

// The MySQL / MariaDB dialect (MariaDB Connector/C, which speaks to both servers): URL schemes
// "mysql" and "mariadb", dialect.name "MySqlDatabaseDialect". The type mapping and the URL
// properties it honours are documented in docs/connectors/jdbc.md ("MySQL and MariaDB").

#include "jdbc/common/dialect.h"
#include "jdbc/common/dialect_registry.h"

#include <memory>

namespace rmqc::connectors::jdbc {

// The dialect itself (tests use it directly).
std::shared_ptr<const Dialect> make_mysql_dialect();

// Adds the dialect to registry.
void register_mysql_dialect(DialectRegistry& registry);

}  // namespace rmqc::connectors::jdbc
