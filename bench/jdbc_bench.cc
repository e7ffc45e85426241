// JDBC connectors against private PostgreSQL and MariaDB servers (issue 12, "Benchmark"):
//   sink:   JdbcSinkTask, 1 task, insert mode, rows of about 200 B, into PostgreSQL (COPY) and
//           MariaDB (multi-row INSERT), next to the database's own ceiling for the same rows in
//           the same run: COPY ... FROM STDIN through libpq; LOAD DATA LOCAL INFILE and 1000-row
//           INSERT statements through libmariadb;
//   source: JdbcSourceTask, bulk mode over a table of 1 M rows, next to a plain SELECT read by the
//           client library (libpq buffered and single-row mode; libmariadb mysql_use_result).
// The tasks are driven in-process with a small fake context (no worker, no broker): the numbers
// are the connector's own cost plus the database's. Only put() / poll() and the final flush are
// timed; building the input records (sink) and the ceiling's input text is not.
//
//   rmqc_bench_jdbc [--rows N] [--source-rows M] [--batch-size B] [--batch-max-rows R]
//                   [--only postgres|mariadb]
#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"

#include "jdbc/common/dialect_registry.h"
#include "jdbc/mysql/mysql_dialect.h"
#include "jdbc/postgres/postgres_dialect.h"
#include "jdbc/sink/jdbc_sink_task.h"
#include "jdbc/source/jdbc_source_connector.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "jdbc/tests/testing/postgres_server.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <libpq-fe.h>
#include <memory>
#include <mysql.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace rmqc::bench {
namespace {

namespace jdbc = rmqc::connectors::jdbc;
using Clock = std::chrono::steady_clock;
using jdbc::testing::MariaDbServer;
using jdbc::testing::PostgresServer;

struct Options {
  long long rows = 500'000;
  long long source_rows = 1'000'000;
  int batch_size = 1000;
  int batch_max_rows = 1000;
  std::string only;
};

constexpr long long kChunk = 1000;  // records per put()

// --- the rows ---------------------------------------------------------------------------------

// Row i as tab-separated text (PostgreSQL COPY text format, MariaDB LOAD DATA defaults), with
// its newline: about 200 bytes.
std::string row_text(long long i) {
  const long long unscaled = (i * 7919) % 9'999'999;
  const long long ms = 1'700'000'000'000LL + i * 1000 + i % 1000;
  const time_t secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  const time_t day_secs = static_cast<time_t>(i % 20000) * 86400;
  std::tm d{};
  ::gmtime_r(&day_secs, &d);
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%lld\tname-%08lld-xxxxxxx\tuser%08lld@example.com\tcompany-%05lld\t%lld.%02lld\t"
                "%04d-%02d-%02d\t%04d-%02d-%02d %02d:%02d:%02d.%03lld\tnote %08lld "
                "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvw\n",
                i, i, i, i % 100000, unscaled / 100, unscaled % 100, d.tm_year + 1900, d.tm_mon + 1,
                d.tm_mday, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, ms % 1000, i);
  return buf;
}

SchemaPtr row_schema() {
  auto opt = [](SchemaBuilder b) { return b.optional().build(); };
  return SchemaBuilder::struct_()
      .name("bench.row")
      .field("id", SchemaBuilder::int64().build())
      .field("name", opt(SchemaBuilder::string()))
      .field("email", opt(SchemaBuilder::string()))
      .field("company", opt(SchemaBuilder::string()))
      .field("salary", opt(SchemaBuilder::decimal(2)))
      .field("hired", opt(SchemaBuilder::date()))
      .field("updated", opt(SchemaBuilder::timestamp()))
      .field("note", opt(SchemaBuilder::string()))
      .build();
}

