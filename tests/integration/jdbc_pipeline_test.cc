// The JDBC connectors end to end (issue 12, "Tests"): a private MariaDB and a private PostgreSQL
// (connectors/jdbc/tests/testing/), `rmq-connect standalone` as a child process with its embedded
// broker, and seed 002's exact JdbcSourceConnector JSON (incrementing mode, PatternRename
// company -> company02, JsonConverter) reading MariaDB's `employee` into a topic that three JDBC
// sinks write into PostgreSQL:
//   employee-copy     upsert, pk.mode record_value id, auto.create   -> employee_copy
//   employee-log      insert, pk.mode none, auto.create              -> employee_log
//                     (every message is one row there: duplicates show as extra rows)
//   employee-checked  upsert into a table the test creates with CHECK (salary < 100000),
//                     errors.tolerance all and a dead letter queue   -> employee_checked
// Phases, one worker store throughout:
//   1. rows present before the connectors and rows inserted after arrive, values exact;
//   2. SIGTERM and restart (rows inserted while the worker is down): no duplicate message in the
//      topic, no duplicate row in employee_log, no gap;
//   3. kill -9 while rows stream in: nothing lost; duplicates in employee_log counted, printed and
//      held to what one commit interval of each stage explains (bound below);
//   4. PostgreSQL stopped and started again while rows stream in: nothing lost;
//   5. a poison row (salary breaks employee_checked's CHECK) in a multi-row insert: the other rows
//      reach employee_checked, exactly that record is in the DLQ topic, the task stays RUNNING.
#include "broker_probe.h"
#include "jdbc/postgres/postgres_dialect.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "sql_rows.h"
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>

namespace rmqc::itest {
namespace {

using connectors::jdbc::PostgresDialect;
using connectors::jdbc::testing::MariaDbServer;
using connectors::jdbc::testing::PostgresServer;

constexpr const char* kTopic = "jdbc-employee";
constexpr const char* kDlqTopic = "jdbc-employee-dlq";
constexpr const char* kSource = "employee-04446";  // seed 002's connector name
constexpr const char* kCopy = "employee-copy";
constexpr const char* kLog = "employee-log";
constexpr const char* kChecked = "employee-checked";
constexpr const char* kJsonConverter =
    "org.apache.rocketmq.connect.runtime.converter.record.json.JsonConverter";
constexpr const char* kNull = kSqlNull;

// --- the rows ---------------------------------------------------------------------------------

struct Row {
  std::string id, name, company, salary, hired, updated;
  bool operator==(const Row&) const = default;
};
void PrintTo(const Row& r, std::ostream* o) {
  *o << "{" << r.id << ", " << r.name << ", " << r.company << ", " << r.salary << ", " << r.hired
     << ", " << r.updated << "}";
}

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof(b), "%02d", v);
  return b;
}

std::string date_text(std::chrono::sys_days d) {
  std::chrono::year_month_day ymd{d};
  return std::to_string(static_cast<int>(ymd.year())) + "-" +
         two(static_cast<int>(static_cast<unsigned>(ymd.month()))) + "-" +
         two(static_cast<int>(static_cast<unsigned>(ymd.day())));
}

