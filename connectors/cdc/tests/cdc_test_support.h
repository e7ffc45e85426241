#pragma once

// What the CDC tests share: the private MariaDB server of a test binary (one per binary, started
// on first use), an error reporter that records what a task reports (errors.tolerance=all), the
// fold of a table's change events into its content, and the incremental snapshot's
// notifications.

#include "rmqc/api/sink_task.h"
#include "rmqc/api/struct.h"

#if __has_include("jdbc/tests/testing/mariadb_server.h")
#include "jdbc/tests/testing/mariadb_server.h"
#define RMQC_CDC_TEST_MARIADB 1
#endif

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rmqc::connectors::cdc::cdc_test {

// The MariaDB server of the test binary, with the binlog settings CDC needs (full row metadata,
// checksums on). nullptr (and a failure) when it did not start.
#ifdef RMQC_CDC_TEST_MARIADB
inline jdbc::testing::MariaDbServer* mariadb() {
  static std::unique_ptr<jdbc::testing::MariaDbServer> instance;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    jdbc::testing::MariaDbServer::Options options;
    options.extra_args = {"--binlog-row-metadata=FULL", "--binlog-checksum=CRC32"};
    auto started = jdbc::testing::MariaDbServer::start(options);
    if (started.ok()) {
      instance = std::move(started).value();
    } else {
      failure = started.error().to_string();
    }
  }
  EXPECT_NE(instance, nullptr) << "MariaDB test server: " << failure;
  return instance.get();
}
#endif

// Records each report(record, error) of a task (the runtime's errors.tolerance=all).
class RecordingReporter final : public ErrorRecordReporter {
 public:
  void report(const ConnectRecord& record, const std::string& error) override {
    reported.emplace_back(record, error);
  }
  std::vector<std::pair<ConnectRecord, std::string>> reported;
};

// The rows of the incremental snapshot test tables (id INT key, v BIGINT, note VARCHAR):
// id -> (v, note).
using Row = std::pair<std::int64_t, std::string>;
using Table = std::map<std::int64_t, Row>;

struct Folded {
  Table table;
  std::int64_t reads = 0;
  std::int64_t stale_reads = 0;  // a read older than a streamed change of its key
  std::map<std::int64_t, int> reads_per_key;
};

// Folds the events of one table in order: c/u/r set the row, d removes it (tombstones skipped).
// Values of v only grow per key, so a read whose v is below the key's last streamed v, or a read
// of a key the stream deleted, came after a newer change: it is counted stale. Every read must
// be an incremental snapshot's.
inline Folded fold(const std::vector<ConnectRecord>& records, const std::string& topic) {
  Folded f;
  std::map<std::int64_t, std::optional<std::int64_t>> streamed;  // nullopt: deleted
  for (const auto& r : records) {
    if (r.topic() != topic || r.value.is_null()) continue;
    const Struct& e = r.value.as_struct();
    const std::string op = e.get_string("op");
    if (op == "d") {
      const std::int64_t id = e.get_struct("before").get("id").as_int32();
      f.table.erase(id);
      streamed[id] = std::nullopt;
      continue;
    }
    const Struct& after = e.get_struct("after");
    const std::int64_t id = after.get("id").as_int32();
    const std::int64_t v = after.get("v").as_int64();
    f.table[id] = {v, after.get("note").is_null() ? "" : after.get_string("note")};
    if (op == "r") {
      ++f.reads;
      ++f.reads_per_key[id];
      EXPECT_EQ(e.get_struct("source").get_string("snapshot"), "incremental");
      if (auto it = streamed.find(id); it != streamed.end() && (!it->second || v < *it->second)) {
        ++f.stale_reads;
      }
    } else {
      streamed[id] = v;
    }
  }
  return f;
}

// The incremental snapshot's TABLE_SCAN_COMPLETED notifications on topic, in order:
// (data_collection, status, message).
struct ScanNotification {
  std::string table;
  std::string status;
  std::string message;
};
inline std::vector<ScanNotification> scan_notifications(const std::vector<ConnectRecord>& records,
                                                        const std::string& topic) {
  std::vector<ScanNotification> out;
  for (const auto& r : records) {
    if (r.topic() != topic) continue;
    const Struct& n = r.value.as_struct();
    EXPECT_EQ(n.get_string("aggregate_type"), "Incremental Snapshot");
    EXPECT_EQ(n.get_string("type"), "TABLE_SCAN_COMPLETED");
    EXPECT_EQ(r.key.as_struct().get_string("id"), n.get_string("id"));
    ScanNotification s;
    for (const auto& [k, v] : n.get("additional_data").as_map()) {
      if (k.as_string() == "data_collection") s.table = v.as_string();
      if (k.as_string() == "status") s.status = v.as_string();
      if (k.as_string() == "message") s.message = v.as_string();
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The outcomes of the incremental snapshot tests' execute-snapshot of tables "nokey", "a",
// "missing", "b" (stopped while queued) and the signal table of ns, as notifications on topic:
// the keyless table's names what to do.
inline void expect_scan_outcomes(const std::vector<ConnectRecord>& events, const std::string& topic,
                                 const std::string& ns) {
  std::map<std::string, ScanNotification> outcome;
  for (auto& n : scan_notifications(events, topic)) outcome[n.table] = n;
  EXPECT_EQ(outcome[ns + ".a"].status, "SUCCEEDED");
  EXPECT_EQ(outcome[ns + ".nokey"].status, "NO_PRIMARY_KEY");
  EXPECT_NE(outcome[ns + ".nokey"].message.find("has no primary key"), std::string::npos)
      << outcome[ns + ".nokey"].message;
  EXPECT_EQ(outcome[ns + ".missing"].status, "UNKNOWN_SCHEMA");
  EXPECT_EQ(outcome[ns + ".debezium_signal"].status, "SKIPPED");
  EXPECT_EQ(outcome.count(ns + ".b"), 0U) << "b was stopped before it started";
  EXPECT_EQ(outcome.size(), 4U);
}

}  // namespace rmqc::connectors::cdc::cdc_test
