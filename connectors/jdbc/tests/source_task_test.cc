#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "jdbc/source/jdbc_source_connector.h"
#include "jdbc/sqlite/sqlite_dialect.h"

#include <gtest/gtest.h>

// Designated initializers name only the ColumnDef fields a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace rmqc::connectors::jdbc {
namespace {

class MemoryOffsets : public OffsetStorageReader {
 public:
  std::optional<RecordOffset> read_offset(const RecordPartition& p) override {
    auto it = offsets.find(p);
    if (it == offsets.end()) return std::nullopt;
    return it->second;
  }
  OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) override {
    OffsetMap out;
    for (const auto& p : partitions) {
      if (auto it = offsets.find(p); it != offsets.end()) out.emplace(p, it->second);
    }
    return out;
  }
  OffsetMap offsets;
};

class TestContext : public SourceTaskContext {
 public:
  OffsetStorageReader& offset_storage_reader() override { return reader; }
  std::string_view connector_name() const override { return "jdbc-test"; }
  std::string_view task_name() const override { return "jdbc-test-0"; }
  const KeyValue& configs() const override { return config; }
  MemoryOffsets reader;
  KeyValue config;
};

class JdbcSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmqc-jdbc-source-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto registry = std::make_shared<DialectRegistry>();
    register_sqlite_dialect(*registry);
    dialects_ = registry;
    ConnectionConfig cc;
    cc.database = dir_ + "/src.db";
    db_ = SqliteDialect().connect(cc).value();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void sql(const std::string& statement) {
    auto r = db_->execute(statement);
    ASSERT_TRUE(r.ok()) << statement << ": " << r.error().message();
  }

  KeyValue config(std::initializer_list<KeyValue::Map::value_type> extra) {
    KeyValue c{{"connection.url", "jdbc:sqlite:" + dir_ + "/src.db"},
               {"poll.interval.ms", "1"},
               {"topic.prefix", "db-"}};
    for (const auto& [k, v] : extra) c.put(k, v);
    return c;
  }

  std::unique_ptr<JdbcSourceTask> start_task(const KeyValue& c) {
    auto task = std::make_unique<JdbcSourceTask>(dialects_);
    task->init(context_);
    task->start(c);
    return task;
  }

  // Polls until a poll returns nothing new (the task read everything there is now); stores the
  // last offset of each partition as a worker would commit it.
  std::vector<ConnectRecord> drain(JdbcSourceTask& task, int max_polls = 50) {
    std::vector<ConnectRecord> all;
    int empty = 0;
    for (int i = 0; i < max_polls && empty < 2; ++i) {
      auto batch = task.poll();
      if (batch.empty()) {
        ++empty;
        continue;
      }
      for (auto& r : batch) {
        context_.reader.offsets[r.position.partition] = r.position.offset;
        all.push_back(std::move(r));
      }
    }
    return all;
  }

  static std::int64_t id_of(const ConnectRecord& r) {
    std::int64_t id = 0;
    r.value.as_struct().get("id").to_int64(id);
    return id;
  }

  std::string dir_;
  std::shared_ptr<const DialectRegistry> dialects_;
  std::unique_ptr<Connection> db_;
  TestContext context_;
};

