#pragma once

// The fixture of the MySQL CDC tests: a database of the test's own on the test binary's MariaDB,
// MysqlCdcTask instances started with a fake context (all stopped at the end), and the waits
// the tests share.

#include "rmqc/api/errors.h"

#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc/tests/cdc_test_support.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::connectors::cdc::cdc_test {

class MysqlTaskTest : public ::testing::Test {
 protected:
  // db_ = <db_prefix><the test's name>, lower case, cut to max_length; a fresh database of that
  // name created with create_sql appended ("; CREATE TABLE ..." or a character set).
  void open_database(const std::string& db_prefix, std::size_t max_length,
                     const std::string& create_sql = "") {
    srv_ = mariadb();  // one server for the test binary
    ASSERT_NE(srv_, nullptr);
    db_ = db_prefix + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : db_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    db_.resize(std::min(db_.size(), max_length));
    prefix_ = "srv_" + db_;
    sql("DROP DATABASE IF EXISTS " + db_ + "; CREATE DATABASE " + db_ + create_sql);
  }
  void TearDown() override {
    for (auto& t : tasks_) t->stop();
    tasks_.clear();
  }

  void sql(const std::string& statement) {
    ASSERT_NE(srv_, nullptr) << "no MariaDB server";
    auto r = srv_->exec(statement);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }

  MysqlCdcTask* start_task(const KeyValue& c, std::optional<RecordOffset> offset = {}) {
    contexts_.push_back(std::make_unique<rmqc::testing::FakeSourceContext>());
    auto& ctx = *contexts_.back();
    if (offset) ctx.reader.offsets[mysql::server_partition(prefix_)] = *offset;
    tasks_.push_back(std::make_unique<MysqlCdcTask>());
    auto* task = tasks_.back().get();
    task->init(ctx);
    task->start(c);
    return task;
  }

  // Polls until the first heartbeat (the reader streams). Data records before it go to *out, or
  // fail the test when out is null.
  void wait_streaming(MysqlCdcTask* task, std::vector<ConnectRecord>* out = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& r : task->poll()) {
        if (r.topic().starts_with("__debezium-heartbeat")) return;
        if (out == nullptr) {
          ADD_FAILURE() << "a data record before streaming started: " << r.topic();
        } else {
          out->push_back(std::move(r));
        }
      }
    }
    ADD_FAILURE() << "no heartbeat: the reader does not stream";
  }

  // Polls until poll() throws (60 s at most); returns the message, "" when it never did.
  std::string poll_failure(MysqlCdcTask* task) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        (void)task->poll();
      } catch (const ConnectException& e) {
        return e.what();
      }
    }
    return "";
  }

  std::string topic(const std::string& table) const { return prefix_ + "_" + db_ + "_" + table; }

  jdbc::testing::MariaDbServer* srv_ = nullptr;
  std::string db_;
  std::string prefix_;
  std::vector<std::unique_ptr<rmqc::testing::FakeSourceContext>> contexts_;
  std::vector<std::unique_ptr<MysqlCdcTask>> tasks_;
};

}  // namespace rmqc::connectors::cdc::cdc_test
