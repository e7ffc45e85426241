#pragma once

// Reads a table back as text through a JDBC dialect, for tests that compare databases.

#include "jdbc/common/dialect.h"

#include <string>
#include <vector>

namespace rmqc::itest {

using SqlRows = std::vector<std::vector<std::string>>;

// NULL as this text (PostgreSQL's COPY spelling).
inline constexpr const char* kSqlNull = "\\N";

// Every row of sql, each value as text, in the order the database returns them. A fresh session
// per call, so a database restarted meanwhile is simply reconnected.
inline Result<SqlRows> query_rows(const connectors::jdbc::Dialect& dialect,
                                  const connectors::jdbc::ConnectionConfig& config,
                                  const std::string& sql) {
  RMQC_ASSIGN_OR_RETURN(auto conn, dialect.connect(config));
  RMQC_ASSIGN_OR_RETURN(auto cursor, conn->query(sql, {}));
  SqlRows out;
  std::vector<Value> row;
  while (true) {
    RMQC_ASSIGN_OR_RETURN(bool more, cursor->next(row));
    if (!more) break;
    std::vector<std::string> texts;
    for (const auto& v : row) {
      if (v.is_null()) {
        texts.emplace_back(kSqlNull);
      } else if (const auto* s = v.get_if<std::string>()) {
        texts.push_back(*s);
      } else {
        texts.push_back(v.to_string());
      }
    }
    out.push_back(std::move(texts));
  }
  return out;
}

}  // namespace rmqc::itest