// Row i as MariaDB gets it and PostgreSQL must have it. Some companies are NULL; salaries have
// two decimals (exact: 0.10 + 0.20 style values a double would not keep); dates cross a leap day.
Row expected_row(int i, bool poison = false) {
  using namespace std::chrono;
  Row r;
  r.id = std::to_string(i);
  r.name = (poison ? "poison-" : "emp-") + std::to_string(i);
  r.company = i % 13 == 0 ? kNull : "acme-" + std::to_string(i % 7);
  r.salary = poison ? "123456.78" : std::to_string((i * 7919) % 99000) + "." + two(i % 100);
  r.hired = date_text(sys_days{year{1990} / 1 / 1} + days{i * 3});
  auto t = sys_days{year{2024} / 2 / 28} + seconds{i * 61} + milliseconds{(i * 7) % 1000};
  auto day = floor<days>(t);
  hh_mm_ss<milliseconds> hms{t - day};
  char b[32];
  std::snprintf(b, sizeof(b), " %02d:%02d:%02d.%03d", static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  r.updated = date_text(day) + b;
  return r;
}

std::string sql_literal(const std::string& v) {
  return v == kNull ? "NULL" : "'" + v + "'";
}

// One multi-row INSERT of ids [from, to]; poison_id gets a salary employee_checked rejects.
std::string insert_sql(const std::string& table, int from, int to, int poison_id = -1) {
  std::string sql = "INSERT INTO " + table + " (id, name, company, salary, hired, updated) VALUES ";
  for (int i = from; i <= to; ++i) {
    Row r = expected_row(i, i == poison_id);
    if (i > from) sql += ",";
    sql += "(" + r.id + "," + sql_literal(r.name) + "," + sql_literal(r.company) + "," + r.salary +
           "," + sql_literal(r.hired) + "," + sql_literal(r.updated) + ")";
  }
  return sql;
}

// --- PostgreSQL, read through the dialect (a fresh session per call: the server restarts) -------

using Rows = SqlRows;

Result<Rows> pg_query(const PostgresServer& pg, const std::string& sql) {
  PostgresDialect dialect;
  return query_rows(dialect, pg.connection_config(), sql);
}

// count(*), count(DISTINCT id), min(id), max(id) of a table; all -1 when it cannot be read (yet).
struct Counts {
  long long rows = -1, distinct = -1, min = -1, max = -1;
  // Exactly the ids 1..n, each at least once.
  bool complete(long long n) const { return distinct == n && min == 1 && max == n; }
};
std::ostream& operator<<(std::ostream& o, const Counts& c) {
  return o << "{rows " << c.rows << ", distinct ids " << c.distinct << ", ids " << c.min << ".."
           << c.max << "}";
}

Counts pg_counts(const PostgresServer& pg, const std::string& table) {
  Counts c;
  auto r = pg_query(pg,
                    "SELECT count(*)::text, count(DISTINCT id)::text, coalesce(min(id), 0)::text, "
                    "coalesce(max(id), 0)::text FROM " +
                        table);
  if (!r.ok() || r->size() != 1 || (*r)[0].size() != 4) return c;
  const auto& v = (*r)[0];
  c.rows = std::stoll(v[0]);
  c.distinct = std::stoll(v[1]);
  c.min = std::stoll(v[2]);
  c.max = std::stoll(v[3]);
  return c;
}

Result<std::vector<Row>> pg_rows(const PostgresServer& pg, const std::string& table) {
  RMQC_ASSIGN_OR_RETURN(Rows rows,
                        pg_query(pg,
                                 "SELECT id::text, name, company02, salary::text, hired::text, "
                                 "to_char(updated, 'YYYY-MM-DD HH24:MI:SS.MS') FROM " +
                                     table + " t ORDER BY t.id"));
  std::vector<Row> out;
  for (auto& v : rows) {
    if (v.size() != 6) return Error(ErrorCode::kInternal, "expected 6 columns");
    out.push_back(Row{v[0], v[1], v[2], v[3], v[4], v[5]});
  }
  return out;
}

// --- the broker and the worker's REST API -------------------------------------------------------

long long topic_messages(const WorkerProcess& w, const std::string& topic) {
  return rmqc::itest::topic_messages(w.namesrv(), topic);
}

long long number(const Json& v) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_string()) return std::atoll(v.get<std::string>().c_str());
  return -1;
}

// The source's committed incrementing offset (largest over its tables); -1 when none.
long long source_committed(const WorkerProcess& w) {
  auto r = w.get(std::string("/connectors/") + kSource + "/offsets");
  if (r.status != 200) return -1;
  long long best = -1;
  Json j = r.json();
  if (!j.is_object() || !j["offsets"].is_array()) return -1;
  for (const auto& o : j["offsets"]) {
    if (o.contains("offset") && o["offset"].contains("incrementing")) {
      best = std::max(best, number(o["offset"]["incrementing"]));
    }
  }
  return best;
}

