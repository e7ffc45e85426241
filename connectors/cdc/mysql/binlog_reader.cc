#include "cdc/mysql/binlog_reader.h"

#include "rmqc/api/logging.h"
#include "rmqc/api/struct.h"

#include "cdc/common/incremental_snapshot.h"
#include "cdc/common/reader_thread.h"
#include "cdc/mysql/binlog_events.h"
#include "cdc/mysql/mysql_columns.h"
#include "cdc/mysql/table_changes.h"

#include <mysql.h>
// After mysql.h, which it needs.
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mariadb_rpl.h>
#include <pthread.h>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace rmqc::connectors::cdc::mysql {
namespace {

const Logger& logger() {
  static const Logger log("cdc-mysql");
  return log;
}

// The reader cannot go on: poll() reports the message and the task fails.
class Fatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The connection broke or the server is (re)starting: reconnect with back-off.
class Transient : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// stop() was called.
class Stopped : public std::exception {};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_transient(unsigned code) {
  switch (code) {
    case 1040:  // too many connections
    case 1053:  // server shutdown in progress
    case 1205:  // lock wait timeout
    case 1213:  // deadlock
    case 1927:  // connection killed
    case 2002:  // cannot connect (socket)
    case 2003:  // cannot connect (tcp)
    case 2005:  // unknown host (DNS hiccup)
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2026:  // SSL connection error
    case 2055:  // lost connection at reading
      return true;
    default:
      return false;
  }
}

[[noreturn]] void raise(unsigned code, const std::string& message) {
  if (is_transient(code) || code == 0) throw Transient(message);
  throw Fatal(message);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The statement's first keyword(s), comments and blanks skipped.
std::string leading_words(std::string_view sql, int words) {
  std::string out;
  std::size_t i = 0;
  int taken = 0;
  while (i < sql.size() && taken < words) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (sql.substr(i, 2) == "--" || sql[i] == '#') {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else {
      std::size_t j = i;
      while (j < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) {
        ++j;
      }
      if (j == i) break;
      if (!out.empty()) out += ' ';
      out += upper(sql.substr(i, j - i));
      ++taken;
      i = j;
    }
  }
  return out;
}

std::string quote_ident(std::string_view id) {
  std::string out = "`";
  for (char c : id) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

// What a DDL statement changes: the database (the qualifier of its table, "ALTER TABLE db.t";
// the database it creates or drops; else the session's default database) and the tables it
// names ("DROP TABLE a, db.b", "TRUNCATE t"), each qualified.
struct DdlTarget {
  std::string db;
  std::vector<TableRef> tables;
};

DdlTarget ddl_target(std::string_view sql, const std::string& default_db) {
  std::vector<std::string> tokens;  // identifiers unquoted; "." kept as a token
  std::vector<bool> quoted;
  std::size_t i = 0;
  while (i < sql.size() && tokens.size() < 256) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '`') {
      std::string id;
      ++i;
      while (i < sql.size()) {
        if (sql[i] == '`' && i + 1 < sql.size() && sql[i + 1] == '`') {
          id += '`';
          i += 2;
        } else if (sql[i] == '`') {
          ++i;
          break;
        } else {
          id += sql[i++];
        }
      }
      tokens.push_back(std::move(id));
      quoted.push_back(true);
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      std::size_t j = i;
      while (j < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_' || sql[j] == '$')) {
        ++j;
      }
      tokens.emplace_back(sql.substr(i, j - i));
      quoted.push_back(false);
      i = j;
    } else {
      tokens.emplace_back(1, c);
      quoted.push_back(false);
      ++i;
    }
  }
  auto word = [&](std::size_t k) {
    return k < tokens.size() && !quoted[k] ? upper(tokens[k]) : "";
  };
  DdlTarget out{default_db, {}};
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    const std::string w = word(k);
    const bool truncate_short = k == 0 && w == "TRUNCATE" && word(1) != "TABLE";
    // CREATE [UNIQUE ...] INDEX i ON t, DROP INDEX i ON t: the table follows ON.
    const bool index_on = w == "ON" && k >= 2 && k <= 5 && word(k - 2) == "INDEX";
    if (w != "TABLE" && w != "DATABASE" && w != "SCHEMA" && !truncate_short && !index_on) {
      continue;
    }
    std::size_t n = k + 1;
    while (word(n) == "IF" || word(n) == "NOT" || word(n) == "EXISTS") ++n;
    if (n >= tokens.size()) break;
    if (w == "DATABASE" || w == "SCHEMA") {
      out.db = tokens[n];
      break;
    }
    // A list of [db.]table names, separated by commas.
    bool first = true;
    while (n < tokens.size()) {
      TableRef t;
      if (n + 2 < tokens.size() && tokens[n + 1] == "." && !quoted[n + 1]) {
        t = TableRef{tokens[n], tokens[n + 2]};
        n += 3;
      } else {
        t = TableRef{default_db, tokens[n]};
        n += 1;
      }
      if (first) out.db = t.ns;
      first = false;
      out.tables.push_back(std::move(t));
      if (n < tokens.size() && tokens[n] == "," && !quoted[n]) {
        ++n;
      } else {
        break;
      }
    }
    break;
  }
  return out;
}

using Row = std::vector<std::optional<std::string>>;

// One table version: its columns (as the binlog or information_schema describe them), their
// schemas, and where each column lands in the row struct (-1: excluded by column filters).
struct TableState {
  TableMap map;
  std::vector<SchemaPtr> column_schemas;
  std::vector<int> slot;
  std::shared_ptr<TableSchema> schema;
};

}  // namespace

RecordPartition server_partition(std::string_view prefix) {
  return RecordPartition{{"server", Value(std::string(prefix))}};
}

namespace {

// The offset of event `event` of the transaction at p: the keys go in in their sorted order,
// each appended (no key comparisons).
RecordOffset offset_at(const BinlogPosition& p, std::int64_t event) {
  RecordOffset::Map m;
  m.reserve(5);
  m.emplace_hint(m.end(), "event", Value(event));
  m.emplace_hint(m.end(), "file", Value(p.file));
  if (!p.gtids.empty()) m.emplace_hint(m.end(), "gtids", Value(p.gtids));
  m.emplace_hint(m.end(), "pos", Value(p.pos));
  if (p.snapshot) m.emplace_hint(m.end(), "snapshot", Value(true));
  return RecordOffset(std::move(m));
}

// The offsets of one transaction's (or the snapshot's) records differ in "event" only: the map
// is built once per position and copied per record (one allocation for the entries), "event"
// (its first key) then set.
class OffsetTemplate {
 public:
  RecordOffset at(const BinlogPosition& p, std::int64_t event) {
    if (!built_ || p.pos != pos_ || p.snapshot != snapshot_ || p.file != file_ ||
        p.gtids != gtids_) {
      map_ = offset_at(p, 0).offset();
      pos_ = p.pos;
      snapshot_ = p.snapshot;
      file_ = p.file;
      gtids_ = p.gtids;
      built_ = true;
    }
    RecordOffset::Map m(map_);
    m.begin()->second = Value(event);  // "event" sorts first
    return RecordOffset(std::move(m));
  }

 private:
  bool built_ = false;
  RecordOffset::Map map_;
  std::int64_t pos_ = 0;
  bool snapshot_ = false;
  std::string file_;
  std::string gtids_;
};

}  // namespace

RecordOffset position_to_offset(const BinlogPosition& p) {
  return offset_at(p, p.event);
}

std::optional<BinlogPosition> position_from_offset(const RecordOffset& offset) {
  const auto& m = offset.offset();
  auto file = m.find("file");
  if (file == m.end() || file->second.get_if<std::string>() == nullptr) return std::nullopt;
  BinlogPosition p;
  p.file = file->second.as_string();
  auto number = [&](std::string_view key) -> std::int64_t {
    auto it = m.find(key);
    if (it == m.end()) return 0;
    const Value& v = it->second;
    if (const auto* i = v.get_if<std::int64_t>()) return *i;
    if (const auto* i = v.get_if<std::int32_t>()) return *i;
    if (const auto* s = v.get_if<std::string>()) return std::atoll(s->c_str());
    return 0;
  };
  p.pos = number("pos");
  p.event = number("event");
  if (auto g = m.find("gtids"); g != m.end() && g->second.get_if<std::string>() != nullptr) {
    p.gtids = g->second.as_string();
  }
  if (auto s = m.find("snapshot"); s != m.end()) {
    if (const auto* b = s->second.get_if<bool>()) p.snapshot = *b;
    if (const auto* t = s->second.get_if<std::string>()) p.snapshot = *t == "true";
  }
  return p;
}