TEST_F(JdbcSourceTest, IncrementingReadsInPagesAndResumesWithoutDuplicatesOrGaps) {
  sql("CREATE TABLE emp (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, salary DECIMAL(10,2))");
  for (int i = 1; i <= 5; ++i) {
    sql("INSERT INTO emp VALUES (" + std::to_string(i) + ", 'name-0" + std::to_string(i) + "', " +
        std::to_string(i * 1000) + ".50)");
  }
  auto c = config(
      {{"mode", "incrementing"}, {"incrementing.column.name", "id"}, {"batch.max.rows", "2"}});
  auto task = start_task(c);
  auto first = task->poll();
  ASSERT_EQ(first.size(), 2u);
  const ConnectRecord& r = first[0];
  EXPECT_EQ(r.topic(), "db-emp");
  EXPECT_EQ(r.value_schema->name(), "emp");
  EXPECT_EQ(r.value.as_struct().get("name"), Value("name-01"));
  EXPECT_EQ(r.value.as_struct().get("salary"), Value(Decimal::from_unscaled(100050, 2)));
  EXPECT_EQ(r.key, Value(std::int64_t{1}));
  ASSERT_TRUE(r.key_schema);
  EXPECT_EQ(r.key_schema->type(), FieldType::kInt64);
  EXPECT_EQ(r.position.partition, (RecordPartition{{"table", Value("emp")}}));
  EXPECT_EQ(first[1].position.offset, (RecordOffset{{"incrementing", Value(std::int64_t{2})}}));
  for (auto& rec : first) context_.reader.offsets[rec.position.partition] = rec.position.offset;
  auto rest = drain(*task);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(id_of(rest[0]), 3);
  EXPECT_EQ(id_of(rest[2]), 5);
  task->stop();

  // A restart resumes after the committed offset: only new rows.
  sql("INSERT INTO emp VALUES (6, 'name-06', 1.00), (7, 'name-07', 2.00)");
  auto again = start_task(c);
  auto resumed = drain(*again);
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(id_of(resumed[0]), 6);
  EXPECT_EQ(id_of(resumed[1]), 7);
  again->stop();
}

TEST_F(JdbcSourceTest, IncrementingColumnDetectedFromAutoIncrementKey) {
  sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  sql("INSERT INTO t (v) VALUES ('a'), ('b')");
  auto task = start_task(config({{"mode", "incrementing"}}));
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].position.offset, (RecordOffset{{"incrementing", Value(std::int64_t{2})}}));
}

TEST_F(JdbcSourceTest, BulkRereadsTheWholeTableEveryInterval) {
  sql("CREATE TABLE k (a INT NOT NULL, b INT NOT NULL, v TEXT, PRIMARY KEY (a, b))");
  sql("INSERT INTO k VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z')");
  auto task = start_task(config({{"mode", "bulk"}, {"batch.max.rows", "2"}}));
  std::vector<ConnectRecord> seen;
  while (seen.size() < 6) {
    auto batch = task->poll();
    for (auto& r : batch) seen.push_back(std::move(r));
  }
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[3].value, seen[0].value);
  // Composite primary key: a Struct key.
  ASSERT_TRUE(seen[1].key_schema);
  EXPECT_EQ(seen[1].key_schema->type(), FieldType::kStruct);
  EXPECT_EQ(seen[1].key.as_struct().get("b"), Value(std::int32_t{2}));
  EXPECT_TRUE(seen[0].position.offset.empty());
}

TEST_F(JdbcSourceTest, TimestampIncrementingKeepsEqualTimestamps) {
  sql("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME NOT NULL, v TEXT)");
  sql("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00', 'a'), (2, '2024-01-01 10:00:00', 'b'), "
      "(3, '2024-01-01 10:00:00', 'c'), (4, '2024-01-01 10:00:01', 'd')");
  auto c = config({{"mode", "timestamp+incrementing"},
                   {"timestamp.column.name", "ts"},
                   {"incrementing.column.name", "id"},
                   {"batch.max.rows", "2"}});
  auto task = start_task(c);
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(id_of(records[i]), i + 1);
  EXPECT_EQ(records[1].position.offset,
            (RecordOffset{{"timestamp", Value(std::int64_t{1704103200000})},
                          {"incrementing", Value(std::int64_t{2})}}));
  task->stop();
  // A row committed later with the same timestamp and a larger id is read after a restart.
  sql("INSERT INTO ev VALUES (5, '2024-01-01 10:00:01', 'e')");
  auto again = start_task(c);
  auto more = drain(*again);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(id_of(more[0]), 5);
}

TEST_F(JdbcSourceTest, TimestampModeNeverSplitsAGroupOfEqualTimestamps) {
  sql("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME NOT NULL)");
  sql("INSERT INTO ev VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-01 10:00:01'), "
      "(3, '2024-01-01 10:00:01'), (4, '2024-01-01 10:00:01'), (5, '2024-01-01 10:00:02')");
  auto c =
      config({{"mode", "timestamp"}, {"timestamp.column.name", "ts"}, {"batch.max.rows", "2"}});
  auto task = start_task(c);
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 5u);
  std::vector<std::int64_t> ids;
  for (const auto& r : records) ids.push_back(id_of(r));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  // Offsets only name timestamps whose rows were all emitted.
  const std::int64_t t1 = 1704103201000;
  for (const auto& r : records) {
    const Value* ts = r.position.offset.find("timestamp");
    ASSERT_NE(ts, nullptr);
    if (id_of(r) == 2 || id_of(r) == 3) {
      EXPECT_LT(ts->as_int64(), t1);
    }
  }
  task->stop();
  auto again = start_task(c);
  EXPECT_TRUE(drain(*again).empty());
}

