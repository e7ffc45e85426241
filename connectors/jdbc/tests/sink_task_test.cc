// JdbcSinkTask against SQLite files in a temporary directory.

#include "rmqc/api/sink_task.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logical.h"
#include "rmqc/api/struct.h"

#include "jdbc/common/dialect_registry.h"
#include "jdbc/sink/jdbc_sink_connector.h"
#include "jdbc/sink/jdbc_sink_task.h"
#include "jdbc/sqlite/sqlite_dialect.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::connectors::jdbc {
namespace {

class FakeReporter : public ErrorRecordReporter {
 public:
  void report(const ConnectRecord& record, const std::string& error) override {
    records.push_back(record);
    errors.push_back(error);
  }
  std::vector<ConnectRecord> records;
  std::vector<std::string> errors;
};

class FakeContext : public SinkTaskContext {
 public:
  explicit FakeContext(ErrorRecordReporter* reporter) : reporter_(reporter) {}
  std::string_view connector_name() const override { return "jdbc-sink"; }
  std::string_view task_name() const override { return "jdbc-sink-0"; }
  const KeyValue& configs() const override { return configs_; }
  void reset_offset(const RecordPartition&, const RecordOffset&) override {}
  void reset_offset(const OffsetMap&) override {}
  void pause(const std::vector<RecordPartition>&) override {}
  void resume(const std::vector<RecordPartition>&) override {}
  std::vector<RecordPartition> assignment() const override { return {}; }
  ErrorRecordReporter* error_record_reporter() override { return reporter_; }

 private:
  ErrorRecordReporter* reporter_;
  KeyValue configs_;
};

// --- a Connection that fails INSERTs retriably on demand (what SQLite cannot do) --------------

struct Flakiness {
  std::atomic<int> fail_inserts{0};  // how many INSERT statements fail next
  std::atomic<int> failed{0};
  std::atomic<int> inserts_done{0};
};

class FlakyConnection final : public Connection {
 public:
  FlakyConnection(std::unique_ptr<Connection> inner, std::shared_ptr<Flakiness> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}
  Result<std::unique_ptr<RowCursor>> query(const std::string& sql,
                                           const std::vector<SqlParam>& params) override {
    return inner_->query(sql, params);
  }
  Result<std::int64_t> execute(const std::string& sql,
                               const std::vector<SqlParam>& params) override {
    if (sql.rfind("INSERT", 0) == 0) {
      if (state_->fail_inserts > 0) {
        --state_->fail_inserts;
        ++state_->failed;
        return Error::retriable(ErrorCode::kUnavailable, "connection lost (test)");
      }
      ++state_->inserts_done;
    }
    return inner_->execute(sql, params);
  }
  Result<void> begin() override { return inner_->begin(); }
  Result<void> commit() override { return inner_->commit(); }
  Result<void> rollback() override { return inner_->rollback(); }
  Result<std::vector<TableId>> list_tables(const TableFilter& filter) override {
    return inner_->list_tables(filter);
  }
  Result<std::vector<ColumnDef>> describe_table(const TableId& table) override {
    return inner_->describe_table(table);
  }
  void cancel() override { inner_->cancel(); }

 private:
  std::unique_ptr<Connection> inner_;
  std::shared_ptr<Flakiness> state_;
};

class FlakyDialect final : public Dialect {
 public:
  explicit FlakyDialect(std::shared_ptr<Flakiness> state) : state_(std::move(state)) {}
  std::string_view name() const override { return "FlakyDialect"; }
  std::vector<std::string_view> url_schemes() const override { return {"flaky"}; }
  Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) const override {
    auto c = sqlite_.connect(config);
    if (!c.ok()) return c;
    ++connects;
    return std::unique_ptr<Connection>(
        std::make_unique<FlakyConnection>(std::move(c).value(), state_));
  }
  std::string quote_identifier(std::string_view id) const override {
    return sqlite_.quote_identifier(id);
  }
  std::string placeholder(int index) const override { return sqlite_.placeholder(index); }
  std::string insert_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                         const std::vector<std::string>& keys, InsertMode mode, int rows,
                         bool quote) const override {
    return sqlite_.insert_sql(table, columns, keys, mode, rows, quote);
  }
  std::string sql_type(const ColumnDef& column) const override { return sqlite_.sql_type(column); }
  std::string current_timestamp_sql() const override { return sqlite_.current_timestamp_sql(); }

  mutable std::atomic<int> connects{0};

 private:
  SqliteDialect sqlite_;
  std::shared_ptr<Flakiness> state_;
};