// The same row as a sink record of queue 0 at offset i.
ConnectRecord row_record(const SchemaPtr& schema, long long i) {
  char name[40], email[40], company[24], note[128];
  std::snprintf(name, sizeof(name), "name-%08lld-xxxxxxx", i);
  std::snprintf(email, sizeof(email), "user%08lld@example.com", i);
  std::snprintf(company, sizeof(company), "company-%05lld", i % 100000);
  std::snprintf(note, sizeof(note),
                "note %08lld abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz "
                "abcdefghijklmnopqrstuvw",
                i);
  Struct s(schema);
  s.put("id", std::int64_t{i})
      .put("name", name)
      .put("email", email)
      .put("company", company)
      .put("salary", Decimal::from_unscaled((i * 7919) % 9'999'999, 2))
      .put("hired", static_cast<std::int32_t>(i % 20000))
      .put("updated", std::int64_t{1'700'000'000'000LL + i * 1000 + i % 1000})
      .put("note", note);
  ConnectRecord r(RecordPartition{{"topic", Value("bench")}, {"queueId", Value(0)}},
                  RecordOffset{{"queueOffset", Value(std::int64_t{i})}}, std::nullopt, schema,
                  Value(std::move(s)));
  return r;
}

// --- fake task contexts -----------------------------------------------------------------------

class FakeSinkContext final : public SinkTaskContext {
 public:
  explicit FakeSinkContext(KeyValue config) : config_(std::move(config)) {}
  std::string_view connector_name() const override { return "bench"; }
  std::string_view task_name() const override { return "bench-0"; }
  const KeyValue& configs() const override { return config_; }
  void reset_offset(const RecordPartition&, const RecordOffset&) override {}
  void reset_offset(const OffsetMap&) override {}
  void pause(const std::vector<RecordPartition>&) override {}
  void resume(const std::vector<RecordPartition>&) override {}
  std::vector<RecordPartition> assignment() const override { return {}; }
  ErrorRecordReporter* error_record_reporter() override { return nullptr; }

 private:
  KeyValue config_;
};

class NoOffsets final : public OffsetStorageReader {
 public:
  std::optional<RecordOffset> read_offset(const RecordPartition&) override { return std::nullopt; }
  OffsetMap read_offsets(const std::vector<RecordPartition>&) override { return {}; }
};

class FakeSourceContext final : public SourceTaskContext {
 public:
  explicit FakeSourceContext(KeyValue config) : config_(std::move(config)) {}
  OffsetStorageReader& offset_storage_reader() override { return offsets_; }
  std::string_view connector_name() const override { return "bench"; }
  std::string_view task_name() const override { return "bench-0"; }
  const KeyValue& configs() const override { return config_; }

 private:
  KeyValue config_;
  NoOffsets offsets_;
};

// --- reporting --------------------------------------------------------------------------------

struct Result {
  std::string what;
  long long rows = 0;
  double bytes = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(rows) / seconds : 0; }
};

void print(const Result& r, const Result* ceiling) {
  std::printf("| %-58s | %9lld | %7.2f | %9.0f | %6.1f |", r.what.c_str(), r.rows, r.seconds,
              r.rate(), r.bytes / 1e6 / r.seconds);
  if (ceiling && ceiling->rate() > 0) {
    std::printf(" %5.0f%% |\n", 100.0 * r.rate() / ceiling->rate());
  } else {
    std::printf("        |\n");
  }
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "jdbc_bench: %s\n", message.c_str());
  std::exit(1);
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::shared_ptr<const jdbc::DialectRegistry> dialects() {
  auto r = std::make_shared<jdbc::DialectRegistry>();
  jdbc::register_postgres_dialect(*r);
  jdbc::register_mysql_dialect(*r);
  return r;
}

// --- sink -------------------------------------------------------------------------------------

Result run_sink(const std::string& what, const KeyValue& connection, const std::string& table,
                const Options& o) {
  KeyValue config = connection;
  config.put("insert.mode", "insert");
  config.put("pk.mode", "none");
  config.put("auto.create", "true");
  config.put("table.name.format", table);
  config.put("batch.size", std::int64_t{o.batch_size});
  jdbc::JdbcSinkTask task(dialects());
  FakeSinkContext context(config);
  task.init(context);
  task.start(config);
  const SchemaPtr schema = row_schema();
  Result r{what + " (batch.size " + std::to_string(o.batch_size) + ")", o.rows, 0, 0};
  std::vector<ConnectRecord> records;
  records.reserve(kChunk);
  for (long long from = 0; from < o.rows; from += kChunk) {
    const long long to = std::min(o.rows, from + kChunk);
    records.clear();
    for (long long i = from; i < to; ++i) {
      records.push_back(row_record(schema, i + 1));
      r.bytes += static_cast<double>(row_text(i + 1).size());
    }
    auto t0 = Clock::now();
    task.put(records);
    r.seconds += since(t0);
  }
  auto t0 = Clock::now();
  task.flush({});
  r.seconds += since(t0);
  if (task.pending_rows() != 0) die(what + ": rows left unwritten");
  task.stop();
  return r;
}