struct BinlogReader::Impl {
  Impl(ReaderOptions o, std::shared_ptr<ChangeQueue<RecordBatch>> q)
      : options(std::move(o)),
        config(options.config),
        queue(std::move(q)),
        partition(server_partition(config.prefix)) {
    if (options.committed_offset) incremental.restore(*options.committed_offset);
  }

  ReaderOptions options;
  const CdcConfig& config;
  std::shared_ptr<ChangeQueue<RecordBatch>> queue;
  std::atomic<std::int64_t> events_read_count{0};
  std::atomic<std::int64_t>* events_read = &events_read_count;
  std::mutex finished_mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  RecordPartition partition;
  std::atomic<bool> stopping{false};

  std::mutex fd_mutex;  // guards active_fds against stop()
  std::vector<int> active_fds;
  std::mutex sleep_mutex;
  std::condition_variable sleep_cv;

  // Streaming state.
  BinlogPosition resume;  // where a reconnect starts
  std::string file;
  bool in_txn = false;
  bool txn_has_begin = false;
  std::int64_t txn_start = 0;
  std::int64_t txn_events = 0;
  std::int64_t skip_pos = -1;  // the transaction whose first skip_events were emitted before
  std::int64_t skip_events = 0;
  std::string txn_gtid;
  std::optional<std::int64_t> txn_thread;
  std::map<std::uint32_t, std::string> gtid_domains;
  bool checksum = true;
  std::unordered_map<std::uint64_t, std::shared_ptr<TableState>> by_id;
  std::unordered_map<std::string, std::shared_ptr<TableState>> by_signature;
  // The latest version of each table by "<db>.<table>" (for truncates) and the last description
  // of each table a DDL changed (the table of a DROP's tableChanges).
  std::unordered_map<std::string, std::shared_ptr<TableState>> by_name;
  std::map<std::string, Struct> described;
  std::string_view current_event;  // the raw bytes of the event being handled
  std::int64_t last_heartbeat = 0;

  // ---- connections ----

  class Connection {
   public:
    Connection(Impl& impl, MYSQL* m) : impl_(impl), m_(m) {
      std::lock_guard lock(impl_.fd_mutex);
      fd_ = static_cast<int>(mysql_get_socket(m_));
      impl_.active_fds.push_back(fd_);
    }
    ~Connection() {
      {
        std::lock_guard lock(impl_.fd_mutex);
        auto& fds = impl_.active_fds;
        fds.erase(std::remove(fds.begin(), fds.end(), fd_), fds.end());
      }
      mysql_close(m_);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    MYSQL* get() const { return m_; }

   private:
    Impl& impl_;
    MYSQL* m_;
    int fd_ = -1;
  };

  std::unique_ptr<Connection> connect() {
    check_stop();
    MYSQL* m = mysql_init(nullptr);
    if (m == nullptr) throw Fatal("mysql_init failed (out of memory)");
    unsigned timeout =
        static_cast<unsigned>(std::max<std::int64_t>(1, config.connect_timeout_ms / 1000));
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    unsigned protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (mysql_real_connect(m, config.hostname.c_str(), config.user.c_str(), config.password.c_str(),
                           nullptr, static_cast<unsigned>(config.port), nullptr, 0) == nullptr) {
      const unsigned code = mysql_errno(m);
      std::string message = "cannot connect to " + config.hostname + ":" +
                            std::to_string(config.port) + " as " + config.user + ": " +
                            mysql_error(m);
      mysql_close(m);
      if (code == 1045) message += " (check database.user and database.password)";
      raise(code, message);
    }
    return std::make_unique<Connection>(*this, m);
  }

  void check_stop() const {
    if (stopping.load()) throw Stopped();
  }

  void exec(MYSQL* m, const std::string& sql) {
    if (mysql_real_query(m, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
      check_stop();
      raise(mysql_errno(m), sql + ": " + mysql_error(m));
    }
    MYSQL_RES* res = mysql_store_result(m);
    if (res != nullptr) mysql_free_result(res);
  }

  std::vector<Row> query(MYSQL* m, const std::string& sql) {
    if (mysql_real_query(m, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
      check_stop();
      raise(mysql_errno(m), sql + ": " + mysql_error(m));
    }
    MYSQL_RES* res = mysql_store_result(m);
    std::vector<Row> out;
    if (res == nullptr) {
      if (mysql_errno(m) != 0) raise(mysql_errno(m), sql + ": " + mysql_error(m));
      return out;
    }
    const unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      Row r(n);
      for (unsigned i = 0; i < n; ++i) {
        if (row[i] != nullptr) r[i] = std::string(row[i], lengths[i]);
      }
      out.push_back(std::move(r));
    }
    mysql_free_result(res);
    return out;
  }

  std::string escape(MYSQL* m, std::string_view s) {
    std::string out(s.size() * 2 + 1, '\0');
    const auto n =
        mysql_real_escape_string(m, out.data(), s.data(), static_cast<unsigned long>(s.size()));
    out.resize(n);
    return "'" + out + "'";
  }

  void sleep_backoff(std::int64_t ms) {
    std::unique_lock lock(sleep_mutex);
    sleep_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping.load(); });
    check_stop();
  }

  // Runs f, reconnecting with back-off while the database is unreachable.
  template <typename F>
  auto with_retry(const char* what, F f) {
    std::int64_t backoff = 500;
    while (true) {
      try {
        return f();
      } catch (const Transient& e) {
        logger().warn(what, ": ", e.what(), "; retrying in ", backoff, " ms");
        sleep_backoff(backoff);
        backoff = std::min(backoff * 2, std::max<std::int64_t>(500, config.connect_backoff_max_ms));
      }
    }
  }

  // ---- server checks ----

  void check_server(MYSQL* m) {
    auto vars = query(m, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@version");
    if (vars.empty()) throw Fatal("cannot read the server's binlog settings");
    const auto& v = vars[0];
    const std::string log_bin = upper(v[0].value_or(""));
    if (log_bin != "1" && log_bin != "ON") {
      throw Fatal(
          "the server's binary log is off (log_bin): start it with log_bin=<basename> "
          "and a server_id in my.cnf (docs/connectors/cdc-mysql.md)");
    }
    const std::string format = upper(v[1].value_or(""));
    if (format != "ROW") {
      throw Fatal("the server's binlog_format is " + format +
                  ": the connector needs binlog_format=ROW (SET GLOBAL binlog_format=ROW and in "
                  "my.cnf)");
    }
    if (upper(v[2].value_or("")) != "FULL") {
      logger().warn("binlog_row_image is ", v[2].value_or("?"),
                    ": columns absent from partial row images are null in events");
    }
    std::string metadata;
    if (mysql_query(m, "SELECT @@binlog_row_metadata") != 0) {
      const unsigned code = mysql_errno(m);
      if (is_transient(code)) raise(code, mysql_error(m));
      throw Fatal("the server (" + v[3].value_or("?") +
                  ") has no binlog_row_metadata setting: the connector needs MariaDB 10.5+ or "
                  "MySQL 8.0.1+ with binlog_row_metadata=FULL");
    }
    if (MYSQL_RES* res = mysql_store_result(m)) {
      if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
        metadata = upper(row[0]);
      }
      mysql_free_result(res);
    }
    if (metadata != "FULL") {
      throw Fatal("the server's binlog_row_metadata is " + metadata +
                  ": the connector needs binlog_row_metadata=FULL so that every row event "
                  "names its columns (SET GLOBAL binlog_row_metadata=FULL and in my.cnf)");
    }
    (void)current_position(m);  // checks REPLICATION CLIENT / BINLOG MONITOR
    auto cs = query(m, "SELECT @@global.binlog_checksum");
    checksum = !cs.empty() && upper(cs[0][0].value_or("NONE")) != "NONE";
  }