// A sink's committed offsets summed over its queues (messages it will not be given again).
long long sink_committed(const WorkerProcess& w, const std::string& name) {
  auto r = w.get("/connectors/" + name + "/offsets");
  if (r.status != 200) return -1;
  Json j = r.json();
  if (!j.is_object() || !j["offsets"].is_array()) return -1;
  long long sum = 0;
  for (const auto& o : j["offsets"]) {
    if (o.contains("offset") && o["offset"].contains("queueOffset")) {
      sum += number(o["offset"]["queueOffset"]);
    }
  }
  return sum;
}

// Largest step between two consecutive committed values seen, and the last one.
struct Progress {
  long long last = -1;
  long long max_step = 0;
  void see(long long v) {
    if (v > last) {
      if (last >= 0) max_step = std::max(max_step, v - last);
      last = v;
    }
  }
};

// Inserts rows [from, from + batches * per_batch) into MariaDB, per_batch rows every `every`,
// on its own thread. `upper` is set to a batch's last id before the batch is sent, so after a
// kill it bounds every id the source can have read.
class Inserter {
 public:
  Inserter(const MariaDbServer& db, int from, int batches, int per_batch,
           std::chrono::milliseconds every)
      : last_(from + batches * per_batch - 1) {
    thread_ = std::thread([this, &db, from, batches, per_batch, every] {
      for (int b = 0; b < batches; ++b) {
        const int first = from + b * per_batch, last = first + per_batch - 1;
        upper_ = last;
        if (auto r = db.exec(insert_sql(db.database() + ".employee", first, last)); !r.ok()) {
          error_ = r.error().to_string();
          break;
        }
        std::this_thread::sleep_for(every);
      }
      done_ = true;
    });
  }
  ~Inserter() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }
  int upper() const { return upper_; }
  int last() const { return last_; }
  const std::string& error() const { return error_; }  // after join()

 private:
  int last_;
  std::atomic<int> upper_{0};
  std::atomic<bool> done_{false};
  std::string error_;
  std::thread thread_;
};

Json source_config(const MariaDbServer& db) {
  // Seed 002's JSON; only host/port/user/password/db/table filled in (and the topic named).
  return Json{
      {"connector.class", "org.apache.rocketmq.connect.jdbc.connector.JdbcSourceConnector"},
      {"max.tasks", "1"},
      {"connect.topicname", kTopic},
      {"connection.url", "jdbc:mysql://" + db.host() + ":" + std::to_string(db.port())},
      {"connection.user", db.user()},
      {"connection.password", db.password()},
      {"table.whitelist", db.database() + ".employee"},
      {"mode", "incrementing"},
      {"incrementing.column.name", "id"},
      {"transforms", "Replace"},
      {"transforms.Replace.field.pattern", "company"},
      {"transforms.Replace.field.replacement", "company02"},
      {"transforms.Replace.class", "org.apache.rocketmq.connect.transforms.PatternRename$Value"},
      {"key.converter", kJsonConverter},
      {"value.converter", kJsonConverter}};
}