// --- PostgreSQL ceilings ----------------------------------------------------------------------

PGconn* pg_connect(const PostgresServer& pg) {
  std::string conninfo = "host=" + pg.host() + " port=" + std::to_string(pg.port()) +
                         " dbname=" + pg.database() + " user=" + pg.user() +
                         " password=" + pg.password();
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) die(std::string("libpq: ") + PQerrorMessage(c));
  return c;
}

void pg_exec(PGconn* c, const std::string& sql) {
  PGresult* res = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    die("libpq: " + sql + ": " + PQresultErrorMessage(res));
  }
  PQclear(res);
}

long long pg_count(PGconn* c, const std::string& table) {
  PGresult* res = PQexec(c, ("SELECT count(*) FROM " + table).c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) die(PQresultErrorMessage(res));
  long long n = std::atoll(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

Result pg_copy_ceiling(PGconn* c, const std::string& like, const Options& o) {
  pg_exec(c, "DROP TABLE IF EXISTS bench_copy");
  pg_exec(c, "CREATE TABLE bench_copy (LIKE " + like + ")");
  Result r{"PostgreSQL COPY FROM STDIN (libpq, text format)", o.rows, 0, 0};
  auto t0 = Clock::now();
  PGresult* res = PQexec(c, "COPY bench_copy FROM STDIN");
  if (PQresultStatus(res) != PGRES_COPY_IN) die(PQresultErrorMessage(res));
  PQclear(res);
  r.seconds += since(t0);
  std::string text;
  for (long long from = 0; from < o.rows; from += kChunk) {
    text.clear();
    for (long long i = from; i < std::min(o.rows, from + kChunk); ++i) text += row_text(i + 1);
    r.bytes += static_cast<double>(text.size());
    t0 = Clock::now();
    if (PQputCopyData(c, text.data(), static_cast<int>(text.size())) != 1) {
      die(PQerrorMessage(c));
    }
    r.seconds += since(t0);
  }
  t0 = Clock::now();
  if (PQputCopyEnd(c, nullptr) != 1) die(PQerrorMessage(c));
  res = PQgetResult(c);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) die(PQresultErrorMessage(res));
  PQclear(res);
  while ((res = PQgetResult(c)) != nullptr) PQclear(res);
  r.seconds += since(t0);
  if (pg_count(c, "bench_copy") != o.rows) die("COPY: wrong row count");
  return r;
}

// Reads the whole table with the client library; bytes are the text values' lengths.
Result pg_select_ceiling(PGconn* c, bool single_row, long long rows) {
  Result r{single_row ? "libpq SELECT, single-row mode" : "libpq SELECT, whole result (PQexec)", 0,
           0, 0};
  auto t0 = Clock::now();
  const char* sql = "SELECT * FROM bench_src";
  if (!single_row) {
    PGresult* res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) die(PQresultErrorMessage(res));
    const int n = PQntuples(res), f = PQnfields(res);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < f; ++j) {
        r.bytes += PQgetlength(res, i, j) + 1;
        (void)PQgetvalue(res, i, j);
      }
    }
    r.rows = n;
    PQclear(res);
  } else {
    if (PQsendQuery(c, sql) != 1 || PQsetSingleRowMode(c) != 1) die(PQerrorMessage(c));
    while (PGresult* res = PQgetResult(c)) {
      if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
        const int f = PQnfields(res);
        for (int j = 0; j < f; ++j) r.bytes += PQgetlength(res, 0, j) + 1;
        ++r.rows;
      } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        die(PQresultErrorMessage(res));
      }
      PQclear(res);
    }
  }
  r.seconds = since(t0);
  if (r.rows != rows) die("SELECT: wrong row count");
  return r;
}

// --- MariaDB ceilings -------------------------------------------------------------------------