  BinlogPosition current_position(MYSQL* m) {
    if (mysql_query(m, "SHOW MASTER STATUS") != 0) {
      const unsigned code = mysql_errno(m);
      const std::string message = mysql_error(m);
      if (code == 1227 || code == 1045 || code == 1142) {
        throw Fatal("SHOW MASTER STATUS was refused (" + message +
                    "): grant the connector's user REPLICATION CLIENT (MariaDB 10.5+: BINLOG "
                    "MONITOR) and REPLICATION SLAVE");
      }
      raise(code, "SHOW MASTER STATUS: " + message);
    }
    BinlogPosition p;
    MYSQL_RES* res = mysql_store_result(m);
    if (res != nullptr) {
      if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
        p.file = row[0];
        p.pos = row[1] != nullptr ? std::atoll(row[1]) : 4;
      }
      mysql_free_result(res);
    }
    if (p.file.empty()) {
      throw Fatal("SHOW MASTER STATUS is empty: binary logging is off (set log_bin in my.cnf)");
    }
    p.gtids = gtid_position(m);
    return p;
  }

  std::string gtid_position(MYSQL* m) {
    if (mysql_query(m, "SELECT @@gtid_binlog_pos") != 0) {
      if (mysql_query(m, "SELECT @@gtid_executed") != 0) return "";
    }
    std::string out;
    if (MYSQL_RES* res = mysql_store_result(m)) {
      if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) out = row[0];
      mysql_free_result(res);
    }
    return out;
  }

  // True when the server still has file with at least pos bytes.
  bool position_available(MYSQL* m, const BinlogPosition& p) {
    auto logs = query(m, "SHOW BINARY LOGS");
    for (const auto& row : logs) {
      if (row.size() >= 2 && row[0] == p.file) {
        return std::atoll(row[1].value_or("0").c_str()) >= p.pos;
      }
    }
    return false;
  }

  // "the oldest binlog on the server is <file>" (for the purged position's message).
  std::string oldest_binlog_text(MYSQL* m) {
    auto logs = query(m, "SHOW BINARY LOGS");
    if (logs.empty() || !logs[0][0]) return "SHOW BINARY LOGS is empty";
    return "not in SHOW BINARY LOGS; the oldest binlog there is " + *logs[0][0];
  }

  BinlogPosition oldest_position(MYSQL* m) {
    auto logs = query(m, "SHOW BINARY LOGS");
    if (logs.empty() || !logs[0][0]) throw Fatal("SHOW BINARY LOGS is empty");
    BinlogPosition p;
    p.file = *logs[0][0];
    p.pos = 4;
    return p;
  }

  // ---- tables ----

  std::shared_ptr<TableState> build_table(TableMap map) {
    auto state = std::make_shared<TableState>();
    const TableRef ref{map.db, map.table};
    std::vector<ColumnSchema> columns;
    state->slot.assign(map.columns.size(), -1);
    for (std::size_t i = 0; i < map.columns.size(); ++i) {
      const ColumnDef& c = map.columns[i];
      state->column_schemas.push_back(column_schema(c, config.types));
      if (config.filter.column_captured(ref, c.name)) {
        state->slot[i] = static_cast<int>(columns.size());
        columns.push_back({c.name, state->column_schemas.back()});
      }
    }
    std::vector<std::string> keys;
    for (int k : map.primary_key) {
      const auto i = static_cast<std::size_t>(k);
      if (i < map.columns.size() && state->slot[i] >= 0) keys.push_back(map.columns[i].name);
    }
    auto message_keys = config.message_key_columns.key_columns(ref, columns);
    try {
      state->schema = std::make_shared<TableSchema>(config.prefix, ref, std::move(columns), keys,
                                                    mysql_source_schema(), message_keys);
    } catch (const std::exception& e) {
      throw Fatal("table " + ref.qualified() + ": cannot build its schema: " + e.what());
    }
    state->map = std::move(map);
    return state;
  }

  std::vector<TableRef> list_tables(MYSQL* m) {
    auto rows = query(m,
                      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE "
                      "TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', "
                      "'information_schema', 'performance_schema', 'sys') ORDER BY 1, 2");
    std::vector<TableRef> out;
    for (auto& r : rows) {
      TableRef t{r[0].value_or(""), r[1].value_or("")};
      if (config.filter.table_captured(t) && !incremental.is_signal_table(t)) {
        out.push_back(std::move(t));
      }
    }
    return out;
  }

  std::shared_ptr<TableState> read_table(MYSQL* m, const TableRef& t) {
    const std::string where =
        " WHERE TABLE_SCHEMA = " + escape(m, t.ns) + " AND TABLE_NAME = " + escape(m, t.table);
    auto cols = query(m,
                      "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
                      "NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLLATION_NAME "
                      "FROM information_schema.COLUMNS" +
                          where + " ORDER BY ORDINAL_POSITION");
    TableMap map;
    map.db = t.ns;
    map.table = t.table;
    map.has_names = true;
    for (auto& r : cols) {
      auto num = [&](std::size_t i) { return r[i] ? std::atoi(r[i]->c_str()) : 0; };
      auto c = column_from_information_schema(r[0].value_or(""), r[1].value_or(""),
                                              r[2].value_or(""), r[3].value_or("") == "YES", num(4),
                                              num(5), num(6), r[7].value_or(""));
      if (!c.ok()) throw Fatal("table " + t.qualified() + ": " + c.error().message());
      map.columns.push_back(std::move(c).value());
    }
    auto pk = query(m, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE" + where +
                           " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION");
    for (auto& r : pk) {
      for (std::size_t i = 0; i < map.columns.size(); ++i) {
        if (map.columns[i].name == r[0].value_or(""))
          map.primary_key.push_back(static_cast<int>(i));
      }
    }
    return build_table(std::move(map));
  }

  // ---- output ----

  RecordBatch batch;

  void push(ConnectRecord record) {
    incremental.observe(record);
    push_raw(std::move(record));
  }
  void push_raw(ConnectRecord record) {
    batch.push_back(std::move(record));
    if (batch.size() >= options.batch_limit) flush();
  }
  // The incremental snapshot's notifications (notification.enabled.channels=sink), in order.
  void push_notifications() {
    for (auto& n : incremental.take_notifications()) {
      n.position.partition = partition;
      push_raw(std::move(n));
    }
  }

  // Hands the pending records to poll(); blocks while the queue is full.
  void flush() {
    if (batch.empty()) return;
    RecordBatch out;
    out.reserve(options.batch_limit);
    out.swap(batch);
    if (!queue->push(std::move(out))) throw Stopped();
  }

  OffsetTemplate offsets;  // the per-record offsets of snapshot and streamed rows

  void emit_change(const TableState& table, ChangeEvent event, const BinlogPosition& at) {
    const bool is_delete = event.op == Op::kDelete;
    ConnectRecord record =
        change_record(*table.schema, std::move(event), partition, offsets.at(at, at.event));
    if (is_delete && config.tombstones_on_delete) {
      ConnectRecord tombstone = tombstone_for(record);
      push(std::move(record));
      push(std::move(tombstone));
    } else {
      push(std::move(record));
    }
    events_read->fetch_add(1, std::memory_order_relaxed);
  }

  Struct to_struct(const TableState& table, std::vector<Value>& values) {
    Struct row = table.schema->new_row();
    auto& slots = row.values();
    for (std::size_t i = 0; i < values.size() && i < table.slot.size(); ++i) {
      if (table.slot[i] >= 0) slots[static_cast<std::size_t>(table.slot[i])] = std::move(values[i]);
    }
    return row;
  }

  void maybe_heartbeat(bool force = false) {
    if (config.heartbeat_interval_ms <= 0 || in_txn) return;
    const std::int64_t now = now_ms();
    if (!force && now - last_heartbeat < config.heartbeat_interval_ms) return;
    last_heartbeat = now;
    push(heartbeat_record(config.prefix, now, partition, position_to_offset(resume)));
    flush();
  }

  // ---- snapshot ----

  BinlogPosition snapshot(bool with_data) {
    auto conn = connect();
    MYSQL* m = conn->get();
    const std::string& locking = config.snapshot_locking_mode;
    const bool lock = locking != "none";
    exec(m, "SET SESSION time_zone = '+00:00'");
    exec(m, "SET SESSION net_write_timeout = 3600");
    exec(m, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    if (lock) {
      if (mysql_query(m, "FLUSH TABLES WITH READ LOCK") != 0) {
        const unsigned code = mysql_errno(m);
        const std::string message = mysql_error(m);
        if (code == 1227 || code == 1045) {
          throw Fatal("FLUSH TABLES WITH READ LOCK was refused (" + message +
                      "): grant the user RELOAD, or set snapshot.locking.mode=none");
        }
        raise(code, "FLUSH TABLES WITH READ LOCK: " + message);
      }
    }
    exec(m, "START TRANSACTION WITH CONSISTENT SNAPSHOT");
    BinlogPosition position;
    if (!lock) {
      // MariaDB reports the binlog position of the consistent snapshot without any lock.
      auto status = query(m, "SHOW STATUS LIKE 'binlog_snapshot_%'");
      for (auto& r : status) {
        if (r[0] == std::optional<std::string>("Binlog_snapshot_file"))
          position.file = r[1].value_or("");
        if (r[0] == std::optional<std::string>("Binlog_snapshot_position")) {
          position.pos = std::atoll(r[1].value_or("4").c_str());
        }
      }
      position.gtids = gtid_position(m);
    }
    if (position.file.empty()) position = current_position(m);
    std::vector<std::shared_ptr<TableState>> tables;
    for (const auto& t : list_tables(m)) {
      tables.push_back(read_table(m, t));
      by_name[t.qualified()] = tables.back();
    }
    if (lock && locking != "extended") exec(m, "UNLOCK TABLES");
    logger().info("snapshot of ", tables.size(), " table(s) at ", position.file, ":", position.pos,
                  with_data ? "" : " (schema only)");

    BinlogPosition in_snapshot = position;
    in_snapshot.snapshot = true;
    const std::int64_t started = now_ms();
    // Each row is emitted once the next one is read (or the snapshot ends), so the last row of
    // the snapshot is known as such ("last", at the position streaming starts from).
    struct Pending {
      const TableState* table = nullptr;
      Struct row;
      std::int64_t ts_ms = 0;
    };
    std::optional<Pending> pending;
    bool first = true;
    auto flush_pending = [&](bool last) {
      if (!pending) return;
      const TableState& table = *pending->table;
      ChangeEvent event;
      event.op = Op::kRead;
      event.after = std::move(pending->row);
      SourceInfo& s = event.source;
      s.connector = "mysql";
      s.name = config.prefix;
      s.ts_ms = started;
      s.snapshot = last ? "last" : first ? "first" : "true";
      s.db = table.map.db;
      s.table = table.map.table;
      s.file = position.file;
      s.pos = position.pos;
      event.ts_ms = pending->ts_ms;
      first = false;
      pending.reset();
      emit_change(table, std::move(event), last ? position : in_snapshot);
    };
    if (with_data) {
      for (const auto& table : tables) {
        std::string select;
        std::vector<std::size_t> columns;  // select position k -> column; its row slot is k
        for (std::size_t i = 0; i < table->map.columns.size(); ++i) {
          if (table->slot[i] < 0) continue;
          select += (select.empty() ? "" : ", ") + quote_ident(table->map.columns[i].name);
          columns.push_back(i);
        }
        if (columns.empty()) continue;
        const std::string sql = "SELECT " + select + " FROM " + quote_ident(table->map.db) + "." +
                                quote_ident(table->map.table);
        if (mysql_real_query(m, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
          check_stop();
          raise(mysql_errno(m), sql + ": " + mysql_error(m));
        }
        MYSQL_RES* res = mysql_use_result(m);
        if (res == nullptr) raise(mysql_errno(m), sql + ": " + mysql_error(m));
        struct Free {
          MYSQL_RES* r;
          ~Free() { mysql_free_result(r); }
        } free_res{res};
        while (MYSQL_ROW row = mysql_fetch_row(res)) {
          unsigned long* lengths = mysql_fetch_lengths(res);
          Struct after = table->schema->new_row();
          auto& slots = after.values();
          for (std::size_t k = 0; k < columns.size() && k < slots.size(); ++k) {
            if (row[k] == nullptr) continue;
            const std::size_t i = columns[k];
            auto v = decode_text(table->map.columns[i], table->column_schemas[i], config.types,
                                 std::string_view(row[k], lengths[k]));
            if (!v.ok()) {
              throw Fatal("snapshot of " + table->map.db + "." + table->map.table + ": " +
                          v.error().message());
            }
            slots[k] = std::move(v).value();
          }
          const std::int64_t read_ms = now_ms();
          flush_pending(false);
          pending.emplace(Pending{table.get(), std::move(after), read_ms});
        }
        if (mysql_errno(m) != 0) raise(mysql_errno(m), sql + ": " + mysql_error(m));
      }
    }
    exec(m, "COMMIT");
    if (lock && locking == "extended") exec(m, "UNLOCK TABLES");
    flush_pending(true);
    flush();
    // Streaming reuses the snapshot's table schemas until the binlog's TABLE_MAPs arrive.
    return position;
  }

  // ---- streaming ----

  void begin_txn(std::int64_t start, std::string gtid) {
    in_txn = true;
    txn_has_begin = false;
    txn_start = start;
    txn_events = 0;
    txn_gtid = std::move(gtid);
    if (start != skip_pos) skip_events = 0;
    resume.file = file;
    resume.pos = start;
    resume.event = 0;
  }

  void end_txn(std::int64_t next_pos) {
    in_txn = false;
    txn_events = 0;
    skip_events = 0;
    skip_pos = -1;
    txn_thread.reset();
    resume.file = file;
    resume.pos = next_pos;
    resume.event = 0;
    resume.gtids = gtids_text();
    // Every transaction maps its tables again before its rows: old table ids can go.
    if (by_id.size() > 1024) by_id.clear();
    flush();
  }

  std::string gtids_text() const {
    if (gtid_domains.empty()) return resume.gtids;
    std::string out;
    for (const auto& [domain, gtid] : gtid_domains) {
      if (!out.empty()) out += ',';
      out += gtid;
    }
    return out;
  }

  void load_gtids(const std::string& text) {
    gtid_domains.clear();
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      std::string item = text.substr(start, end - start);
      const auto dash = item.find('-');
      if (dash != std::string::npos && item.find(':') == std::string::npos) {
        gtid_domains[static_cast<std::uint32_t>(std::atoll(item.c_str()))] = item;
      }
      start = end + 1;
    }
  }

  void handle_table_map(std::string_view body) {
    auto parsed = parse_table_map(body);
    if (!parsed.ok()) throw Fatal(parsed.error().message());
    TableMap& map = parsed.value();
    if (!config.filter.table_captured(TableRef{map.db, map.table}) &&
        !incremental.is_signal_table(TableRef{map.db, map.table})) {
      by_id[map.table_id] = nullptr;
      return;
    }
    if (!map.has_names) {
      throw Fatal("the TABLE_MAP event of " + map.db + "." + map.table +
                  " carries no column names: set binlog_row_metadata=FULL on the server "
                  "(MariaDB 10.5+, MySQL 8.0.1+), then restart the connector");
    }
    if (auto it = by_signature.find(map.signature); it != by_signature.end()) {
      by_id[map.table_id] = it->second;
      by_name[map.db + "." + map.table] = it->second;
      return;
    }
    if (by_signature.size() > 4096) by_signature.clear();
    const std::uint64_t id = map.table_id;
    std::string signature = map.signature;
    auto state = build_table(std::move(map));
    by_signature.emplace(std::move(signature), state);
    by_name[state->map.db + "." + state->map.table] = state;
    by_id[id] = std::move(state);
  }

  // A row image that cannot be decoded (corrupt, or a value the decoder refuses): in its place an
  // undecodable record carrying the raw event, for errors.tolerance / the dead letter queue (or
  // the task's failure); the event's remaining rows are skipped. It counts as one event of the
  // transaction, so a restart after it does not report it again.
  void undecodable_rows(const TableState& table, const std::string& error,
                        std::int64_t event_start) {
    const std::int64_t index = ++txn_events;
    resume.event = txn_events;
    if (txn_start == skip_pos && index <= skip_events) return;  // reported before
    const std::string message = "undecodable binlog event of " + table.map.db + "." +
                                table.map.table + " at " + file + ":" +
                                std::to_string(event_start) + ": " + error;
    logger().warn(message);
    BinlogPosition at = resume;
    at.event = index;
    push(undecodable_record(partition, position_to_offset(at), table.schema->topic(), current_event,
                            message));
  }

  void handle_rows(const EventHeader& header, std::string_view body, std::int64_t event_start) {
    auto parsed = parse_rows_event(header.type, body);
    if (!parsed.ok()) throw Fatal(parsed.error().message());
    const RowsEvent& rows = parsed.value();
    auto it = by_id.find(rows.table_id);
    if (it == by_id.end()) {
      throw Fatal("rows event for table id " + std::to_string(rows.table_id) +
                  " without its TABLE_MAP at " + file + ":" + std::to_string(event_start));
    }
    if (!it->second) return;  // not captured
    const TableState& table = *it->second;
    if (incremental.is_signal_table(TableRef{table.map.db, table.map.table})) {
      return handle_signal_rows(header, rows, table, event_start);
    }
    const Op op = rows.kind == RowsKind::kWrite    ? Op::kCreate
                  : rows.kind == RowsKind::kUpdate ? Op::kUpdate
                                                   : Op::kDelete;
    if (config.op_skipped(op)) return;
    if (!in_txn) begin_txn(event_start, "");
    std::size_t pos = 0;
    std::int32_t row_index = 0;
    // One clock read per binlog event: its rows are handled within microseconds.
    const std::int64_t processed_ms = now_ms();
    const std::vector<int>& slots = table.slot;
    while (pos < rows.rows.size()) {
      // Each image is decoded straight into the slots of its row struct.
      Struct first = table.schema->new_row();
      auto r = decode_row_image_into(table.map, table.column_schemas, config.types, rows.present,
                                     slots, rows.rows, &pos, first.values());
      if (!r.ok()) return undecodable_rows(table, r.error().message(), event_start);
      std::optional<Struct> second;
      if (rows.kind == RowsKind::kUpdate) {
        second.emplace(table.schema->new_row());
        r = decode_row_image_into(table.map, table.column_schemas, config.types, rows.present_after,
                                  slots, rows.rows, &pos, second->values());
        if (!r.ok()) return undecodable_rows(table, r.error().message(), event_start);
        // A minimal after image omits an unchanged primary key: take it from the before image,
        // so the record's key (read from after) is right.
        for (int k : table.map.primary_key) {
          const auto i = static_cast<std::size_t>(k);
          if (i < slots.size() && slots[i] >= 0 && i < rows.present_after.size() &&
              !rows.present_after[i] && rows.present[i]) {
            const auto slot = static_cast<std::size_t>(slots[i]);
            second->values()[slot] = first.values()[slot];
          }
        }
      }
      // A delete and its tombstone are two events of the transaction, each with its own offset,
      // so a restart between them still sends the tombstone.
      const bool tombstone = op == Op::kDelete && config.tombstones_on_delete;
      const std::int64_t change_index = ++txn_events;
      const std::int64_t tombstone_index = tombstone ? ++txn_events : 0;
      const std::int32_t this_row = row_index++;
      const bool replay = txn_start == skip_pos;
      const bool change_sent = replay && change_index <= skip_events;
      const bool tombstone_sent = !tombstone || (replay && tombstone_index <= skip_events);
      if (change_sent && tombstone_sent) continue;  // emitted before
      ChangeEvent event;
      event.op = op;
      switch (rows.kind) {
        case RowsKind::kWrite:
          event.after = std::move(first);
          break;
        case RowsKind::kUpdate:
          event.before = std::move(first);
          event.after = std::move(second);
          break;
        case RowsKind::kDelete:
          event.before = std::move(first);
          break;
      }
      SourceInfo& s = event.source;
      s.connector = "mysql";
      s.name = config.prefix;
      s.ts_ms = static_cast<std::int64_t>(header.timestamp) * 1000;
      s.db = table.map.db;
      s.table = table.map.table;
      s.server_id = header.server_id;
      if (!txn_gtid.empty()) s.gtid = txn_gtid;
      s.file = file;
      s.pos = event_start;
      s.row = this_row;
      s.thread = txn_thread;
      event.ts_ms = processed_ms;
      ConnectRecord record = change_record(*table.schema, std::move(event), partition,
                                           offsets.at(resume, change_index));
      if (tombstone) {
        ConnectRecord t = tombstone_for(record);
        t.position.offset = offsets.at(resume, tombstone_index);
        if (!change_sent) push(std::move(record));
        push(std::move(t));
      } else {
        push(std::move(record));
      }
      resume.event = txn_events;
      events_read->fetch_add(1, std::memory_order_relaxed);
    }
  }

  void handle_query(const EventHeader& header, std::string_view body, std::int64_t event_start) {
    auto parsed = parse_query_event(body);
    if (!parsed.ok()) throw Fatal(parsed.error().message());
    const QueryEvent& q = parsed.value();
    const std::string word = leading_words(q.statement, 1);
    if (word == "BEGIN") {
      if (!in_txn) begin_txn(event_start, "");
      txn_has_begin = true;
      txn_thread = q.thread_id;
      return;
    }
    if (word == "COMMIT" || word == "ROLLBACK") {
      end_txn(header.log_pos);
      return;
    }
    if (word == "XA" || word == "SAVEPOINT") return;
    const bool standalone = !in_txn || !txn_has_begin;
    if (standalone) end_txn(header.log_pos);
    if (word == "TRUNCATE") {
      // Debezium's truncate event (op "t", no before/after) per captured table; no schema change.
      const DdlTarget target = ddl_target(q.statement, q.database);
      if (config.op_skipped(Op::kTruncate)) return;
      for (const TableRef& t : target.tables) {
        if (!t.ns.empty() && config.filter.table_captured(t)) {
          emit_truncate(header, q, t, event_start);
        }
      }
      return;
    }
    if (config.include_schema_changes && is_ddl(word)) {
      const DdlTarget target = ddl_target(q.statement, q.database);
      if (!target.db.empty() && config.filter.namespaces.accepts(target.db)) {
        emit_schema_change(header, q, target, leading_words(q.statement, 3), event_start);
      }
    }
    // Cached table versions stay valid: TABLE_MAP signatures change with the table.
  }

  static bool is_ddl(const std::string& word) {
    return word == "CREATE" || word == "ALTER" || word == "DROP" || word == "RENAME";
  }

  // The table's schema for an event without a row image (a truncate): the version last seen in
  // a TABLE_MAP or the snapshot, else the one information_schema describes now.
  std::shared_ptr<TableState> table_by_name(const TableRef& t) {
    if (auto it = by_name.find(t.qualified()); it != by_name.end()) return it->second;
    auto state = with_meta([&](MYSQL* m) { return read_table(m, t); });
    by_name[t.qualified()] = state;
    return state;
  }

  void emit_truncate(const EventHeader& header, const QueryEvent& q, const TableRef& t,
                     std::int64_t event_start) {
    auto table = table_by_name(t);
    ChangeEvent event;
    event.op = Op::kTruncate;
    SourceInfo& s = event.source;
    s.connector = "mysql";
    s.name = config.prefix;
    s.ts_ms = static_cast<std::int64_t>(header.timestamp) * 1000;
    s.db = t.ns;
    s.table = t.table;
    s.server_id = header.server_id;
    if (!txn_gtid.empty()) s.gtid = txn_gtid;
    s.file = file;
    s.pos = event_start;
    s.thread = q.thread_id;
    event.ts_ms = now_ms();
    push(change_record(*table->schema, std::move(event), partition, position_to_offset(resume)));
    events_read->fetch_add(1, std::memory_order_relaxed);
  }

  // A connection for information_schema reads while streaming (opened when first needed).
  std::unique_ptr<Connection> meta;
  template <typename F>
  auto with_meta(F f) -> std::invoke_result_t<F, MYSQL*> {
    return with_retry("reading information_schema", [&] {
      try {
        if (!meta) meta = connect();
        return f(meta->get());
      } catch (const Transient&) {
        meta.reset();
        throw;
      }
    });
  }

  // information_schema's description of a table (io.debezium.connector.schema.Table); nullopt
  // when the table does not exist (any more).
  std::optional<Struct> describe(MYSQL* m, const TableRef& t) {
    const std::string where =
        " WHERE TABLE_SCHEMA = " + escape(m, t.ns) + " AND TABLE_NAME = " + escape(m, t.table);
    auto cols = query(m,
                      "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
                      "CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, "
                      "DATETIME_PRECISION, CHARACTER_SET_NAME, EXTRA, ORDINAL_POSITION, "
                      "COLUMN_DEFAULT, COLUMN_COMMENT FROM information_schema.COLUMNS" +
                          where + " ORDER BY ORDINAL_POSITION");
    if (cols.empty()) return std::nullopt;
    TableInfo info;
    auto num = [](const std::optional<std::string>& v) -> std::optional<std::int64_t> {
      if (!v) return std::nullopt;
      return std::atoll(v->c_str());
    };
    for (auto& r : cols) {
      ColumnInfo c;
      c.name = r[0].value_or("");
      c.data_type = r[1].value_or("");
      c.column_type = r[2].value_or("");
      c.nullable = r[3].value_or("") == "YES";
      c.char_max_length = num(r[4]);
      c.numeric_precision = num(r[5]);
      c.numeric_scale = num(r[6]);
      c.datetime_precision = num(r[7]);
      c.charset = r[8];
      c.extra = r[9].value_or("");
      c.position = static_cast<std::int32_t>(num(r[10]).value_or(0));
      c.default_value = r[11];
      c.comment = r[12].value_or("");
      info.columns.push_back(std::move(c));
    }
    auto pk = query(m, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE" + where +
                           " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION");
    for (auto& r : pk) info.primary_key.push_back(r[0].value_or(""));
    auto tables =
        query(m, "SELECT TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES" + where);
    if (!tables.empty()) {
      if (tables[0][0]) info.charset = tables[0][0]->substr(0, tables[0][0]->find('_'));
      info.comment = tables[0][1].value_or("");
    }
    return describe_table(info);
  }

  // Debezium's tableChanges of a CREATE/ALTER/DROP TABLE (other statements have none). The
  // structure is what information_schema says when the event is read: the DDL's result when
  // streaming live.
  ValueList table_changes(const std::string& words, const DdlTarget& target) {
    ValueList out;
    std::string type;
    if (words.starts_with("CREATE") && words.find("TABLE") != std::string::npos) type = "CREATE";
    if (words.starts_with("ALTER TABLE") || words.starts_with("ALTER ONLINE TABLE") ||
        words.starts_with("ALTER IGNORE TABLE")) {
      type = "ALTER";
    }
    if (words.starts_with("DROP") && words.find("TABLE") != std::string::npos) type = "DROP";
    if ((words.starts_with("CREATE") || words.starts_with("DROP")) &&
        words.find("INDEX") != std::string::npos) {
      type = "ALTER";  // an index changes the table (Debezium's ALTER)
    }
    if (type.empty()) return out;
    for (const TableRef& t : target.tables) {
      if (t.ns.empty() || !config.filter.table_captured(t)) continue;
      std::optional<Struct> table;
      const std::string id = t.qualified();
      if (type == "DROP") {
        if (auto it = described.find(id); it != described.end()) table = it->second;
        described.erase(id);
        by_name.erase(id);
      } else {
        table = with_meta([&](MYSQL* m) { return describe(m, t); });
        if (table) described.insert_or_assign(id, *table);
        by_name.erase(id);
      }
      out.emplace_back(table_change(type, t, std::move(table)));
    }
    return out;
  }

  void emit_schema_change(const EventHeader& header, const QueryEvent& q, const DdlTarget& target,
                          const std::string& words, std::int64_t event_start) {
    const std::string& db = target.db;
    static const SchemaPtr key_schema = SchemaBuilder::struct_()
                                            .name("io.debezium.connector.mysql.SchemaChangeKey")
                                            .field("databaseName", SchemaBuilder::string().build())
                                            .build();
    static const SchemaPtr value_schema =
        SchemaBuilder::struct_()
            .name("io.debezium.connector.mysql.SchemaChangeValue")
            .field("source", mysql_source_schema())
            .field("ts_ms", SchemaBuilder::int64().build())
            .field("databaseName", SchemaBuilder::string().optional().build())
            .field("schemaName", SchemaBuilder::string().optional().build())
            .field("ddl", SchemaBuilder::string().optional().build())
            .field("tableChanges", SchemaBuilder::array(table_change_schema()).build())
            .build();
    ValueList changes = table_changes(words, target);
    SourceInfo s;
    s.connector = "mysql";
    s.name = config.prefix;
    s.ts_ms = static_cast<std::int64_t>(header.timestamp) * 1000;
    s.db = db;
    s.server_id = header.server_id;
    if (!txn_gtid.empty()) s.gtid = txn_gtid;
    s.file = file;
    s.pos = event_start;
    s.thread = q.thread_id;
    Struct key(key_schema);
    key.put("databaseName", Value(db));
    Struct value(value_schema);
    value.put("source", Value(source_struct(mysql_source_schema(), s)));
    value.put("ts_ms", Value(now_ms()));
    value.put("databaseName", Value(db));
    value.put("ddl", Value(q.statement));
    value.put("tableChanges", Value(std::move(changes)));
    ConnectRecord record(partition, position_to_offset(resume),
                         static_cast<std::int64_t>(header.timestamp) * 1000, key_schema,
                         Value(std::move(key)), value_schema, Value(std::move(value)));
    record.set_topic(rocketmq_topic_name(config.prefix));
    push(std::move(record));
  }

  void handle_event(const MARIADB_RPL_EVENT* ev) {
    std::string_view raw(reinterpret_cast<const char*>(ev->raw_data), ev->raw_data_size);
    const std::size_t ofs = ev->raw_data_ofs <= raw.size() ? ev->raw_data_ofs : 0;
    raw.remove_prefix(ofs);
    auto header = parse_event_header(raw);
    if (!header.ok()) throw Fatal(header.error().message());
    const EventHeader& h = header.value();
    std::size_t len = std::min<std::size_t>(h.event_size, raw.size());
    if (len < kEventHeaderSize) throw Fatal("binlog event shorter than its header");
    if (checksum && h.type != event_type::kFormatDescription && len >= kEventHeaderSize + 4) {
      len -= 4;
    }
    const std::string_view body = raw.substr(kEventHeaderSize, len - kEventHeaderSize);
    current_event = raw.substr(0, len);
    const std::int64_t event_start =
        h.log_pos >= h.event_size ? static_cast<std::int64_t>(h.log_pos - h.event_size) : 0;
    switch (h.type) {
      case event_type::kRotate: {
        auto r = parse_rotate_event(body);
        if (!r.ok()) throw Fatal(r.error().message());
        file = r.value().file;
        if (!in_txn) {
          resume.file = file;
          resume.pos = static_cast<std::int64_t>(r.value().position);
          resume.event = 0;
        }
        break;
      }
      case event_type::kMariaGtid: {
        auto g = parse_maria_gtid(body);
        if (!g.ok()) throw Fatal(g.error().message());
        const std::string gtid = std::to_string(g.value().domain) + "-" +
                                 std::to_string(h.server_id) + "-" +
                                 std::to_string(g.value().sequence);
        begin_txn(event_start, gtid);
        gtid_domains[g.value().domain] = gtid;
        break;
      }
      case event_type::kMysqlGtid:
      case event_type::kMysqlAnonymousGtid: {
        std::string gtid;
        if (h.type == event_type::kMysqlGtid && body.size() >= 25) {
          static constexpr char kHex[] = "0123456789abcdef";
          for (int i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) gtid += '-';
            const auto b = static_cast<unsigned char>(body[1 + static_cast<std::size_t>(i)]);
            gtid += kHex[b >> 4];
            gtid += kHex[b & 15];
          }
          std::uint64_t gno = 0;
          for (int i = 7; i >= 0; --i) {
            gno = (gno << 8) | static_cast<unsigned char>(body[17 + static_cast<std::size_t>(i)]);
          }
          gtid += ":" + std::to_string(gno);
        }
        begin_txn(event_start, gtid);
        break;
      }
      case event_type::kQuery:
        handle_query(h, body, event_start);
        break;
      case event_type::kXid:
        end_txn(h.log_pos);
        break;
      case event_type::kTableMap:
        handle_table_map(body);
        break;
      case 40:  // TRANSACTION_PAYLOAD (MySQL binlog_transaction_compression)
        throw Fatal(
            "compressed transaction payloads are not supported: set "
            "binlog_transaction_compression=OFF");
      case event_type::kPartialUpdateRows:
        throw Fatal(
            "partial JSON row images (binlog_row_value_options=PARTIAL_JSON) are not "
            "supported: set binlog_row_value_options=''");
      default:
        if (is_rows_event(h.type)) {
          handle_rows(h, body, event_start);
        } else if (h.type >= event_type::kMariaQueryCompressed &&
                   h.type <= event_type::kMariaDeleteRowsCompressed) {
          throw Fatal("compressed binlog events are not supported: set log_bin_compress=OFF");
        }
        break;
    }
    maybe_heartbeat();
    if (!in_txn) flush();
  }

  void stream_once() {
    auto conn = connect();
    MYSQL* m = conn->get();
    auto cs = query(m, "SELECT @@global.binlog_checksum");
    checksum = !cs.empty() && upper(cs[0][0].value_or("NONE")) != "NONE";
    exec(m, "SET @master_binlog_checksum = @@global.binlog_checksum");
    exec(m, "SET @mariadb_slave_capability = 4");
    std::int64_t period_ms = 1000;
    if (config.heartbeat_interval_ms > 0) {
      period_ms = std::min<std::int64_t>(period_ms, config.heartbeat_interval_ms);
    }
    exec(m, "SET @master_heartbeat_period = " + std::to_string(period_ms * 1000000));
    MARIADB_RPL* rpl = mariadb_rpl_init(m);
    if (rpl == nullptr) throw Fatal("mariadb_rpl_init failed");
    struct Close {
      MARIADB_RPL* r;
      ~Close() { mariadb_rpl_close(r); }
    } close_rpl{rpl};
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, resume.file.c_str(), resume.file.size());
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, static_cast<unsigned long>(resume.pos));
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, options.server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, 0u);
    file = resume.file;
    in_txn = false;
    skip_pos = resume.event > 0 ? resume.pos : -1;
    skip_events = resume.event;
    if (mariadb_rpl_open(rpl) != 0) {
      unsigned code = mysql_errno(m);
      std::string message = mysql_error(m);
      if (code == 0) {
        code = mariadb_rpl_errno(rpl);
        message = mariadb_rpl_error(rpl);
      }
      check_stop();
      if (code == 1227) {
        throw Fatal("binlog dump was refused (" + message +
                    "): grant the user REPLICATION SLAVE (and REPLICATION CLIENT)");
      }
      if (code == 1236) throw Fatal(purged_message(message));
      raise(code,
            "binlog dump from " + resume.file + ":" + std::to_string(resume.pos) + ": " + message);
    }
    chunk_source.reset();  // a new connection for chunks too
    check(incremental.on_stream_start(chunk_source));
    push_notifications();
    logger().info("streaming the binlog from ", resume.file, ":", resume.pos,
                  resume.event > 0 ? " (skipping events already sent)" : "");
    MARIADB_RPL_EVENT* ev = nullptr;
    struct FreeEvent {
      MARIADB_RPL_EVENT** e;
      ~FreeEvent() {
        if (*e != nullptr) mariadb_free_rpl_event(*e);
      }
    } free_event{&ev};
    while (!stopping.load()) {
      // fetch reuses ev, or frees it when it returns null.
      MARIADB_RPL_EVENT* next = mariadb_rpl_fetch(rpl, ev);
      ev = next;
      if (next == nullptr) {
        check_stop();
        unsigned code = mysql_errno(m);
        std::string message = mysql_error(m);
        if (code == 0 && mariadb_rpl_errno(rpl) != 0) {
          code = mariadb_rpl_errno(rpl);
          message = mariadb_rpl_error(rpl);
        }
        if (code == 1236) throw Fatal(purged_message(message));
        raise(code,
              "binlog read at " + file + ": " + (message.empty() ? "connection closed" : message));
      }
      handle_event(ev);
    }
    check_stop();
  }

  std::string purged_message(const std::string& message) const {
    std::string gtids;
    if (!resume.gtids.empty()) gtids = " (GTID set " + resume.gtids + ")";
    return "the server no longer has the connector's binlog position " + resume.file + ":" +
           std::to_string(resume.pos) + gtids + " (" + message +
           "): it was purged (PURGE BINARY LOGS, expire_logs_days / binlog_expire_logs_seconds) "
           "or belongs to another server; changes after it are lost to the connector. Set "
           "snapshot.mode=when_needed to take a new snapshot and stream on from there, or delete "
           "the connector's committed offsets to start afresh; keep binlogs longer than the "
           "connector may be stopped";
  }

  void stream(const BinlogPosition& start) {
    resume = start;
    resume.snapshot = false;
    load_gtids(start.gtids);
    std::int64_t backoff = 500;
    while (true) {
      check_stop();
      const auto before = events_read->load();
      try {
        stream_once();
      } catch (const Transient& e) {
        // Records decoded before the break are valid and counted in resume.event: send them.
        flush();
        if (events_read->load() != before) backoff = 500;
        logger().warn("binlog stream interrupted (", e.what(), "); reconnecting from ", resume.file,
                      ":", resume.pos, " in ", backoff, " ms");
        sleep_backoff(backoff);
        backoff = std::min(backoff * 2, std::max<std::int64_t>(500, config.connect_backoff_max_ms));
      }
    }
  }

  void run() {
    try {
      BinlogPosition start;
      bool take_snapshot = false;
      bool stream_after = config.snapshot_mode != SnapshotMode::kInitialOnly;
      with_retry("connecting", [&] {
        auto conn = connect();
        MYSQL* m = conn->get();
        check_server(m);
        const auto& committed = options.committed;
        const SnapshotMode mode = config.snapshot_mode;
        if (committed && !committed->snapshot) {
          if (mode == SnapshotMode::kInitialOnly) {
            stream_after = false;
          } else if (mode == SnapshotMode::kAlways) {
            take_snapshot = true;
          } else if (!position_available(m, *committed)) {
            if (mode != SnapshotMode::kWhenNeeded) {
              resume = *committed;
              throw Fatal(purged_message(oldest_binlog_text(m)));
            }
            logger().warn("the committed position ", committed->file, ":", committed->pos,
                          " was purged: taking a new snapshot (snapshot.mode=when_needed)");
            take_snapshot = true;
          } else {
            start = *committed;
          }
        } else {
          switch (mode) {
            case SnapshotMode::kNever:
              start = oldest_position(m);
              break;
            case SnapshotMode::kNoData:
            case SnapshotMode::kRecovery:
              start = current_position(m);
              break;
            default:
              take_snapshot = true;
              break;
          }
        }
        return 0;
      });
      if (take_snapshot) {
        const bool with_data = config.snapshot_mode != SnapshotMode::kNoData &&
                               config.snapshot_mode != SnapshotMode::kRecovery;
        start = with_retry("snapshot", [&] { return snapshot(with_data); });
      }
      if (!stream_after) {
        logger().info("snapshot.mode=initial_only: the snapshot is complete, not streaming");
        return;
      }
      stream(start);
    } catch (const Stopped&) {
    } catch (const Fatal& e) {
      logger().error("MySQL CDC reader failed: ", e.what());
      try {
        flush();  // the records before the failure are valid
      } catch (const Stopped&) {
      }
      queue->fail(e.what());
    } catch (const std::exception& e) {
      logger().error("MySQL CDC reader failed: ", e.what());
      queue->fail(std::string("unexpected error: ") + e.what());
    }
    meta.reset();
  }

  // ---- incremental snapshots (cdc/common/incremental_snapshot.h) ----

  // Chunks and watermarks go through a connection of their own, opened when first needed.
  struct ChunkSource final : SnapshotSource {
    explicit ChunkSource(Impl& impl) : impl_(impl) {}

    MYSQL* conn() {
      if (!conn_) {
        conn_ = impl_.connect();
        impl_.exec(conn_->get(), "SET SESSION time_zone = '+00:00'");
      }
      return conn_->get();
    }
    void reset() { conn_.reset(); }

    std::shared_ptr<TableState> table(const TableRef& t) {
      auto& state = tables_[t.qualified()];
      if (!state) state = impl_.read_table(conn(), t);
      return state;
    }

    Result<std::vector<std::string>> key_columns(const TableRef& t) override {
      tables_.erase(t.qualified());  // the table may have changed since it was last read
      if (!impl_.config.filter.table_captured(t) || impl_.incremental.is_signal_table(t)) {
        return Error::fatal(ErrorCode::kInvalidConfig,
                            "table " + t.qualified() + " is not captured (see table.include.list)");
      }
      try {
        auto state = table(t);
        if (state->map.columns.empty()) {
          return Error::fatal(ErrorCode::kNotFound, "table " + t.qualified() + " does not exist");
        }
        const auto& positions = state->schema->primary_key_positions();
        if (positions.size() != state->map.primary_key.size()) {
          return Error::fatal(ErrorCode::kInvalidConfig,
                              "table " + t.qualified() +
                                  " has no primary key, or column filters leave part of it out");
        }
        std::vector<std::string> out;
        for (int p : positions) {
          out.push_back(state->schema->columns()[static_cast<std::size_t>(p)].name);
        }
        return out;
      } catch (const Fatal& e) {
        return Error::fatal(ErrorCode::kInvalidConfig, e.what());
      }
    }

    // keys: the chunk key's columns (the primary key's, or a surrogate key's).
    SqlQuoting quoting(const TableState& state, const std::vector<std::string>& keys) {
      MYSQL* m = conn();
      std::vector<std::uint8_t> types;  // per key column; 0 when the table has no such column
      for (const auto& k : keys) {
        const auto it = std::find_if(state.map.columns.begin(), state.map.columns.end(),
                                     [&](const auto& c) { return c.name == k; });
        types.push_back(it == state.map.columns.end() ? 0 : it->type);
      }
      return SqlQuoting{
          [](std::string_view id) { return quote_ident(id); },
          [this, m, types](std::size_t i, std::string_view v) {
            // Integer keys as numbers: MySQL compares an integer column with a string as
            // doubles, which loses precision past 2^53.
            const std::uint8_t type = i < types.size() ? types[i] : 0;
            const bool integer = type == ftype::kTiny || type == ftype::kShort ||
                                 type == ftype::kLong || type == ftype::kLongLong ||
                                 type == ftype::kInt24 || type == ftype::kYear;
            const bool digits =
                !v.empty() &&
                std::all_of(
                    v.begin() + (v[0] == '-' ? 1 : 0), v.end(),
                    [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; }) &&
                v != "-";
            return integer && digits ? std::string(v) : impl_.escape(m, v);
          }};
    }

    Result<std::optional<KeyText>> max_key(const TableRef& t, const std::vector<std::string>& keys,
                                           const std::string& condition) override {
      try {
        auto state = table(t);
        auto rows = impl_.query(conn(), max_key_sql(quoting(*state, keys), t, keys, condition));
        if (rows.empty()) return std::optional<KeyText>();
        KeyText key;
        for (auto& cell : rows[0]) key.push_back(cell.value_or(""));
        return std::optional<KeyText>(std::move(key));
      } catch (const Fatal& e) {
        return Error::fatal(ErrorCode::kInvalidConfig, e.what());
      }
    }

    Result<std::vector<ChunkRow>> read_chunk(const TableRef& t,
                                             const std::vector<std::string>& keys,
                                             const std::string& condition,
                                             const std::optional<KeyText>& after,
                                             const KeyText& max, std::size_t limit) override {
      tables_.erase(t.qualified());  // each chunk with the table's current columns
      auto state = table(t);
      const TableState& ts = *state;
      std::string select;
      std::vector<std::size_t> columns;  // select position -> table column
      for (std::size_t i = 0; i < ts.map.columns.size(); ++i) {
        if (ts.slot[i] < 0) continue;
        select += (select.empty() ? "" : ", ") + quote_ident(ts.map.columns[i].name);
        columns.push_back(i);
      }
      // The chunk key's slots (the primary key's, or a surrogate key's).
      std::vector<int> key_slots;
      for (const auto& k : keys) {
        const auto& cols = ts.schema->columns();
        const auto it = std::find_if(cols.begin(), cols.end(),
                                     [&](const ColumnSchema& c) { return c.name == k; });
        if (it == cols.end()) {
          return Error::fatal(ErrorCode::kInvalidConfig, "incremental snapshot of " +
                                                             t.qualified() + ": key column " + k +
                                                             " is not a captured column");
        }
        key_slots.push_back(static_cast<int>(it - cols.begin()));
      }
      const std::string sql =
          chunk_sql(quoting(ts, keys), select, t, keys, condition, after, max, limit);
      const std::int64_t read_at = now_ms();
      std::vector<ChunkRow> out;
      for (auto& row : impl_.query(conn(), sql)) {
        std::vector<Value> values(ts.map.columns.size());
        for (std::size_t k = 0; k < columns.size() && k < row.size(); ++k) {
          if (!row[k]) continue;
          const std::size_t i = columns[k];
          auto v =
              decode_text(ts.map.columns[i], ts.column_schemas[i], impl_.config.types, *row[k]);
          if (!v.ok()) {
            throw Fatal("incremental snapshot of " + t.qualified() + ": " + v.error().message());
          }
          values[i] = std::move(v).value();
        }
        ChunkRow chunk_row;
        // Slots follow the select list, so the key's slots index the row.
        for (int p : key_slots)
          chunk_row.key.push_back(row[static_cast<std::size_t>(p)].value_or(""));
        ChangeEvent event;
        event.op = Op::kRead;
        event.after = impl_.to_struct(ts, values);
        event.source.connector = "mysql";
        event.source.name = impl_.config.prefix;
        event.source.ts_ms = read_at;
        event.source.snapshot = "incremental";
        event.source.db = t.ns;
        event.source.table = t.table;
        event.source.file = impl_.file;
        event.source.pos = impl_.resume.pos;
        event.ts_ms = read_at;
        chunk_row.record =
            change_record(*ts.schema, std::move(event), impl_.partition, RecordOffset{});
        out.push_back(std::move(chunk_row));
      }
      return out;
    }

    Result<void> write_signal(const std::string& id, std::string_view type,
                              const std::string& data) override {
      MYSQL* m = conn();
      const TableRef& s = *impl_.options.incremental.signal_table;
      impl_.exec(m, "INSERT INTO " + quote_ident(s.ns) + "." + quote_ident(s.table) + " VALUES (" +
                        impl_.escape(m, id) + ", " + impl_.escape(m, type) + ", " +
                        impl_.escape(m, data) + ")");
      return ok_result();
    }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> conn_;
    std::map<std::string, std::shared_ptr<TableState>> tables_;
  };

  IncrementalSnapshot incremental{options.incremental, config.prefix};
  ChunkSource chunk_source{*this};

  static void check(Result<void> r) {
    if (r.ok()) return;
    if (r.error().is_retriable()) throw Transient(r.error().message());
    throw Fatal(r.error().message());
  }

  // A row of the signal table, read from the binlog (inserts are signals; the rest is ignored).
  void handle_signal_rows(const EventHeader& header, const RowsEvent& rows, const TableState& table,
                          std::int64_t event_start) {
    (void)header;
    if (!in_txn) begin_txn(event_start, "");
    std::size_t pos = 0;
    std::vector<Value> first, second;
    while (pos < rows.rows.size()) {
      auto r = decode_row_image(table.map, table.column_schemas, config.types, rows.present,
                                rows.rows, &pos, &first);
      if (r.ok() && rows.kind == RowsKind::kUpdate) {
        r = decode_row_image(table.map, table.column_schemas, config.types, rows.present_after,
                             rows.rows, &pos, &second);
      }
      if (!r.ok()) {
        throw Fatal("signal table: " + r.error().message() + " at " + file + ":" +
                    std::to_string(event_start));
      }
      // Signals count as events of their transaction, so a restart inside it does not run them
      // again.
      const std::int64_t index = ++txn_events;
      if (txn_start == skip_pos && index <= skip_events) continue;
      resume.event = txn_events;
      if (rows.kind != RowsKind::kWrite) continue;
      auto text = [&](std::size_t i) -> std::string {
        if (i >= first.size()) return "";
        if (const auto* s = first[i].get_if<std::string>()) return *s;
        return first[i].is_null() ? "" : first[i].to_string();
      };
      auto signal = parse_signal(text(0), text(1), text(2));
      if (!signal.ok()) {
        logger().error("ignoring a signal: ", signal.error().message());
        continue;
      }
      BinlogPosition at = resume;
      at.event = index;
      auto reads = incremental.on_signal(chunk_source, signal.value(), position_to_offset(at));
      if (!reads.ok()) check(std::move(reads).error());
      for (auto& record : reads.value()) push_raw(std::move(record));
      check(incremental.after_emit(chunk_source));
      push_notifications();
    }
  }

  void request_stop() {
    stopping.store(true);
    { std::lock_guard lock(sleep_mutex); }
    sleep_cv.notify_all();
    std::lock_guard lock(fd_mutex);
    for (int fd : active_fds) {
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
  }
};

