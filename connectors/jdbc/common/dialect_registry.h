#pragma once

// The dialects a JDBC connector can use, registered explicitly (no static initializers):
// jdbc_plugin.cc builds one registry with every dialect of the build and hands it to the
// connectors it registers; tests build their own. A connector picks its dialect by dialect.name
// when set, else by the scheme of connection.url ("jdbc:<scheme>:...").

#include "jdbc/common/dialect.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::jdbc {

class DialectRegistry {
 public:
  // Adds a dialect; one whose name() is already registered replaces the earlier one.
  void add(std::shared_ptr<const Dialect> dialect);

  // By URL scheme ("mysql", "mariadb", "postgresql", "sqlite"), case-insensitive; nullptr when
  // none serves it.
  const Dialect* find_by_scheme(std::string_view scheme) const;
  // By dialect.name: the Java names ("MySqlDatabaseDialect", "PostgreSqlDatabaseDialect",
  // "SqliteDatabaseDialect") or a short name ("mysql", "postgresql"/"postgres", "sqlite"),
  // case-insensitive; nullptr when unknown.
  const Dialect* find_by_name(std::string_view name) const;

  // dialect.name when not empty, else the scheme; the error names what was asked and what
  // exists.
  Result<const Dialect*> resolve(std::string_view scheme, std::string_view dialect_name) const;

  // The registered dialects' names, for messages and docs.
  std::vector<std::string> names() const;
  const std::vector<std::shared_ptr<const Dialect>>& dialects() const { return dialects_; }

  // The registry of the loaded plugin: set by jdbc_plugin.cc's entry, used by connectors
  // constructed without a registry. Empty (no dialects) until installed.
  static std::shared_ptr<const DialectRegistry> installed();
  static void install(std::shared_ptr<const DialectRegistry> registry);

 private:
  std::vector<std::shared_ptr<const Dialect>> dialects_;
};

// Fills registry with every dialect of this build (jdbc_plugin.cc).
void register_all_dialects(DialectRegistry& registry);

}  // namespace rmqc::connectors::jdbc