TEST_F(JdbcSourceTest, TimestampDelayHoldsBackRecentRows) {
  sql("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME NOT NULL)");
  sql("INSERT INTO ev VALUES (1, '2020-01-01 00:00:00')");
  sql("INSERT INTO ev VALUES (2, strftime('%Y-%m-%d %H:%M:%f', 'now'))");
  auto task = start_task(config({{"mode", "timestamp+incrementing"},
                                 {"timestamp.column.name", "ts"},
                                 {"timestamp.delay.interval.ms", "3600000"}}));
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(id_of(records[0]), 1);
}

TEST_F(JdbcSourceTest, TimestampInitialSkipsOlderRows) {
  sql("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME NOT NULL, ts2 DATETIME)");
  sql("INSERT INTO ev VALUES (1, '2020-01-01 00:00:00', NULL), (2, '2023-01-01 00:00:00', NULL), "
      "(3, '2019-01-01 00:00:00', '2023-06-01 00:00:00')");
  // 2022-01-01T00:00:00Z; ts2 first, then ts (COALESCE).
  auto task = start_task(config({{"mode", "timestamp"},
                                 {"timestamp.column.name", "ts2,ts"},
                                 {"timestamp.initial", "1640995200000"},
                                 {"validate.non.null", "false"}}));
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(id_of(records[0]), 2);
  EXPECT_EQ(id_of(records[1]), 3);
}

TEST_F(JdbcSourceTest, ValidateNonNullFailsWithAClearMessage) {
  sql("CREATE TABLE loose (id INT, v TEXT)");
  auto task = std::make_unique<JdbcSourceTask>(dialects_);
  task->init(context_);
  try {
    task->start(config({{"mode", "incrementing"}, {"incrementing.column.name", "id"}}));
    task->poll();
    FAIL() << "expected a ConnectException";
  } catch (const RetriableException& e) {
    FAIL() << "not retriable: " << e.what();
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("'id'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nullable"), std::string::npos) << e.what();
  }
  // With validate.non.null=false the same table is read.
  sql("INSERT INTO loose VALUES (1, 'a')");
  auto ok = start_task(config({{"mode", "incrementing"},
                               {"incrementing.column.name", "id"},
                               {"validate.non.null", "false"}}));
  EXPECT_EQ(drain(*ok).size(), 1u);
}

TEST_F(JdbcSourceTest, ConnectorSelectsTablesAndSplitsThemOverTasks) {
  for (const char* t : {"a", "b", "c", "d", "e"}) {
    sql(std::string("CREATE TABLE ") + t + " (id INTEGER PRIMARY KEY)");
  }
  JdbcSourceConnector connector(dialects_);
  connector.start(config({{"table.blacklist", "c"}}));
  ASSERT_EQ(connector.tables().size(), 4u);
  auto tasks = connector.task_configs(3);
  ASSERT_EQ(tasks.size(), 3u);
  std::vector<std::string> all;
  for (const auto& t : tasks) {
    auto tables = decode_tables(t.get_string("tables"));
    ASSERT_TRUE(tables.ok());
    EXPECT_FALSE(tables->empty());
    for (const auto& id : *tables) all.push_back(id.table);
  }
  EXPECT_EQ(all, (std::vector<std::string>{"a", "b", "d", "e"}));
  EXPECT_EQ(connector.task_configs(10).size(), 4u);
  connector.stop();

  JdbcSourceConnector white(dialects_);
  white.start(config({{"table.whitelist", "b, e"}, {"mode", "incrementing"}}));
  ASSERT_EQ(white.tables().size(), 2u);
  EXPECT_EQ(white.task_configs(8).size(), 2u);
  // The task reads only the tables of its config.
  sql("INSERT INTO b VALUES (1)");
  sql("INSERT INTO a VALUES (1)");
  auto task = start_task(white.task_configs(1)[0]);
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic(), "db-b");

  EXPECT_THROW(JdbcSourceConnector(dialects_).validate(
                   config({{"table.whitelist", "a"}, {"table.blacklist", "b"}})),
               ConnectException);
  EXPECT_THROW(JdbcSourceConnector(dialects_).validate(config({{"mode", "timestamp"}})),
               ConnectException);
  EXPECT_NO_THROW(JdbcSourceConnector(dialects_).validate(config({})));
}