// --- fixture -------------------------------------------------------------------------------

RecordPartition queue(int id = 0, const std::string& topic = "people") {
  return RecordPartition{{"topic", Value(topic)}, {"queueId", Value(std::int32_t{id})}};
}

SchemaPtr person_schema() {
  static SchemaPtr schema = SchemaBuilder::struct_()
                                .name("person")
                                .field("id", SchemaBuilder::int64().build())
                                .field("name", SchemaBuilder::string().optional().build())
                                .field("age", SchemaBuilder::int32().optional().build())
                                .build();
  return schema;
}

Value person(std::int64_t id, const std::string& name, std::int32_t age) {
  Struct s(person_schema());
  s.put("id", Value(id)).put("name", Value(name)).put("age", Value(age));
  return Value(std::move(s));
}

ConnectRecord record(std::int64_t offset, Value value, SchemaPtr schema = person_schema(),
                     const std::string& topic = "people") {
  return ConnectRecord(queue(0, topic), RecordOffset{{"queueOffset", Value(offset)}}, 1000,
                       std::move(schema), std::move(value));
}

ConnectRecord keyed(std::int64_t offset, SchemaPtr key_schema, Value key, Value value,
                    SchemaPtr schema = person_schema()) {
  return ConnectRecord(queue(), RecordOffset{{"queueOffset", Value(offset)}}, 1000,
                       std::move(key_schema), std::move(key), value.is_null() ? nullptr : schema,
                       std::move(value));
}

class SinkTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "jdbc-sink-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_ = dir_ + "/sink.db";
    auto registry = std::make_shared<DialectRegistry>();
    register_sqlite_dialect(*registry);
    registry->add(flaky_);
    registry_ = registry;
  }
  void TearDown() override {
    for (auto& t : tasks_) t->stop();
    std::filesystem::remove_all(dir_);
  }

  KeyValue config(std::initializer_list<KeyValue::Map::value_type> extra = {}) {
    KeyValue c{{"connection.url", "jdbc:sqlite:" + db_}, {"connection.attempts", "1"}};
    for (const auto& [k, v] : extra) c.put(k, v);
    return c;
  }

  JdbcSinkTask& start(const KeyValue& cfg, bool with_reporter = true) {
    contexts_.push_back(std::make_unique<FakeContext>(with_reporter ? &reporter_ : nullptr));
    tasks_.push_back(std::make_unique<JdbcSinkTask>(registry_));
    tasks_.back()->init(*contexts_.back());
    tasks_.back()->start(cfg);
    return *tasks_.back();
  }

  Connection& db() {
    if (!conn_) {
      ConnectionConfig c;
      c.url = "jdbc:sqlite:" + db_;
      c.database = db_;
      auto opened = SqliteDialect().connect(c);
      EXPECT_TRUE(opened.ok()) << opened.error().message();
      conn_ = std::move(opened).value();
    }
    return *conn_;
  }
  void exec(const std::string& sql) {
    auto r = db().execute(sql);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  std::vector<std::vector<Value>> rows(const std::string& sql) {
    std::vector<std::vector<Value>> out;
    auto cursor = db().query(sql, {});
    EXPECT_TRUE(cursor.ok()) << cursor.error().message();
    if (!cursor.ok()) return out;
    std::vector<Value> row;
    while (true) {
      auto more = (*cursor)->next(row);
      EXPECT_TRUE(more.ok()) << more.error().message();
      if (!more.ok() || !*more) break;
      out.push_back(row);
    }
    return out;
  }
  std::int64_t count(const std::string& table) {
    auto r = rows("SELECT COUNT(*) FROM " + table);
    std::int64_t n = -1;
    if (r.size() == 1) r[0][0].to_int64(n);
    return n;
  }
  std::vector<std::string> column_names(const std::string& table) {
    std::vector<std::string> out;
    auto d = db().describe_table(TableId{"", "", table});
    if (d.ok()) {
      for (const auto& c : *d) out.push_back(c.name);
    }
    return out;
  }

  std::string dir_;
  std::string db_;
  std::shared_ptr<Flakiness> flakiness_ = std::make_shared<Flakiness>();
  std::shared_ptr<FlakyDialect> flaky_ = std::make_shared<FlakyDialect>(flakiness_);
  std::shared_ptr<const DialectRegistry> registry_;
  FakeReporter reporter_;
  std::vector<std::unique_ptr<FakeContext>> contexts_;
  std::vector<std::unique_ptr<JdbcSinkTask>> tasks_;
  std::unique_ptr<Connection> conn_;
};