MYSQL* my_connect(const MariaDbServer& db) {
  MYSQL* c = mysql_init(nullptr);
  unsigned int one = 1;
  mysql_optionsv(c, MYSQL_OPT_LOCAL_INFILE, &one);
  if (!mysql_real_connect(c, db.host().c_str(), db.user().c_str(), db.password().c_str(),
                          db.database().c_str(), static_cast<unsigned>(db.port()), nullptr, 0)) {
    die(std::string("libmariadb: ") + mysql_error(c));
  }
  return c;
}

bool my_exec(MYSQL* c, const std::string& sql, bool fatal = true) {
  if (mysql_real_query(c, sql.data(), sql.size()) != 0) {
    if (fatal) die("libmariadb: " + sql.substr(0, 200) + ": " + mysql_error(c));
    std::fprintf(stderr, "libmariadb: %s\n", mysql_error(c));
    return false;
  }
  if (MYSQL_RES* res = mysql_store_result(c)) mysql_free_result(res);
  return true;
}

long long my_count(MYSQL* c, const std::string& table) {
  my_exec(c, "SELECT 1");
  std::string sql = "SELECT count(*) FROM " + table;
  if (mysql_real_query(c, sql.data(), sql.size()) != 0) die(mysql_error(c));
  MYSQL_RES* res = mysql_store_result(c);
  MYSQL_ROW row = mysql_fetch_row(res);
  long long n = std::atoll(row[0]);
  mysql_free_result(res);
  return n;
}

Result my_load_data_ceiling(MYSQL* c, const std::string& like, const Options& o) {
  my_exec(c, "DROP TABLE IF EXISTS bench_load");
  my_exec(c, "CREATE TABLE bench_load LIKE " + like);
  const std::string path = "/tmp/rmqc_jdbc_bench_" + std::to_string(::getpid()) + ".tsv";
  Result r{"MariaDB LOAD DATA LOCAL INFILE (libmariadb)", o.rows, 0, 0};
  {
    std::ofstream out(path, std::ios::binary);
    for (long long i = 0; i < o.rows; ++i) {
      std::string line = row_text(i + 1);
      r.bytes += static_cast<double>(line.size());
      out << line;
    }
  }
  auto t0 = Clock::now();
  const bool ok = my_exec(c, "LOAD DATA LOCAL INFILE '" + path + "' INTO TABLE bench_load", false);
  r.seconds = since(t0);
  ::unlink(path.c_str());
  if (!ok) return Result{"MariaDB LOAD DATA LOCAL INFILE: refused", 0, 0, 0};
  if (my_count(c, "bench_load") != o.rows) die("LOAD DATA: wrong row count");
  return r;
}

std::string sql_row(long long i) {
  // The tab-separated text as a VALUES tuple (no value contains a quote or a tab).
  std::string t = row_text(i);
  t.pop_back();
  std::string out = "(";
  std::size_t start = 0;
  for (int col = 0;; ++col) {
    std::size_t tab = t.find('\t', start);
    std::string v = t.substr(start, tab == std::string::npos ? std::string::npos : tab - start);
    if (col > 0) out += ",";
    out += (col == 0 || col == 4) ? v : "'" + v + "'";
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out + ")";
}

Result my_insert_ceiling(MYSQL* c, const std::string& like, const Options& o) {
  my_exec(c, "DROP TABLE IF EXISTS bench_insert");
  my_exec(c, "CREATE TABLE bench_insert LIKE " + like);
  Result r{"MariaDB 1000-row INSERT statements (libmariadb)", o.rows, 0, 0};
  std::string sql;
  for (long long from = 0; from < o.rows; from += kChunk) {
    sql = "INSERT INTO bench_insert VALUES ";
    for (long long i = from; i < std::min(o.rows, from + kChunk); ++i) {
      if (i > from) sql += ",";
      sql += sql_row(i + 1);
      r.bytes += static_cast<double>(row_text(i + 1).size());
    }
    auto t0 = Clock::now();
    my_exec(c, sql);
    r.seconds += since(t0);
  }
  if (my_count(c, "bench_insert") != o.rows) die("INSERT: wrong row count");
  return r;
}

Result my_select_ceiling(MYSQL* c, long long rows) {
  Result r{"libmariadb SELECT, mysql_use_result (streamed)", 0, 0, 0};
  auto t0 = Clock::now();
  const std::string sql = "SELECT * FROM bench_src";
  if (mysql_real_query(c, sql.data(), sql.size()) != 0) die(mysql_error(c));
  MYSQL_RES* res = mysql_use_result(c);
  if (!res) die(mysql_error(c));
  const unsigned f = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    for (unsigned j = 0; j < f; ++j) r.bytes += static_cast<double>(lengths[j] + 1);
    (void)row;
    ++r.rows;
  }
  mysql_free_result(res);
  r.seconds = since(t0);
  if (r.rows != rows) die("SELECT: wrong row count");
  return r;
}