TEST(JdbcSourceTables, EncodingRoundTripsAndSplitIsEven) {
  std::vector<TableId> tables{{"db", "", "t,1"}, {"", "public", "a/b"}, {"", "", "x%y"}};
  auto decoded = decode_tables(encode_tables(tables));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, tables);
  EXPECT_FALSE(decode_tables("nonsense").ok());
  std::vector<TableId> seven(7);
  for (int i = 0; i < 7; ++i) seven[static_cast<std::size_t>(i)].table = std::to_string(i);
  auto groups = split_tables(seven, 3);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].size(), 3u);
  EXPECT_EQ(groups[1].size(), 2u);
  EXPECT_EQ(groups[2].size(), 2u);
  EXPECT_TRUE(split_tables({}, 3).empty());
}

TEST_F(JdbcSourceTest, QueryModeAndConnectTopicName) {
  sql("CREATE TABLE o (id INTEGER PRIMARY KEY, amount INT NOT NULL)");
  sql("INSERT INTO o VALUES (1, 10), (2, 20), (3, 30)");
  JdbcSourceConnector connector(dialects_);
  auto c = config({{"mode", "incrementing"},
                   {"incrementing.column.name", "id"},
                   {"query", "SELECT id, amount * 2 AS doubled FROM o"},
                   {"connect.topicname", "all-in-one"}});
  connector.start(c);
  auto tasks = connector.task_configs(4);
  ASSERT_EQ(tasks.size(), 1u);
  auto task = start_task(tasks[0]);
  auto records = drain(*task);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].topic(), "all-in-one");
  EXPECT_EQ(records[2].value.as_struct().get("doubled"), Value(std::int64_t{60}));
  EXPECT_NE(records[0].position.partition.find("query"), nullptr);
  EXPECT_TRUE(records[0].key.is_null());
  task->stop();
  sql("INSERT INTO o VALUES (4, 40)");
  auto again = start_task(tasks[0]);
  auto more = drain(*again);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(id_of(more[0]), 4);
}

TEST_F(JdbcSourceTest, ConnectTopicNameSendsEveryTableToOneTopic) {
  sql("CREATE TABLE a (id INTEGER PRIMARY KEY)");
  sql("CREATE TABLE b (id INTEGER PRIMARY KEY)");
  sql("INSERT INTO a VALUES (1)");
  sql("INSERT INTO b VALUES (1)");
  auto task = start_task(config({{"connect.topicname", "one"}, {"mode", "incrementing"}}));
  auto records = drain(*task, 4);
  ASSERT_GE(records.size(), 2u);
  for (const auto& r : records) EXPECT_EQ(r.topic(), "one");
  auto prefixed = start_task(config({{"table.whitelist", "a"}, {"offset.suffix", ".v2"}}));
  auto p = prefixed->poll();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].topic(), "db-a");
  EXPECT_EQ(p[0].position.partition, (RecordPartition{{"table", Value("a.v2")}}));
}

TEST_F(JdbcSourceTest, WakeupEndsAWaitingPoll) {
  sql("CREATE TABLE w (id INTEGER PRIMARY KEY)");
  sql("INSERT INTO w VALUES (1)");
  auto task = start_task(config({{"mode", "incrementing"}, {"poll.interval.ms", "3600000"}}));
  ASSERT_EQ(task->poll().size(), 1u);
  // Nothing new: this poll would wait an hour unless woken.
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    task->wakeup();
  });
  auto records = task->poll();
  waker.join();
  EXPECT_TRUE(records.empty());
  task->stop();
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