std::vector<ConnectRecord> people(int n, std::int64_t first_offset = 0) {
  std::vector<ConnectRecord> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(record(first_offset + i, person(i + 1, "name-" + std::to_string(i + 1), 20 + i)));
  }
  return out;
}

// --- tests ---------------------------------------------------------------------------------

TEST_F(SinkTaskTest, InsertsIntoACreatedTableAndCommitsWhatItWrote) {
  auto& task = start(config({{"auto.create", "true"}, {"batch.size", "3"}}));
  auto batch = people(10);
  task.put(batch);
  EXPECT_TRUE(batch.empty());  // put() takes the records
  EXPECT_EQ(count("people"), 10);
  EXPECT_EQ(task.pending_rows(), 0u);
  auto got = rows("SELECT id, name, age FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[3][0], Value(std::int64_t{4}));
  EXPECT_EQ(got[3][1], Value("name-4"));
  EXPECT_EQ(got[3][2], Value(std::int32_t{23}));
  OffsetMap current{{queue(), RecordOffset{{"queueOffset", Value(std::int64_t{10})}}}};
  EXPECT_EQ(task.pre_commit(current), current);
}

TEST_F(SinkTaskTest, UpsertKeepsOneRowPerKeyWithTheLatestValues) {
  auto& task = start(config({{"auto.create", "true"},
                             {"insert.mode", "upsert"},
                             {"pk.mode", "record_value"},
                             {"pk.fields", "id"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(record(0, person(1, "first", 30)));
  batch.push_back(record(1, person(2, "other", 40)));
  batch.push_back(record(2, person(1, "second", 31)));  // same key in the same put
  task.put(batch);
  std::vector<ConnectRecord> later;
  later.push_back(record(3, person(1, "third", 32)));
  task.put(later);
  auto got = rows("SELECT id, name, age FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0][1], Value("third"));
  EXPECT_EQ(got[0][2], Value(std::int32_t{32}));
  EXPECT_EQ(got[1][1], Value("other"));
  auto columns = db().describe_table(TableId{"", "", "people"});
  ASSERT_TRUE(columns.ok());
  EXPECT_TRUE((*columns)[0].primary_key);
}

TEST_F(SinkTaskTest, UpdateChangesExistingRowsByAPrimitiveRecordKey) {
  exec("CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT, age INT)");
  exec("INSERT INTO people VALUES (1, 'a', 1), (2, 'b', 2)");
  auto& task = start(config({{"insert.mode", "update"},
                             {"pk.mode", "record_key"},
                             {"pk.fields", "id"},
                             {"fields.whitelist", "name,age"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(
      keyed(0, SchemaBuilder::int64().build(), Value(std::int64_t{2}), person(99, "b2", 22)));
  batch.push_back(keyed(1, SchemaBuilder::int64().build(), Value(std::int64_t{3}),
                        person(3, "nobody", 3)));  // no such row: nothing to update
  task.put(batch);
  auto got = rows("SELECT id, name, age FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0][1], Value("a"));
  EXPECT_EQ(got[1][0], Value(std::int64_t{2}));  // the key, not the value's id
  EXPECT_EQ(got[1][1], Value("b2"));
  EXPECT_EQ(got[1][2], Value(std::int32_t{22}));
}

TEST_F(SinkTaskTest, DeletesAreAppliedInOrderBetweenUpsertsOfTheSameKey) {
  SchemaPtr key_schema =
      SchemaBuilder::struct_().name("key").field("id", SchemaBuilder::int64().build()).build();
  auto key = [&](std::int64_t id) {
    Struct k(key_schema);
    k.put("id", Value(id));
    return Value(std::move(k));
  };
  auto& task = start(config({{"auto.create", "true"},
                             {"insert.mode", "upsert"},
                             {"pk.mode", "record_key"},
                             {"delete.enabled", "true"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(keyed(0, key_schema, key(1), person(1, "a", 1)));
  batch.push_back(keyed(1, key_schema, key(1), Value()));  // delete 1
  batch.push_back(keyed(2, key_schema, key(1), person(1, "again", 2)));
  batch.push_back(keyed(3, key_schema, key(2), person(2, "b", 3)));
  batch.push_back(keyed(4, key_schema, key(2), Value()));  // delete 2
  batch.push_back(keyed(5, key_schema, key(3), Value()));  // delete of a missing row
  task.put(batch);
  auto got = rows("SELECT id, name FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0][0], Value(std::int64_t{1}));
  EXPECT_EQ(got[0][1], Value("again"));
  EXPECT_TRUE(reporter_.records.empty());
}

TEST_F(SinkTaskTest, TombstonesAreSkippedWithoutDeleteEnabled) {
  auto& task = start(config({{"auto.create", "true"}}));
  std::vector<ConnectRecord> batch = people(2);
  batch.push_back(record(2, Value(), nullptr));
  task.put(batch);
  EXPECT_EQ(count("people"), 2);
  EXPECT_TRUE(reporter_.records.empty());
}

TEST_F(SinkTaskTest, DeleteEnabledNeedsRecordKeyPkMode) {
  JdbcSinkConnector connector(registry_);
  EXPECT_THROW(
      connector.validate(config({{"delete.enabled", "true"}, {"pk.mode", "record_value"}})),
      ConnectException);
  EXPECT_THROW(connector.validate(config({{"insert.mode", "upsert"}})), ConnectException);
  EXPECT_THROW(connector.validate(config({{"insert.mode", "merge"}})), ConnectException);
  EXPECT_NO_THROW(
      connector.validate(config({{"delete.enabled", "true"}, {"pk.mode", "record_key"}})));
  connector.start(config());
  auto configs = connector.task_configs(3);
  ASSERT_EQ(configs.size(), 3u);
  EXPECT_EQ(configs[2].get_string("connection.url"), "jdbc:sqlite:" + db_);
}

TEST_F(SinkTaskTest, RecordKeyStructAndRecordValuePkFieldsBecomeThePrimaryKey) {
  SchemaPtr key_schema = SchemaBuilder::struct_()
                             .name("key")
                             .field("tenant", SchemaBuilder::string().build())
                             .field("id", SchemaBuilder::int64().build())
                             .build();
  Struct k(key_schema);
  k.put("tenant", Value("t1")).put("id", Value(std::int64_t{7}));
  auto& by_key = start(config(
      {{"auto.create", "true"}, {"pk.mode", "record_key"}, {"table.name.format", "by_key"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(keyed(0, key_schema, Value(k), person(1, "x", 1)));
  by_key.put(batch);
  // Key columns first; the value's own "id" is not written twice.
  EXPECT_EQ(column_names("by_key"), (std::vector<std::string>{"tenant", "id", "name", "age"}));
  auto got = rows("SELECT tenant, id, name FROM by_key");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0][0], Value("t1"));
  EXPECT_EQ(got[0][1], Value(std::int64_t{7}));

  auto& by_value = start(config({{"auto.create", "true"},
                                 {"pk.mode", "record_value"},
                                 {"pk.fields", "name"},
                                 {"table.name.format", "by_value"}}));
  std::vector<ConnectRecord> more = people(2);
  by_value.put(more);
  auto described = db().describe_table(TableId{"", "", "by_value"});
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->size(), 3u);
  EXPECT_EQ((*described)[0].name, "name");
  EXPECT_TRUE((*described)[0].primary_key);
  EXPECT_FALSE((*described)[1].primary_key);
  EXPECT_EQ(count("by_value"), 2);
}

TEST_F(SinkTaskTest, APrimitiveKeyNeedsExactlyOnePkField) {
  auto& task = start(config({{"auto.create", "true"}, {"pk.mode", "record_key"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(
      keyed(0, SchemaBuilder::int64().build(), Value(std::int64_t{1}), person(1, "x", 1)));
  batch.push_back(
      keyed(1, SchemaBuilder::int64().build(), Value(std::int64_t{2}), person(2, "y", 2)));
  task.put(batch);
  ASSERT_EQ(reporter_.records.size(), 2u);
  EXPECT_NE(reporter_.errors[0].find("exactly one pk.fields"), std::string::npos);
  // The reported record is whole.
  EXPECT_EQ(reporter_.records[1].value.as_struct().get("name"), Value("y"));
}

TEST_F(SinkTaskTest, FieldsWhitelistAndTableNameFormat) {
  auto& task = start(config({{"auto.create", "true"},
                             {"fields.whitelist", "id,name"},
                             {"table.name.format", "sink_${topic}_t"}}));
  auto batch = people(3);
  task.put(batch);
  EXPECT_EQ(column_names("sink_people_t"), (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(count("sink_people_t"), 3);
}

TEST_F(SinkTaskTest, TableNameFromHeaderAndTablesWhitelist) {
  auto& task = start(config({{"auto.create", "true"},
                             {"table.name.from.header", "true"},
                             {"tables.whitelist", "t_a,people"}}));
  auto batch = people(4);
  batch[0].add_extension("table", "t_a");
  batch[1].add_extension("table", "t_b");  // not whitelisted: skipped
  task.put(batch);
  EXPECT_EQ(count("t_a"), 1);
  EXPECT_EQ(count("people"), 2);  // no header: table.name.format
  EXPECT_TRUE(column_names("t_b").empty());
}

TEST_F(SinkTaskTest, AMissingTableWithoutAutoCreateFailsNamingIt) {
  auto& task = start(config());
  auto batch = people(2);
  try {
    task.put(batch);
    FAIL() << "put() should have thrown";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("'people'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("auto.create"), std::string::npos) << e.what();
  }
}

TEST_F(SinkTaskTest, AutoEvolveAddsOptionalColumnsAndRefusesRequiredOnes) {
  auto& task = start(config({{"auto.create", "true"}, {"auto.evolve", "true"}}));
  auto batch = people(1);
  task.put(batch);
  SchemaPtr v2 = SchemaBuilder::struct_()
                     .name("person")
                     .field("id", SchemaBuilder::int64().build())
                     .field("name", SchemaBuilder::string().optional().build())
                     .field("email", SchemaBuilder::string().optional().build())
                     .build();
  Struct s(v2);
  s.put("id", Value(std::int64_t{2})).put("email", Value("b@example.com"));
  std::vector<ConnectRecord> next;
  next.push_back(record(1, Value(std::move(s)), v2));
  task.put(next);
  EXPECT_EQ(column_names("people"), (std::vector<std::string>{"id", "name", "age", "email"}));
  auto got = rows("SELECT id, email, age FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0][1].is_null());
  EXPECT_EQ(got[1][1], Value("b@example.com"));
  EXPECT_TRUE(got[1][2].is_null());

  SchemaPtr v3 = SchemaBuilder::struct_()
                     .name("person")
                     .field("id", SchemaBuilder::int64().build())
                     .field("level", SchemaBuilder::int32().build())  // required, no default
                     .build();
  Struct s3(v3);
  s3.put("id", Value(std::int64_t{3})).put("level", Value(std::int32_t{1}));
  std::vector<ConnectRecord> last;
  last.push_back(record(2, Value(std::move(s3)), v3));
  try {
    task.put(last);
    FAIL() << "put() should have thrown";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("'level'"), std::string::npos) << e.what();
  }
}

TEST_F(SinkTaskTest, WithoutAutoEvolveAMissingColumnFailsNamingIt) {
  exec("CREATE TABLE people (id BIGINT, name TEXT)");
  auto& task = start(config());
  auto batch = people(1);
  try {
    task.put(batch);
    FAIL() << "put() should have thrown";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("age"), std::string::npos) << e.what();
  }
}

TEST_F(SinkTaskTest, APoisonRecordGoesToTheReporterAndTheRestOfItsBatchIsWritten) {
  exec(
      "CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT NOT NULL, age INT CHECK (age < 100))");
  auto& task = start(config({{"batch.size", "10"}}));
  std::vector<ConnectRecord> batch;
  for (int i = 0; i < 10; ++i) {
    Struct s(person_schema());
    s.put("id", Value(std::int64_t{i}));
    s.put("name", Value("n" + std::to_string(i)));
    s.put("age", Value(std::int32_t{i == 4 ? 150 : i}));  // row 4 violates the CHECK
    batch.push_back(record(i, Value(std::move(s))));
  }
  task.put(batch);
  EXPECT_EQ(count("people"), 9);
  EXPECT_TRUE(rows("SELECT id FROM people WHERE id = 4").empty());
  ASSERT_EQ(reporter_.records.size(), 1u);
  const ConnectRecord& poison = reporter_.records[0];
  EXPECT_EQ(*poison.position.offset.find("queueOffset"), Value(std::int64_t{4}));
  // The record is reported as it came (its values are not lost to the statement).
  EXPECT_EQ(poison.value.as_struct().get("id"), Value(std::int64_t{4}));
  EXPECT_EQ(poison.value.as_struct().get("name"), Value("n4"));
  EXPECT_EQ(poison.value.as_struct().get("age"), Value(std::int32_t{150}));
  EXPECT_NE(reporter_.errors[0].find("people"), std::string::npos);
  OffsetMap current{{queue(), RecordOffset{{"queueOffset", Value(std::int64_t{10})}}}};
  EXPECT_EQ(task.pre_commit(current), current);
}

TEST_F(SinkTaskTest, APoisonRecordWithoutAReporterFailsNamingTheRecord) {
  exec("CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT, age INT)");
  exec("INSERT INTO people VALUES (3, 'taken', 0)");
  auto& task = start(config(), /*with_reporter=*/false);
  auto batch = people(5);  // ids 1..5: id 3 violates the primary key
  try {
    task.put(batch);
    FAIL() << "put() should have thrown";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("offset 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("people"), 3);  // 1, 2 and the old 3
}

TEST_F(SinkTaskTest, SchemalessMapsAreWrittenWithInferredColumns) {
  auto& task = start(config({{"auto.create", "true"},
                             {"insert.mode", "upsert"},
                             {"pk.mode", "record_value"},
                             {"pk.fields", "id"}}));
  std::vector<ConnectRecord> batch;
  for (int i = 0; i < 3; ++i) {
    ValueMap m;
    m.emplace_back(Value("id"), Value(std::int64_t{i}));
    m.emplace_back(Value("name"), Value("n" + std::to_string(i)));
    m.emplace_back(Value("score"), i == 1 ? Value() : Value(1.5 * i));
    batch.push_back(record(i, Value(std::move(m)), nullptr));
  }
  task.put(batch);
  auto got = rows("SELECT id, name, score FROM people ORDER BY id");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2][1], Value("n2"));
  EXPECT_EQ(got[2][2], Value(3.0));
  EXPECT_TRUE(got[1][2].is_null());
}

TEST_F(SinkTaskTest, EveryTypeAndNullRoundTrips) {
  SchemaPtr schema = SchemaBuilder::struct_()
                         .name("all")
                         .field("id", SchemaBuilder::int32().build())
                         .field("b", SchemaBuilder::bool_().optional().build())
                         .field("i8", SchemaBuilder::int8().optional().build())
                         .field("i16", SchemaBuilder::int16().optional().build())
                         .field("i64", SchemaBuilder::int64().optional().build())
                         .field("f32", SchemaBuilder::float32().optional().build())
                         .field("f64", SchemaBuilder::float64().optional().build())
                         .field("s", SchemaBuilder::string().optional().build())
                         .field("bytes", SchemaBuilder::bytes().optional().build())
                         .field("dec", SchemaBuilder::decimal(3).optional().build())
                         .field("d", SchemaBuilder::date().optional().build())
                         .field("t", SchemaBuilder::time().optional().build())
                         .field("ts", SchemaBuilder::timestamp().optional().build())
                         .build();
  Struct full(schema);
  full.put("id", Value(std::int32_t{1}))
      .put("b", Value(true))
      .put("i8", Value(std::int8_t{-8}))
      .put("i16", Value(std::int16_t{1600}))
      .put("i64", Value(std::int64_t{9'000'000'000'000LL}))
      .put("f32", Value(1.5f))
      .put("f64", Value(-2.25))
      .put("s", Value("héllo"))
      .put("bytes", Value(Bytes{0, 1, 255}))
      .put("dec", Value(Decimal::from_unscaled(-1234567, 3)))
      .put("d", Value(std::int32_t{19782}))
      .put("t", Value(std::int32_t{49501123}))
      .put("ts", Value(std::int64_t{1709214301123}));
  Struct empty(schema);
  empty.put("id", Value(std::int32_t{2}));
  const Struct expected_full = full;
  auto& task = start(config({{"auto.create", "true"}, {"table.name.format", "all_types"}}));
  std::vector<ConnectRecord> batch;
  batch.push_back(record(0, Value(std::move(full)), schema));
  batch.push_back(record(1, Value(std::move(empty)), schema));
  task.put(batch);
  ASSERT_TRUE(reporter_.records.empty()) << reporter_.errors[0];
  auto got = rows("SELECT * FROM all_types ORDER BY id");
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].size(), schema->fields().size());
  for (const Field& f : schema->fields()) {
    EXPECT_EQ(got[0][static_cast<std::size_t>(f.index)], expected_full.get(f.name)) << f.name;
    if (f.name != "id") {
      EXPECT_TRUE(got[1][static_cast<std::size_t>(f.index)].is_null()) << f.name;
    }
  }
}

TEST_F(SinkTaskTest, ARetriableErrorRetriesTheBatchWhichIsWrittenOnce) {
  auto& task = start(config({{"dialect.name", "FlakyDialect"},
                             {"auto.create", "true"},
                             {"retry.backoff.ms", "0"},
                             {"max.retries", "3"}}));
  flakiness_->fail_inserts = 2;
  auto batch = people(5);
  task.put(batch);
  EXPECT_EQ(flakiness_->failed.load(), 2);
  EXPECT_EQ(flakiness_->inserts_done.load(), 1);  // one multi-row INSERT, once
  EXPECT_EQ(count("people"), 5);
  EXPECT_GE(flaky_->connects.load(), 3);  // reconnected after each failure
  EXPECT_TRUE(reporter_.records.empty());
}

TEST_F(SinkTaskTest, RetriesExhaustedFailTheTask) {
  auto& task = start(config({{"dialect.name", "FlakyDialect"},
                             {"auto.create", "true"},
                             {"retry.backoff.ms", "0"},
                             {"max.retries", "2"}}));
  flakiness_->fail_inserts = 100;
  auto batch = people(3);
  try {
    task.put(batch);
    FAIL() << "put() should have thrown";
  } catch (const RetriableException&) {
    FAIL() << "exhausted retries should fail the task, not be retried by the worker";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("max.retries 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(flakiness_->failed.load(), 3);
  EXPECT_EQ(count("people"), 0);
}

TEST_F(SinkTaskTest, PreCommitNeverReturnsOffsetsOfUnwrittenRecords) {
  auto& task = start(config({{"dialect.name", "FlakyDialect"},
                             {"auto.create", "true"},
                             {"retry.backoff.ms", "600000"},
                             {"max.retries", "10"}}));
  auto first = people(3);  // offsets 0..2: written
  task.put(first);
  flakiness_->fail_inserts = 1000;
  task.wakeup();  // the back-off after the failure ends at once: put() returns, rows kept
  auto second = people(4, 3);  // offsets 3..6: not written
  task.put(second);
  EXPECT_EQ(task.pending_rows(), 4u);
  EXPECT_EQ(count("people"), 3);

  RecordPartition other = queue(1);
  OffsetMap current{{queue(), RecordOffset{{"queueOffset", Value(std::int64_t{7})}}},
                    {other, RecordOffset{{"queueOffset", Value(std::int64_t{50})}}}};
  task.wakeup();
  OffsetMap committed = task.pre_commit(current);
  EXPECT_EQ(committed.at(queue()), (RecordOffset{{"queueOffset", Value(std::int64_t{3})}}));
  EXPECT_EQ(committed.at(other), current.at(other));

  // Once the database is back, the kept rows are written and everything commits.
  flakiness_->fail_inserts = 0;
  EXPECT_EQ(task.pre_commit(current), current);
  EXPECT_EQ(task.pending_rows(), 0u);
  EXPECT_EQ(count("people"), 7);
}

TEST_F(SinkTaskTest, WakeupFromAnotherThreadEndsALongRetryBackoff) {
  auto& task = start(config({{"dialect.name", "FlakyDialect"},
                             {"auto.create", "true"},
                             {"retry.backoff.ms", "600000"},
                             {"max.retries", "10"}}));
  flakiness_->fail_inserts = 1000;
  std::thread waker([&] {
    while (flakiness_->failed.load() == 0) std::this_thread::yield();
    task.wakeup();  // as the worker does on stop
  });
  auto batch = people(3);
  task.put(batch);  // returns although the back-off is ten minutes
  waker.join();
  EXPECT_EQ(task.pending_rows(), 3u);
  EXPECT_EQ(count("people"), 0);
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
