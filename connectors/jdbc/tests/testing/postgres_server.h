#pragma once

// A private PostgreSQL server for tests: Debian's postgresql-15 binaries (initdb + postgres) on
// a fresh data directory under /tmp/rmqc-pg/, a free loopback port, fsync off, wal_level=logical,
// the unix socket in the server's directory, and a password-authenticated superuser (scram over
// TCP). As root (CI), initdb and postgres run as the `postgres` system user. The postmaster gets
// SIGQUIT when the test process dies; a server left over by a crashed run is killed and its
// directory removed by the next start.

#include "rmqc/base/result.h"

#include "jdbc/common/dialect.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>

namespace rmqc::connectors::jdbc::testing {

class PostgresServer {
 public:
  struct Options {
    std::string user = "rmqc";
    std::string password = "secret";
    std::string database = "rmqc_test";
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    // wal_level of the server (CDC tests start one with "replica" to see the failure).
    std::string wal_level = "logical";
  };

  // initdb, start, create the database. Takes a few seconds.
  static Result<std::unique_ptr<PostgresServer>> start(const Options& options);
  static Result<std::unique_ptr<PostgresServer>> start() { return start(Options{}); }

  // The server shared by every test of the binary: started on first use, stopped at exit.
  // nullptr (and the reason in *error) when it cannot start.
  static PostgresServer* shared(std::string* error = nullptr);

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& user() const { return options_.user; }
  const std::string& password() const { return options_.password; }
  const std::string& database() const { return options_.database; }
  const std::string& directory() const { return dir_; }  // data/, postgres.log, the socket
  std::string data_dir() const { return dir_ + "/data"; }
  // jdbc:postgresql://127.0.0.1:<port>/<database>
  std::string url() const;
  // What PostgresDialect::connect() takes, with db.timezone time_zone.
  ConnectionConfig connection_config(const std::string& time_zone = "UTC") const;

  // Fast shutdown (sessions are terminated); the data stays. Then start again on the same port
  // and data (a database restart under a running client).
  Result<void> stop();
  Result<void> restart();
  bool running() const { return pid_ > 0; }

  // Runs sql (one or more statements) as the superuser in database (default: the test one).
  Result<void> exec(const std::string& sql, const std::string& database = "") const;

  // The server log's last bytes, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  explicit PostgresServer(Options options) : options_(std::move(options)) {}
  Result<void> init();
  Result<void> launch();

  Options options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
};

// Starts the shared server before the first test (and fails every test when it cannot).
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
};

}  // namespace rmqc::connectors::jdbc::testing