// --- source -----------------------------------------------------------------------------------

Result run_source(const std::string& what, const KeyValue& connection, const std::string& table,
                  long long rows, double bytes, const Options& o) {
  KeyValue config = connection;
  config.put("mode", "bulk");
  config.put("table.whitelist", table);
  config.put("connect.topicname", "bench");
  config.put("poll.interval.ms", std::int64_t{3'600'000});
  config.put("batch.max.rows", std::int64_t{o.batch_max_rows});
  auto registry = dialects();
  jdbc::JdbcSourceConnector connector(registry);
  connector.start(config);
  auto task_configs = connector.task_configs(1);
  if (task_configs.size() != 1) die(what + ": expected one task config");
  jdbc::JdbcSourceTask task(registry);
  FakeSourceContext context(task_configs[0]);
  task.init(context);
  Result r{what + " (batch.max.rows " + std::to_string(o.batch_max_rows) + ")", 0, bytes, 0};
  auto t0 = Clock::now();
  task.start(task_configs[0]);
  while (r.rows < rows) {
    auto records = task.poll();
    r.rows += static_cast<long long>(records.size());
  }
  r.seconds = since(t0);
  task.stop();
  connector.stop();
  if (r.rows != rows) die(what + ": read " + std::to_string(r.rows) + " rows");
  return r;
}

// --- the run ----------------------------------------------------------------------------------

void header(const char* title) {
  std::printf("\n%s\n\n| %-58s | %9s | %7s | %9s | %6s | %6s |\n|---|---|---|---|---|---|\n", title,
              "case", "rows", "seconds", "rows/s", "MB/s", "vs ceiling");
}

void run_postgres(const Options& o) {
  auto server = PostgresServer::start();
  if (!server.ok()) die(server.error().to_string());
  const PostgresServer& pg = **server;
  KeyValue conn{{"connection.url", pg.url()},
                {"connection.user", pg.user()},
                {"connection.password", pg.password()}};
  PGconn* c = pg_connect(pg);

  header("PostgreSQL sink (JdbcSinkTask in-process, 1 task, insert mode -> COPY)");
  Result sink = run_sink("JdbcSinkTask -> PostgreSQL", conn, "bench_sink", o);
  if (pg_count(c, "bench_sink") != o.rows) die("sink: wrong row count");
  Result copy = pg_copy_ceiling(c, "bench_sink", o);
  print(sink, &copy);
  print(copy, nullptr);

  pg_exec(c, "DROP TABLE IF EXISTS bench_src");
  pg_exec(c,
          "CREATE TABLE bench_src (id BIGINT PRIMARY KEY, name VARCHAR(32), email VARCHAR(40), "
          "company VARCHAR(20), salary NUMERIC(10,2), hired DATE, updated TIMESTAMP(3), note "
          "VARCHAR(100))");
  pg_exec(c,
          "INSERT INTO bench_src SELECT g, 'name-' || lpad(g::text, 8, '0') || '-xxxxxxx', "
          "'user' || lpad(g::text, 8, '0') || '@example.com', 'company-' || lpad((g % "
          "100000)::text, 5, '0'), ((g * 7919) % 9999999) / 100.0, DATE '1970-01-01' + (g % "
          "20000)::int, TIMESTAMP '2023-11-14 22:13:20' + g * interval '1 second', 'note ' || "
          "lpad(g::text, 8, '0') || repeat(' abcdefghijklmnopqrstuvwxyz', 3) FROM "
          "generate_series(1::bigint, " +
              std::to_string(o.source_rows) + ") g");
  pg_exec(c, "VACUUM ANALYZE bench_src");
  header("PostgreSQL source, bulk mode (JdbcSourceTask in-process, 1 task)");
  // Each plain read runs before and after the connector's (the better of the two counts), so
  // neither side gets a colder cache.
  auto better = [](Result a, Result b) { return a.rate() >= b.rate() ? a : b; };
  Result whole = pg_select_ceiling(c, false, o.source_rows);
  Result single = pg_select_ceiling(c, true, o.source_rows);
  Result source = run_source("JdbcSourceTask bulk <- PostgreSQL", conn, "public.bench_src",
                             o.source_rows, whole.bytes, o);
  whole = better(whole, pg_select_ceiling(c, false, o.source_rows));
  single = better(single, pg_select_ceiling(c, true, o.source_rows));
  const Result& best = whole.rate() >= single.rate() ? whole : single;
  print(source, &best);
  print(whole, nullptr);
  print(single, nullptr);
  PQfinish(c);
}