BinlogReader::BinlogReader(ReaderOptions options, std::shared_ptr<ChangeQueue<RecordBatch>> queue)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(queue))) {}

BinlogReader::~BinlogReader() {
  stop();
}

std::int64_t BinlogReader::events_read() const {
  return impl_->events_read_count.load();
}

void BinlogReader::start() {
  if (thread_.joinable()) return;
  // The thread shares the reader's state, so a thread left behind by stop() stays valid.
  thread_ = std::thread([impl = impl_, thread_name = reader_thread_name("r:cdc-mysql")] {
    name_reader_thread(thread_name);
    impl->run();
    std::lock_guard lock(impl->finished_mutex);
    impl->finished = true;
    impl->finished_cv.notify_all();
  });
}

void BinlogReader::stop() {
  impl_->request_stop();
  if (!thread_.joinable()) return;
  // A connection attempt cannot be interrupted (it ends within connect.timeout.ms): do not make
  // the worker wait for it.
  std::unique_lock lock(impl_->finished_mutex);
  const bool done =
      impl_->finished_cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->finished; });
  lock.unlock();
  if (done) {
    thread_.join();
  } else {
    logger().warn("the binlog reader is still connecting; it ends on its own");
    thread_.detach();
  }
}

}  // namespace rmqc::connectors::cdc::mysql