Json sink_config(const PostgresServer& pg, const std::string& table, const std::string& mode) {
  Json j{{"connector.class", "org.apache.rocketmq.connect.jdbc.connector.JdbcSinkConnector"},
         {"max.tasks", "1"},
         {"connect.topicnames", kTopic},
         {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
         {"connection.url", pg.url()},
         {"connection.user", pg.user()},
         {"connection.password", pg.password()},
         {"connection.backoff.ms", "300"},
         {"insert.mode", mode},
         {"auto.create", "true"},
         {"table.name.format", table},
         // A PostgreSQL restart is ridden out: up to 200 x 300 ms.
         {"max.retries", "200"},
         {"retry.backoff.ms", "300"},
         {"key.converter", kJsonConverter},
         {"value.converter", kJsonConverter}};
  if (mode == "upsert") {
    j["pk.mode"] = "record_value";
    j["pk.fields"] = "id";
  } else {
    j["pk.mode"] = "none";
  }
  return j;
}

class JdbcPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
    auto db = MariaDbServer::start();
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg.ok()) << pg.error().to_string();
    pg_ = std::move(pg).value();
  }

  // All three sinks consumed every message of the topic (committed) and the tables hold ids
  // 1..n: the pipeline is drained.
  bool drained(const WorkerProcess& w, long long n) {
    const long long in_topic = topic_messages(w, kTopic);
    if (in_topic < n) return false;
    for (const char* sink : {kCopy, kLog, kChecked}) {
      if (sink_committed(w, sink) != in_topic) return false;
    }
    return pg_counts(*pg_, "employee_copy").complete(n) &&
           pg_counts(*pg_, "employee_log").complete(n);
  }

  std::string where(const WorkerProcess& w) {
    return "\nemployee_copy " + to_text(pg_counts(*pg_, "employee_copy")) + ", employee_log " +
           to_text(pg_counts(*pg_, "employee_log")) +
           ", topic messages: " + std::to_string(topic_messages(w, kTopic)) +
           ", committed: source " + std::to_string(source_committed(w)) + ", copy " +
           std::to_string(sink_committed(w, kCopy)) + ", log " +
           std::to_string(sink_committed(w, kLog)) + ", checked " +
           std::to_string(sink_committed(w, kChecked)) + "\nworker log:\n" + w.log_tail(6000) +
           "\npostgres log:\n" + pg_->log_tail(2000);
  }
  static std::string to_text(const Counts& c) {
    std::ostringstream o;
    o << c;
    return o.str();
  }

  std::unique_ptr<MariaDbServer> db_;
  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(JdbcPipelineTest, SeedSourceToPostgresThroughRestartsCrashesAndPoison) {
  TempDir dir("rmqc_jdbc_pipeline");
  write_file(dir / "worker.conf", worker_conf(dir / "store", "offsetCommitIntervalMsConfig=500\n"));

  ASSERT_TRUE(db_->exec("CREATE TABLE " + db_->database() +
                        ".employee (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), "
                        "company VARCHAR(64), salary DECIMAL(10,2), hired DATE, updated "
                        "DATETIME(3))")
                  .ok());
  auto insert = [&](int from, int to, int poison = -1) {
    auto r = db_->exec(insert_sql(db_->database() + ".employee", from, to, poison));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  };
  // The table the poison record breaks: the sink's columns, with a CHECK on salary.
  {
    auto r = pg_->exec(
        "CREATE TABLE employee_checked (id INT PRIMARY KEY, name VARCHAR(64), company02 "
        "VARCHAR(64), salary NUMERIC(10,2) CHECK (salary < 100000), hired DATE, updated "
        "TIMESTAMP(3))");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  int n = 0;  // ids 1..n are in MariaDB

  // --- 1. rows before and after the start -------------------------------------------------------
  insert(1, 200);
  n = 200;
  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker1.log")) << w->error();
  {
    auto r = w->post(std::string("/connectors/") + kSource, source_config(*db_).dump());
    ASSERT_EQ(r.status, 200) << r.body;
    r = w->post(std::string("/connectors/") + kCopy,
                sink_config(*pg_, "employee_copy", "upsert").dump());
    ASSERT_EQ(r.status, 200) << r.body;
    r = w->post(std::string("/connectors/") + kLog,
                sink_config(*pg_, "employee_log", "insert").dump());
    ASSERT_EQ(r.status, 200) << r.body;
    Json checked = sink_config(*pg_, "employee_checked", "upsert");
    checked["auto.create"] = "false";
    checked["errors.tolerance"] = "all";
    checked["errors.log.enable"] = "true";
    checked["errors.deadletterqueue.topic.name"] = kDlqTopic;
    r = w->post(std::string("/connectors/") + kChecked, checked.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_TRUE(eventually([&] { return pg_counts(*pg_, "employee_copy").complete(n); }, 40s, 200ms))
      << where(*w);
  EXPECT_TRUE(w->all_in(kSource, "RUNNING")) << w->status(kSource);
  insert(201, 300);
  n = 300;
  ASSERT_TRUE(eventually([&] { return drained(*w, n); }, 40s, 200ms)) << where(*w);
  // PatternRename applied: the column is company02; no company column was created.
  {
    auto cols = pg_query(*pg_,
                         "SELECT column_name::text FROM information_schema.columns WHERE "
                         "table_name = 'employee_copy' ORDER BY column_name");
    ASSERT_TRUE(cols.ok()) << cols.error().to_string();
    std::set<std::string> names;
    for (const auto& c : *cols) names.insert(c[0]);
    EXPECT_EQ(names,
              (std::set<std::string>{"company02", "hired", "id", "name", "salary", "updated"}));
  }
  auto check_values = [&](const std::string& table, int upto, int skip_id) {
    auto rows = pg_rows(*pg_, table);
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    std::size_t at = 0, wrong = 0;
    for (int i = 1; i <= upto; ++i) {
      if (i == skip_id) continue;
      ASSERT_LT(at, rows->size()) << table << ": missing rows from id " << i;
      const Row want = expected_row(i, false);
      const Row& got = (*rows)[at++];
      if (got != want && ++wrong <= 5) {
        ADD_FAILURE() << table << " id " << i << ": got " << ::testing::PrintToString(got)
                      << ", want " << ::testing::PrintToString(want);
      }
    }
    EXPECT_EQ(wrong, 0u) << table << ": rows with wrong values";
  };
  check_values("employee_copy", n, -1);
  check_values("employee_checked", n, -1);
  EXPECT_EQ(pg_counts(*pg_, "employee_log").rows, n) << "duplicates before any restart";
  EXPECT_EQ(topic_messages(*w, kTopic), n);
  EXPECT_TRUE(w->all_in(kSource, "RUNNING")) << w->status(kSource);

  // --- 2. clean restart: no duplicates, no gaps -----------------------------------------------
  {
    int status = w->stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  insert(301, 400);  // while the worker is down
  n = 400;
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker2.log")) << w->error();
  ASSERT_TRUE(eventually([&] { return drained(*w, n); }, 40s, 200ms)) << where(*w);
  EXPECT_EQ(topic_messages(*w, kTopic), n) << "the source re-sent rows after a clean restart";
  EXPECT_EQ(pg_counts(*pg_, "employee_log").rows, n)
      << "the insert-mode sink wrote rows twice after a clean restart";
  EXPECT_EQ(pg_counts(*pg_, "employee_copy").rows, n);
  EXPECT_TRUE(w->all_in(kSource, "RUNNING")) << w->status(kSource);

  // --- 3. kill -9 mid-stream --------------------------------------------------------------------
  {
    const long long log_before = pg_counts(*pg_, "employee_log").rows;
    Progress src, sink;
    // 1500 rows over ~7.5 s: longer than the seed's 5 s poll interval, so the kill comes while
    // rows are still being inserted and streamed.
    Inserter feed(*db_, n + 1, 75, 20, 100ms);
    bool streaming = eventually(
        [&] {
          src.see(source_committed(*w));
          sink.see(sink_committed(*w, kLog));
          return pg_counts(*pg_, "employee_log").rows > log_before + 20;
        },
        30s, 20ms);
    ASSERT_TRUE(streaming) << "no rows streamed" << where(*w);
    src.see(source_committed(*w));
    sink.see(sink_committed(*w, kLog));
    const bool feeding = !feed.done();
    int status = w->kill9();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    const long long upper = feed.upper();  // no committed id is above this
    // A COMMIT the server had received before the kill may finish just after it.
    std::this_thread::sleep_for(500ms);
    const long long at_kill = pg_counts(*pg_, "employee_log").rows;
    ASSERT_TRUE(feeding) << "the rows were all inserted before the kill: not mid-stream";
    feed.join();
    ASSERT_TRUE(feed.error().empty()) << feed.error();
    n = feed.last();

    w = std::make_unique<WorkerProcess>();
    ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker3.log")) << w->error();
    ASSERT_TRUE(eventually([&] { return drained(*w, n); }, 60s, 200ms)) << where(*w);
    // The bound. Before the kill the topic held each row once (phase 2), so
    //  - the source re-sends rows it read after its last committed offset: at most the ids
    //    between the last committed offset seen and the highest id inserted at the kill;
    //  - the insert sink re-writes the messages it wrote after its last commit: at most the
    //    rows in employee_log at the kill minus the committed offsets last seen.
    // Both are what one commit interval (500 ms) of the stage moved, at most.
    const Counts log = pg_counts(*pg_, "employee_log");
    const long long in_topic = topic_messages(*w, kTopic);
    const long long duplicates = log.rows - log.distinct;
    const long long source_dups = in_topic - n;
    const long long source_bound = upper - std::max(0LL, src.last);
    const long long sink_bound = at_kill - std::max(0LL, sink.last);
    std::printf(
        "jdbc_pipeline kill -9: %lld rows in employee_log at the kill (%lld before the phase); "
        "after the restart every id of %d arrived with %lld duplicate rows: source re-sent %lld "
        "(bound %lld = id %lld inserted at the kill - committed offset %lld; %lld ids per "
        "commit seen), sink re-wrote %lld (bound %lld = %lld rows - committed %lld; %lld "
        "messages per commit seen)\n",
        at_kill, log_before, n, duplicates, source_dups, source_bound, upper, src.last,
        src.max_step, duplicates - source_dups, sink_bound, at_kill, sink.last, sink.max_step);
    EXPECT_TRUE(log.complete(n)) << log;
    EXPECT_TRUE(pg_counts(*pg_, "employee_copy").complete(n));
    EXPECT_EQ(pg_counts(*pg_, "employee_copy").rows, n) << "upsert table with duplicate ids";
    EXPECT_GE(source_dups, 0);
    EXPECT_LE(source_dups, source_bound) << "the source re-sent rows it had committed";
    EXPECT_GE(duplicates, source_dups);
    EXPECT_LE(duplicates - source_dups, sink_bound)
        << "the sink re-wrote messages it had committed";
  }
  const long long dups_after_crash = pg_counts(*pg_, "employee_log").rows - n;

  // --- 4. PostgreSQL restart mid-stream ---------------------------------------------------------
  {
    const long long copy_before = pg_counts(*pg_, "employee_copy").rows;
    // 600 rows over 12 s or more: the source (seed JSON: poll.interval.ms 5000) polls at least
    // twice meanwhile, so records reach the sinks while PostgreSQL is down.
    Inserter feed(*db_, n + 1, 120, 5, 100ms);
    ASSERT_TRUE(
        eventually([&] { return pg_counts(*pg_, "employee_copy").rows > copy_before; }, 30s, 20ms))
        << "no rows streamed" << where(*w);
    const bool feeding = !feed.done();
    auto stopped = pg_->stop();
    ASSERT_TRUE(stopped.ok()) << stopped.error().to_string();
    ASSERT_TRUE(feeding) << "the rows were all inserted before PostgreSQL stopped";
    // Down until the next poll put new records in the topic (the sinks must write them to a
    // stopped server), then one more second of failing retries.
    const long long in_topic_at_stop = topic_messages(*w, kTopic);
    ASSERT_TRUE(
        eventually([&] { return topic_messages(*w, kTopic) > in_topic_at_stop; }, 20s, 50ms))
        << "no records while PostgreSQL was down" << where(*w);
    std::this_thread::sleep_for(1s);
    auto restarted = pg_->restart();
    ASSERT_TRUE(restarted.ok()) << restarted.error().to_string();
    feed.join();
    ASSERT_TRUE(feed.error().empty()) << feed.error();
    n = feed.last();
    ASSERT_TRUE(eventually([&] { return drained(*w, n); }, 60s, 200ms)) << where(*w);
    EXPECT_TRUE(pg_counts(*pg_, "employee_copy").complete(n));
    EXPECT_EQ(pg_counts(*pg_, "employee_copy").rows, n);
    EXPECT_EQ(pg_counts(*pg_, "employee_checked").distinct, n);
    const Counts log = pg_counts(*pg_, "employee_log");
    EXPECT_TRUE(log.complete(n)) << log;
    std::printf(
        "jdbc_pipeline PostgreSQL restart: %d rows, %lld duplicate rows in employee_log "
        "written around the restart\n",
        n, (log.rows - log.distinct) - dups_after_crash);
    for (const char* name : {kSource, kCopy, kLog, kChecked}) {
      EXPECT_TRUE(w->all_in(name, "RUNNING")) << name << ": " << w->status(name);
    }
  }

  // --- 5. a poison record
  // -------------------------------------------------------------------------
  {
    const int first = n + 1, poison = n + 3, last = n + 5;
    insert(first, last, poison);
    n = last;
    ASSERT_TRUE(eventually([&] { return drained(*w, n); }, 40s, 200ms)) << where(*w);
    // The other sinks take the row; employee_checked has every id but the poison one.
    auto rows = pg_query(*pg_, "SELECT t.id::text FROM employee_checked t WHERE t.id >= " +
                                   std::to_string(first) + " ORDER BY t.id");
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    std::vector<std::string> ids;
    for (const auto& r : *rows) ids.push_back(r[0]);
    EXPECT_EQ(ids, (std::vector<std::string>{std::to_string(first), std::to_string(first + 1),
                                             std::to_string(first + 3), std::to_string(last)}));
    check_values("employee_checked", n, poison);
    auto copy_rows = pg_rows(*pg_, "employee_copy");
    ASSERT_TRUE(copy_rows.ok());
    ASSERT_EQ(copy_rows->size(), static_cast<std::size_t>(n));
    EXPECT_EQ((*copy_rows)[static_cast<std::size_t>(poison - 1)], expected_row(poison, true));

    // Exactly that record in the dead letter queue.
    EXPECT_EQ(topic_messages(*w, kDlqTopic), 1) << where(*w);
    auto dead = read_topic(w->namesrv(), kDlqTopic, 1, 20s);
    ASSERT_EQ(dead.size(), 1u) << where(*w);
    const std::string body(dead[0].body());
    EXPECT_NE(body.find("poison-" + std::to_string(poison)), std::string::npos) << body;
    auto props = dead[0].properties();
    auto prop = [&](const std::string& k) {
      auto it = props.find(k);
      return it == props.end() ? std::string("<missing>") : it->second;
    };
    EXPECT_EQ(prop("__connect.errors.topic"), kTopic);
    EXPECT_EQ(prop("__connect.errors.connector.name"), kChecked);
    EXPECT_EQ(prop("__connect.errors.stage"), "TASK_PUT");
    EXPECT_NE(prop("__connect.errors.offset"), "<missing>");
    EXPECT_NE(prop("__connect.errors.exception.message").find("employee_checked"),
              std::string::npos)
        << prop("__connect.errors.exception.message");
    for (const char* name : {kSource, kCopy, kLog, kChecked}) {
      EXPECT_TRUE(w->all_in(name, "RUNNING")) << name << ": " << w->status(name);
    }
  }
  check_values("employee_copy", n - 5, -1);

  int status = w->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace rmqc::itest
