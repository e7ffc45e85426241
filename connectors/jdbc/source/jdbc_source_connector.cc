#include "jdbc/source/jdbc_source_connector.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include "jdbc/source/table_querier.h"

#include <algorithm>
#include <set>

namespace rmqc::connectors::jdbc {
namespace {

const Logger& log() {
  static const Logger logger("jdbc-source");
  return logger;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = JdbcSourceConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  return std::move(parsed).value();
}

[[noreturn]] void throw_error(const Error& error, std::string_view what) {
  std::string message = std::string(what) + ": " + error.message();
  if (error.is_retriable()) throw RetriableException(message);
  throw ConnectException(message);
}

JdbcConnectionSettings settings_or_throw(const KeyValue& parsed, const DialectRegistry& dialects) {
  auto s = connection_settings(parsed, dialects);
  if (!s.ok()) throw ConnectException(s.error().message());
  return std::move(s).value();
}

void append_escaped(std::string& out, std::string_view part) {
  for (char c : part) {
    if (c == '%' || c == '/' || c == ',') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
}

bool matches(const TableId& t, const std::string& name) {
  if (name == t.table || name == t.to_string()) return true;
  if (!t.catalog.empty() && name == t.catalog + "." + t.table) return true;
  if (!t.schema.empty() && name == t.schema + "." + t.table) return true;
  return false;
}

// Checks beyond single keys; the message names every problem.
std::vector<std::string> check_keys(const KeyValue& parsed) {
  std::vector<std::string> problems;
  auto mode = parse_source_mode(parsed.get_string(kModeConfig));
  if (!mode.ok()) problems.push_back(mode.error().message());
  if (mode.ok() &&
      (*mode == SourceMode::kTimestamp || *mode == SourceMode::kTimestampIncrementing) &&
      split_list(parsed.get_string(kTimestampColumnConfig)).empty()) {
    problems.push_back("mode " + parsed.get_string(kModeConfig) + " needs timestamp.column.name");
  }
  const bool has_query = !parsed.get_string(kQueryConfig).empty();
  const bool white = !parsed.get_string(kTableWhitelistConfig).empty();
  const bool black = !parsed.get_string(kTableBlacklistConfig).empty();
  if (white && black) {
    problems.push_back("table.whitelist and table.blacklist cannot both be set");
  }
  if (has_query && (white || black)) {
    problems.push_back("query cannot be combined with table.whitelist or table.blacklist");
  }
  if (has_query && mode.ok() &&
      (*mode == SourceMode::kIncrementing || *mode == SourceMode::kTimestampIncrementing) &&
      parsed.get_string(kIncrementingColumnConfig).empty()) {
    problems.push_back("query with mode " + parsed.get_string(kModeConfig) +
                       " needs incrementing.column.name");
  }
  auto numeric = parse_numeric_mapping(parsed.get_string(kNumericMappingConfig),
                                       parsed.get_bool(kNumericPrecisionMappingConfig));
  if (!numeric.ok()) problems.push_back(numeric.error().message());
  const std::string initial = parsed.get_string(kTimestampInitialConfig);
  if (!initial.empty()) {
    char* end = nullptr;
    std::strtoll(initial.c_str(), &end, 10);
    if (end == nullptr || *end != '\0') {
      problems.push_back("timestamp.initial '" + initial +
                         "' is not epoch milliseconds (or -1 for now)");
    }
  }
  return problems;
}

// The tables the config selects, in name order.
Result<std::vector<TableId>> select_tables(Connection& connection, const KeyValue& parsed) {
  TableFilter filter;
  filter.catalog_pattern = parsed.get_string(kCatalogPatternConfig);
  filter.schema_pattern = parsed.get_string(kSchemaPatternConfig);
  filter.table_types = split_list(parsed.get_string(kTableTypesConfig, "TABLE"));
  auto listed = connection.list_tables(filter);
  if (!listed.ok()) return std::move(listed).error();
  const auto white = split_list(parsed.get_string(kTableWhitelistConfig));
  const auto black = split_list(parsed.get_string(kTableBlacklistConfig));
  std::vector<TableId> out;
  for (auto& t : *listed) {
    if (!white.empty() &&
        std::none_of(white.begin(), white.end(), [&](const auto& n) { return matches(t, n); })) {
      continue;
    }
    if (std::any_of(black.begin(), black.end(), [&](const auto& n) { return matches(t, n); })) {
      continue;
    }
    out.push_back(std::move(t));
  }
  for (const auto& n : white) {
    if (std::none_of(out.begin(), out.end(), [&](const TableId& t) { return matches(t, n); })) {
      log().warn("table.whitelist names '", n, "', which is not a table of the database");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string encode_tables(const std::vector<TableId>& tables) {
  std::string out;
  for (const auto& t : tables) {
    if (!out.empty()) out += ',';
    append_escaped(out, t.catalog);
    out += '/';
    append_escaped(out, t.schema);
    out += '/';
    append_escaped(out, t.table);
  }
  return out;
}

Result<std::vector<TableId>> decode_tables(std::string_view text) {
  std::vector<TableId> out;
  if (text.empty()) return out;
  auto unescape = [](std::string_view s, std::string& into) -> bool {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        into += s[i];
        continue;
      }
      if (i + 2 >= s.size()) return false;
      auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      };
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      into += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    return true;
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto s1 = item.find('/');
    auto s2 = s1 == std::string_view::npos ? s1 : item.find('/', s1 + 1);
    TableId t;
    if (s2 == std::string_view::npos || !unescape(item.substr(0, s1), t.catalog) ||
        !unescape(item.substr(s1 + 1, s2 - s1 - 1), t.schema) ||
        !unescape(item.substr(s2 + 1), t.table) || t.table.empty()) {
      return Error(ErrorCode::kInvalidConfig, "tables: malformed item '" + std::string(item) + "'");
    }
    out.push_back(std::move(t));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::vector<TableId>> split_tables(const std::vector<TableId>& tables, int max_tasks) {
  std::vector<std::vector<TableId>> groups;
  if (tables.empty()) return groups;
  const std::size_t n =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(max_tasks, 1)), tables.size());
  groups.resize(n);
  const std::size_t base = tables.size() / n;
  const std::size_t extra = tables.size() % n;
  std::size_t next = 0;
  for (std::size_t g = 0; g < n; ++g) {
    const std::size_t size = base + (g < extra ? 1 : 0);
    groups[g].assign(tables.begin() + static_cast<std::ptrdiff_t>(next),
                     tables.begin() + static_cast<std::ptrdiff_t>(next + size));
    next += size;
  }
  return groups;
}

// --- JdbcSourceConnector --------------------------------------------------------------------

JdbcSourceConnector::JdbcSourceConnector() : JdbcSourceConnector(DialectRegistry::installed()) {}

JdbcSourceConnector::JdbcSourceConnector(std::shared_ptr<const DialectRegistry> dialects)
    : dialects_(std::move(dialects)) {}

ConfigDef JdbcSourceConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def;
  define_connection_keys(def);
  def.define(std::string(kModeConfig), T::kString, "bulk", I::kHigh,
             "bulk (the whole table every poll.interval.ms), incrementing (rows with a larger "
             "incrementing column), timestamp (rows with a later timestamp column), or "
             "timestamp+incrementing (both: exact even for equal timestamps).",
             validators::one_of({"bulk", "incrementing", "timestamp", "timestamp+incrementing"}));
  def.define(std::string(kIncrementingColumnConfig), T::kString, "", I::kMedium,
             "The strictly increasing integer column of incrementing modes; empty: the table's "
             "auto-increment column.");
  def.define(std::string(kTimestampColumnConfig), T::kList, "", I::kMedium,
             "The timestamp column(s) of timestamp modes; several are COALESCEd in order.");
  def.define(std::string(kTimestampInitialConfig), T::kString, "", I::kLow,
             "Timestamp modes without a committed offset: read rows later than this (epoch "
             "milliseconds; -1 = the database's current time). Empty: from the beginning.");
  def.define(std::string(kTimestampDelayConfig), T::kLong, "0", I::kMedium,
             "Rows are read only once their timestamp is this many milliseconds older than the "
             "database's clock, so transactions still in flight are not passed over.",
             validators::at_least(0));
  def.define(std::string(kTableWhitelistConfig), T::kList, "", I::kMedium,
             "Tables to read (db.table, schema.table or table); empty: every table.");
  def.define(std::string(kTableBlacklistConfig), T::kList, "", I::kMedium, "Tables not to read.");
  def.define(std::string(kTableTypesConfig), T::kList, "TABLE", I::kLow,
             "Which kinds of tables to read: TABLE, VIEW.");
  def.define(std::string(kSchemaPatternConfig), T::kString, "", I::kLow,
             "Only tables of schemas matching this SQL LIKE pattern; empty: any.");
  def.define(std::string(kCatalogPatternConfig), T::kString, "", I::kLow,
             "Only tables of catalogs (MySQL databases) matching this SQL LIKE pattern; empty: "
             "any.");
  def.define(std::string(kQueryConfig), T::kString, "", I::kMedium,
             "Read this query instead of tables (one task); incrementing/timestamp filters wrap "
             "it as a sub-query.");
  def.define(std::string(kQuerySuffixConfig), T::kString, "", I::kLow,
             "Text appended to every generated query.");
  def.define(std::string(kTopicPrefixConfig), T::kString, "", I::kHigh,
             "A table's records go to topic.prefix + the table name (unless connect.topicname "
             "is set); in query mode to topic.prefix.");
  def.define(std::string(kConnectTopicNameConfig), T::kString, "", I::kHigh,
             "One topic for the records of every table.");
  def.define(std::string(kPollIntervalConfig), T::kLong, "5000", I::kMedium,
             "Milliseconds between polls of one table once it is read up to date.",
             validators::between(1, 86'400'000));
  def.define(std::string(kBatchMaxRowsConfig), T::kInt, "100", I::kMedium,
             "Most rows one poll reads from one table.", validators::between(1, 1'000'000));
  def.define(std::string(kValidateNonNullConfig), T::kBoolean, "true", I::kLow,
             "Fail the task when an incrementing or timestamp column is nullable.");
  def.define(std::string(kNumericMappingConfig), T::kString, "none", I::kLow,
             "DECIMAL/NUMERIC columns: none (Decimal), precision_only (integers by precision "
             "for scale 0), best_fit (also FLOAT64 for scale > 0, precision < 19).",
             validators::one_of({"none", "precision_only", "best_fit"}));
  def.define(std::string(kNumericPrecisionMappingConfig), T::kBoolean, "false", I::kLow,
             "Legacy: true means numeric.mapping=precision_only.");
  def.define(std::string(kOffsetSuffixConfig), T::kString, "", I::kLow,
             "Appended to each partition name, so a new suffix starts the tables over.");
  return def;
}

void JdbcSourceConnector::validate(const KeyValue& config) {
  const KeyValue parsed = parse_or_throw(config);
  auto problems = check_keys(parsed);
  auto settings = connection_settings(parsed, *dialects_);
  if (!settings.ok()) problems.push_back(settings.error().message());
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
    throw ConnectException(message);
  }
  // One attempt: a refusal for good (credentials, missing database) is a config error; an
  // unreachable database is not (the tasks retry, and the status says so).
  JdbcConnectionSettings once = std::move(settings).value();
  once.attempts = 1;
  auto connection = connect_with_retries(once, nullptr, log());
  if (!connection.ok()) {
    if (!connection.error().is_retriable()) throw ConnectException(connection.error().message());
    log().warn("validate: ", connection.error().message());
  }
}

void JdbcSourceConnector::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  auto problems = check_keys(config_);
  if (!problems.empty()) throw ConnectException(problems.front());
  tables_.clear();
  if (!config_.get_string(kQueryConfig).empty()) return;
  const JdbcConnectionSettings settings = settings_or_throw(config_, *dialects_);
  auto connection = connect_with_retries(settings, &stop_signal_, log());
  if (!connection.ok()) throw_error(connection.error(), "JdbcSourceConnector");
  auto tables = select_tables(**connection, config_);
  if (!tables.ok()) throw_error(tables.error(), "listing tables of " + settings.connection.url);
  tables_ = std::move(tables).value();
  if (tables_.empty()) {
    log().warn("no table of ", settings.connection.url,
               " matches table.whitelist/table.blacklist/table.types; no task will read");
  } else {
    log().info("reading ", tables_.size(), " table(s) of ", settings.connection.url);
  }
}

void JdbcSourceConnector::stop() {
  stop_signal_.notify();
}

std::vector<KeyValue> JdbcSourceConnector::task_configs(int max_tasks) {
  if (!config_.get_string(kQueryConfig).empty()) return {config_};
  std::vector<KeyValue> out;
  for (const auto& group : split_tables(tables_, max_tasks)) {
    KeyValue task = config_;
    task.put(std::string(kTaskTablesConfig), encode_tables(group));
    out.push_back(std::move(task));
  }
  return out;
}

std::string JdbcSourceConnector::task_class() const {
  return "org.apache.rocketmq.connect.jdbc.source.JdbcSourceTask";
}

std::unique_ptr<Task> JdbcSourceConnector::create_task() const {
  return std::make_unique<JdbcSourceTask>(dialects_);
}

// --- JdbcSourceTask -------------------------------------------------------------------------

JdbcSourceTask::JdbcSourceTask() : JdbcSourceTask(DialectRegistry::installed()) {}

JdbcSourceTask::JdbcSourceTask(std::shared_ptr<const DialectRegistry> dialects)
    : dialects_(std::move(dialects)) {}

JdbcSourceTask::~JdbcSourceTask() {
  queriers_.clear();
  std::lock_guard lock(connection_mutex_);
  connection_.reset();
}

void JdbcSourceTask::start(const KeyValue& config) {
  config_ = parse_or_throw(config);
  auto problems = check_keys(config_);
  if (!problems.empty()) throw ConnectException(problems.front());
  settings_ = std::make_unique<JdbcConnectionSettings>(settings_or_throw(config_, *dialects_));
  poll_interval_ = std::chrono::milliseconds(config_.get_long(kPollIntervalConfig, 5000));

  QuerierOptions options;
  options.mode = *parse_source_mode(config_.get_string(kModeConfig, "bulk"));
  options.incrementing_column = config_.get_string(kIncrementingColumnConfig);
  options.timestamp_columns = split_list(config_.get_string(kTimestampColumnConfig));
  if (std::string initial = config_.get_string(kTimestampInitialConfig); !initial.empty()) {
    options.timestamp_initial = std::strtoll(initial.c_str(), nullptr, 10);
  }
  options.timestamp_delay_ms = config_.get_long(kTimestampDelayConfig, 0);
  options.batch_max_rows = config_.get_int(kBatchMaxRowsConfig, 100);
  options.validate_non_null = config_.get_bool(kValidateNonNullConfig, true);
  options.numeric_mapping = *parse_numeric_mapping(
      config_.get_string(kNumericMappingConfig), config_.get_bool(kNumericPrecisionMappingConfig));
  options.quote = settings_->quote_identifiers;
  options.query_suffix = config_.get_string(kQuerySuffixConfig);
  options.offset_suffix = config_.get_string(kOffsetSuffixConfig);
  const std::string topic_name = config_.get_string(kConnectTopicNameConfig);
  const std::string prefix = config_.get_string(kTopicPrefixConfig);

  queriers_.clear();
  tables_.clear();
  const std::string query = config_.get_string(kQueryConfig);
  if (!query.empty()) {
    options.topic = topic_name.empty() ? prefix : topic_name;
    queriers_.push_back(std::make_unique<TableQuerier>(*settings_->dialect, query, options));
  } else if (const std::string* encoded = config_.find(kTaskTablesConfig)) {
    auto tables = decode_tables(*encoded);
    if (!tables.ok()) throw ConnectException(tables.error().message());
    tables_ = std::move(tables).value();
  } else {
    // Started without a connector's table list: select the tables ourselves (ensure_ready).
    tables_listed_ = false;
  }
  if (query.empty() && config_.find(kTaskTablesConfig) != nullptr) tables_listed_ = true;
  base_options_ = options;
  topic_name_ = topic_name;
  topic_prefix_ = prefix;
  for (const auto& t : tables_) add_table_querier(t);
  restore_offsets();
  next_run_.assign(queriers_.size(), std::chrono::steady_clock::time_point{});
  next_querier_ = 0;
  ready_ = false;

  // Connect now when the database is there; an unreachable one is retried by poll().
  try {
    ensure_ready();
  } catch (const RetriableException& e) {
    log().warn(e.what(), "; poll() retries");
  }
}

void JdbcSourceTask::add_table_querier(const TableId& table) {
  QuerierOptions options = base_options_;
  options.topic = topic_name_.empty() ? topic_prefix_ + table.table : topic_name_;
  queriers_.push_back(std::make_unique<TableQuerier>(*settings_->dialect, table, options));
}

void JdbcSourceTask::restore_offsets() {
  if (context() == nullptr || queriers_.empty()) return;
  std::vector<RecordPartition> partitions;
  partitions.reserve(queriers_.size());
  for (const auto& q : queriers_) partitions.push_back(q->partition());
  OffsetMap offsets = context()->offset_storage_reader().read_offsets(partitions);
  for (auto& q : queriers_) {
    if (auto it = offsets.find(q->partition()); it != offsets.end()) {
      q->restore(it->second);
      std::string where;
      for (const auto& [k, v] : it->second.offset()) {
        where += (where.empty() ? "" : ", ") + k + "=" + v.to_string();
      }
      log().info(q->name(), ": resuming after ", where.empty() ? "the start" : where);
    }
  }
}

void JdbcSourceTask::ensure_ready() {
  if (ready_) return;
  if (!connection_) {
    auto connected = connect_with_retries(*settings_, &wakeup_, log());
    if (!connected.ok()) {
      if (connected.error().code() == ErrorCode::kCancelled) return;  // woken: poll() returns
      fail(connected.error(), "JdbcSourceTask");
    }
    std::lock_guard lock(connection_mutex_);
    connection_ = std::move(connected).value();
  }
  if (!tables_listed_) {
    auto tables = select_tables(*connection_, config_);
    if (!tables.ok()) fail(tables.error(), "listing tables");
    tables_ = std::move(tables).value();
    for (const auto& t : tables_) add_table_querier(t);
    restore_offsets();
    next_run_.assign(queriers_.size(), std::chrono::steady_clock::time_point{});
    tables_listed_ = true;
  }
  for (auto& q : queriers_) {
    if (q->prepared()) continue;
    if (auto prepared = q->prepare(*connection_); !prepared.ok()) {
      if (prepared.error().is_retriable()) drop_connection();
      fail(prepared.error(), q->name());
    }
  }
  ready_ = true;
}

void JdbcSourceTask::drop_connection() {
  for (auto& q : queriers_) q->reset();
  std::lock_guard lock(connection_mutex_);
  connection_.reset();
  ready_ = false;
}

void JdbcSourceTask::fail(const Error& error, std::string_view what) {
  throw_error(error, what);
}

std::vector<ConnectRecord> JdbcSourceTask::poll() {
  std::vector<ConnectRecord> records;
  bool waited = false;
  std::size_t idle_runs = 0;  // querier runs of this call that found nothing
  for (;;) {
    if (!ready_) {
      ensure_ready();
      if (!ready_) return records;  // woken while connecting
    }
    if (queriers_.empty()) {
      wakeup_.wait_for(poll_interval_);
      return records;
    }
    // The querier due first (round robin among those due).
    const auto now = std::chrono::steady_clock::now();
    std::size_t chosen = next_querier_ % queriers_.size();
    for (std::size_t i = 0; i < queriers_.size(); ++i) {
      const std::size_t k = (next_querier_ + i) % queriers_.size();
      if (next_run_[k] < next_run_[chosen]) chosen = k;
    }
    if (next_run_[chosen] > now) {
      // Nothing due: sleep until the first table is (a stop or pause ends the sleep), then
      // run it; after one such sleep an empty result goes back to the worker.
      if (waited) return records;
      if (wakeup_.wait_for(next_run_[chosen] - now)) return records;
      waited = true;
      continue;
    }
    next_querier_ = chosen + 1;
    TableQuerier& querier = *queriers_[chosen];
    const auto started = std::chrono::steady_clock::now();
    auto more = querier.poll(*connection_, records);
    if (!more.ok()) {
      const Error& e = more.error();
      querier.reset();
      if (e.code() == ErrorCode::kCancelled) return {};  // wakeup() cancelled the query
      if (e.is_retriable()) {
        log().warn(querier.name(), ": ", e.message(), "; reconnecting");
        drop_connection();
      }
      fail(e, querier.name());
    }
    next_run_[chosen] = *more ? started : started + poll_interval_;
    if (!records.empty()) return records;
    // Nothing new after a sleep, or from every table once: back to the worker (a query slower
    // than poll.interval.ms would otherwise keep this call busy forever).
    if (waited || ++idle_runs >= queriers_.size()) return records;
    if (wakeup_.notified()) {
      wakeup_.wait_for(std::chrono::milliseconds(0));
      return records;
    }
  }
}

void JdbcSourceTask::wakeup() {
  wakeup_.notify();
  std::lock_guard lock(connection_mutex_);
  if (connection_) connection_->cancel();
}

void JdbcSourceTask::stop() {
  wakeup_.notify();
  queriers_.clear();
  next_run_.clear();
  std::lock_guard lock(connection_mutex_);
  connection_.reset();
  ready_ = false;
}

}  // namespace rmqc::connectors::jdbc