void run_mariadb(const Options& o) {
  auto server = MariaDbServer::start();
  if (!server.ok()) die(server.error().to_string());
  const MariaDbServer& db = **server;
  KeyValue conn{{"connection.url", db.url(true)},
                {"connection.user", db.user()},
                {"connection.password", db.password()}};
  MYSQL* c = my_connect(db);

  header("MariaDB sink (JdbcSinkTask in-process, 1 task, insert mode -> multi-row INSERT)");
  Result sink = run_sink("JdbcSinkTask -> MariaDB", conn, "bench_sink", o);
  if (my_count(c, "bench_sink") != o.rows) die("sink: wrong row count");
  Result load = my_load_data_ceiling(c, "bench_sink", o);
  Result insert = my_insert_ceiling(c, "bench_sink", o);
  const Result& best = load.rate() >= insert.rate() ? load : insert;
  print(sink, &best);
  print(load, nullptr);
  print(insert, nullptr);

  my_exec(c, "DROP TABLE IF EXISTS bench_src");
  my_exec(c,
          "CREATE TABLE bench_src (id BIGINT PRIMARY KEY, name VARCHAR(32), email VARCHAR(40), "
          "company VARCHAR(20), salary DECIMAL(10,2), hired DATE, updated DATETIME(3), note "
          "VARCHAR(100))");
  my_exec(c,
          "INSERT INTO bench_src SELECT seq, CONCAT('name-', LPAD(seq, 8, '0'), '-xxxxxxx'), "
          "CONCAT('user', LPAD(seq, 8, '0'), '@example.com'), CONCAT('company-', LPAD(seq % "
          "100000, 5, '0')), ((seq * 7919) % 9999999) / 100, DATE_ADD('1970-01-01', INTERVAL "
          "seq % 20000 DAY), TIMESTAMPADD(SECOND, seq, '2023-11-14 22:13:20.000'), "
          "CONCAT('note ', LPAD(seq, 8, '0'), REPEAT(' abcdefghijklmnopqrstuvwxyz', 3)) FROM "
          "seq_1_to_" +
              std::to_string(o.source_rows));
  header("MariaDB source, bulk mode (JdbcSourceTask in-process, 1 task)");
  // The plain read runs before and after the connector's (the better of the two counts).
  Result select = my_select_ceiling(c, o.source_rows);
  Result source = run_source("JdbcSourceTask bulk <- MariaDB", conn, db.database() + ".bench_src",
                             o.source_rows, select.bytes, o);
  if (Result again = my_select_ceiling(c, o.source_rows); again.rate() > select.rate()) {
    select = again;
  }
  print(source, &select);
  print(select, nullptr);
  mysql_close(c);
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  rmqc::bench::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--rows") {
      o.rows = std::atoll(v.c_str());
    } else if (flag == "--source-rows") {
      o.source_rows = std::atoll(v.c_str());
    } else if (flag == "--batch-size") {
      o.batch_size = std::atoi(v.c_str());
    } else if (flag == "--batch-max-rows") {
      o.batch_max_rows = std::atoi(v.c_str());
    } else if (flag == "--only") {
      o.only = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf(
      "jdbc_bench: sink %lld rows (batch.size %d), source %lld rows (batch.max.rows %d); tasks "
      "driven in-process with a fake context (no worker, no broker); timed: put()/flush() and "
      "poll() only\n",
      o.rows, o.batch_size, o.source_rows, o.batch_max_rows);
  if (o.only.empty() || o.only == "postgres") rmqc::bench::run_postgres(o);
  if (o.only.empty() || o.only == "mariadb") rmqc::bench::run_mariadb(o);
  return 0;
}
