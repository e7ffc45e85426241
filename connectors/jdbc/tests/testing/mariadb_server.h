#pragma once

// A private MariaDB server for tests: Debian's mariadb-install-db + mariadbd on a fresh data
// directory under /tmp/rmqc-mariadb/, a free loopback port, the unix socket in the server's
// directory, a ROW binary log (server-id 1, for the CDC connector), utf8mb4 by default, no
// fsync at commit, and a password user with every privilege (replication included) plus a
// database. mariadbd refuses to run as root unless told to: as root (CI) it gets --user=root.
// The server gets SIGTERM when the test process dies; a server left over by a crashed run is
// killed and its directory removed by the next start.

#include "rmqc/base/result.h"

#include "jdbc/common/dialect.h"

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace rmqc::connectors::jdbc::testing {

class MariaDbServer {
 public:
  struct Options {
    std::string user = "rmqc";
    std::string password = "secret";
    std::string database = "rmqc_test";
    std::string mariadbd = "/usr/sbin/mariadbd";
    std::string install_db = "/usr/bin/mariadb-install-db";
    // More mariadbd options, e.g. "--binlog-row-metadata=FULL" for the CDC connector's tests.
    std::vector<std::string> extra_args;
  };

  // install-db, start, create the user and database. Takes a second or two.
  static Result<std::unique_ptr<MariaDbServer>> start(const Options& options);
  static Result<std::unique_ptr<MariaDbServer>> start() { return start(Options{}); }

  // The server shared by every test of the binary: started on first use, stopped at exit.
  // nullptr (and the reason in *error) when it cannot start.
  static MariaDbServer* shared(std::string* error = nullptr);

  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;
  ~MariaDbServer();

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& user() const { return options_.user; }
  const std::string& password() const { return options_.password; }
  const std::string& database() const { return options_.database; }
  const std::string& directory() const { return dir_; }  // data/, error.log, sock, binlog.*
  std::string socket_path() const { return dir_ + "/sock"; }
  // jdbc:mysql://127.0.0.1:<port>/<database>, or without the database.
  std::string url(bool with_database = true) const;
  // What the MySQL dialect's connect() takes, with db.timezone time_zone.
  ConnectionConfig connection_config(const std::string& time_zone = "UTC",
                                     bool with_database = true) const;

  // Clean shutdown (SIGTERM, wait); the data stays. Then start again on the same port and data
  // (a database restart under a running client).
  Result<void> stop();
  Result<void> restart();
  bool running() const { return pid_ > 0; }

  // Runs sql (one or more statements separated by ';') as root over the unix socket.
  Result<void> exec(const std::string& sql) const;

  // The server's error log's last bytes, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  explicit MariaDbServer(Options options) : options_(std::move(options)) {}
  Result<void> init();
  Result<void> launch();
  Result<void> wait_ready();

  Options options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
};

// Starts the shared server before the first test (and fails every test when it cannot).
class MariaDbEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
};

}  // namespace rmqc::connectors::jdbc::testing
