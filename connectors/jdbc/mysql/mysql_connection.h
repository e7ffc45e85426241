#pragma once

// A Connection over MariaDB Connector/C: the text protocol with client-side parameter
// substitution, results streamed row by row (mysql_use_result). Internal to the MySQL dialect.

#include "jdbc/common/dialect.h"

#include <memory>

namespace rmqc::connectors::jdbc::mysql {

Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config);

}  // namespace rmqc::connectors::jdbc::mysql
