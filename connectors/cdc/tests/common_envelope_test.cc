// The CDC common layer: Debezium's envelope, types, topic names, shared keys and the queue.

#include "rmqc/api/errors.h"

#include "cdc/common/cdc_config.h"
#include "cdc/common/change_queue.h"
#include "cdc/common/debezium_types.h"
#include "cdc/common/envelope.h"
#include "cdc/tests/cdc_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace rmqc::connectors::cdc {
namespace {

TEST(CdcTopicNames, DebeziumNamesBecomeValidRocketMqTopics) {
  EXPECT_EQ(table_topic("dbserver1", {"inventory", "customers"}), "dbserver1_inventory_customers");
  EXPECT_EQ(rocketmq_topic_name("a.b$c d|e%f-g_h"), "a_b_c_d|e%f-g_h");
  EXPECT_EQ(heartbeat_topic("srv.1"), "__debezium-heartbeat_srv_1");
  EXPECT_EQ(rocketmq_topic_name(std::string(300, 'x')).size(), 127u);
}

TEST(CdcTypes, ZonedTimestampIsIsoUtcWithTrimmedFraction) {
  EXPECT_EQ(zoned_timestamp_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(zoned_timestamp_utc(1'700'000'000'123'450), "2023-11-14T22:13:20.12345Z");
  EXPECT_EQ(zoned_timestamp_utc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(zoned_timestamp_utc(1'704'067'200'050'000), "2024-01-01T00:00:00.05Z");
  EXPECT_EQ(zoned_timestamp_utc(253'402'300'800'000'000), "10000-01-01T00:00:00Z");
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

TEST(CdcTypes, DecimalsFollowTheHandlingMode) {
  auto precise = decimal_schema(10, 2, DecimalMode::kPrecise).build();
  EXPECT_EQ(precise->name(), types::kKafkaDecimal);
  EXPECT_EQ(*precise->parameter("scale"), "2");
  EXPECT_EQ(*precise->parameter(types::kPrecisionParameter), "10");
  auto v = decimal_value("12.5", 2, DecimalMode::kPrecise, precise);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v.value().as_decimal().to_string(), "12.50");
  EXPECT_FALSE(decimal_value("1.234", 2, DecimalMode::kPrecise, precise).ok());
  EXPECT_FALSE(decimal_value("abc", 2, DecimalMode::kPrecise, precise).ok());

  auto variable = decimal_schema(0, -1, DecimalMode::kPrecise).build();
  EXPECT_EQ(variable->name(), types::kVariableScaleDecimal);
  auto vs = decimal_value("-3.14159", -1, DecimalMode::kPrecise, variable);
  ASSERT_TRUE(vs.ok());
  EXPECT_EQ(vs.value().as_struct().get_int32("scale"), 5);

  EXPECT_EQ(decimal_value("2.5", 1, DecimalMode::kDouble, nullptr).value().as_float64(), 2.5);
  EXPECT_EQ(decimal_value("2.50", 2, DecimalMode::kString, nullptr).value().as_string(), "2.50");
  EXPECT_TRUE(
      std::isnan(decimal_value("NaN", -1, DecimalMode::kDouble, nullptr).value().as_float64()));
}

TEST(CdcTypes, BinaryFollowsTheHandlingMode) {
  const std::string raw("\x00\xff\x10hi", 5);
  EXPECT_EQ(binary_value(raw, BinaryMode::kHex).as_string(), "00ff106869");
  EXPECT_EQ(binary_value(raw, BinaryMode::kBase64).as_string(), "AP8QaGk=");
  EXPECT_EQ(binary_value("\xfb\xff", BinaryMode::kBase64UrlSafe).as_string(), "-_8=");
  EXPECT_EQ(binary_value(raw, BinaryMode::kBytes).as_bytes().size(), 5u);
  EXPECT_EQ(binary_schema(BinaryMode::kHex).build()->type(), FieldType::kString);
}

// A delete of `before` as the connector named `connector` reports it.
ChangeEvent delete_event(Struct before, const char* connector) {
  ChangeEvent ev;
  ev.op = Op::kDelete;
  ev.before = std::move(before);
  ev.source.connector = connector;
  return ev;
}

TableSchema customers() {
  return TableSchema("dbserver1", {"inventory", "customers"},
                     {{"id", SchemaBuilder::int32().build()},
                      {"email", SchemaBuilder::string().optional().build()},
                      {"created", types::zoned_timestamp().optional().build()}},
                     {"id"}, mysql_source_schema());
}

TEST(CdcEnvelope, SchemasAreNamedAsDebeziumNamesThem) {
  const auto t = customers();
  EXPECT_EQ(t.topic(), "dbserver1_inventory_customers");
  EXPECT_EQ(t.key_schema()->name(), "dbserver1.inventory.customers.Key");
  EXPECT_EQ(t.row_schema()->name(), "dbserver1.inventory.customers.Value");
  EXPECT_EQ(t.envelope_schema()->name(), "dbserver1.inventory.customers.Envelope");
  std::vector<std::string> names;
  for (const auto& f : t.envelope_schema()->fields()) names.push_back(f.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"before", "after", "source", "op", "ts_ms", "transaction"}));
  EXPECT_EQ(t.envelope_schema()->field("source")->schema->name(),
            "io.debezium.connector.mysql.Source");
}

TEST(CdcEnvelope, UpdateCarriesBeforeAfterSourceAndKey) {
  const auto t = customers();
  Struct before = t.new_row();
  before.put("id", std::int32_t{1001}).put("email", "old@example.com");
  Struct after = t.new_row();
  after.put("id", std::int32_t{1001}).put("email", "new@example.com");
  ChangeEvent ev;
  ev.op = Op::kUpdate;
  ev.before = before;
  ev.after = after;
  ev.source.connector = "mysql";
  ev.source.name = "dbserver1";
  ev.source.ts_ms = 1'700'000'000'000;
  ev.source.db = "inventory";
  ev.source.table = "customers";
  ev.source.server_id = 223344;
  ev.source.file = "mysql-bin.000003";
  ev.source.pos = 484;
  ev.source.row = 0;
  ev.ts_ms = 1'700'000'000'050;
  auto record = change_record(t, ev, RecordPartition{{"server", Value("dbserver1")}},
                              RecordOffset{{"pos", Value(std::int64_t{484})}});
  EXPECT_EQ(record.topic(), "dbserver1_inventory_customers");
  ASSERT_TRUE(record.timestamp.has_value());
  EXPECT_EQ(*record.timestamp, 1'700'000'000'000);
  EXPECT_EQ(record.key.as_struct().get_int32("id"), 1001);
  const auto& env = record.value.as_struct();
  ASSERT_TRUE(env.validate().ok()) << env.validate().error().to_string();
  EXPECT_EQ(env.get_string("op"), "u");
  EXPECT_EQ(env.get_struct("before").get_string("email"), "old@example.com");
  EXPECT_EQ(env.get_struct("after").get_string("email"), "new@example.com");
  EXPECT_EQ(env.get_int64("ts_ms"), 1'700'000'000'050);
  const auto& src = env.get_struct("source");
  EXPECT_EQ(src.get_string("version"), kConnectorVersion);
  EXPECT_EQ(src.get_string("connector"), "mysql");
  EXPECT_EQ(src.get_string("snapshot"), "false");
  EXPECT_EQ(src.get_int64("server_id"), 223344);
  EXPECT_EQ(src.get_string("file"), "mysql-bin.000003");
  EXPECT_EQ(src.get_int64("pos"), 484);
  EXPECT_TRUE(src.get("gtid").is_null());

  auto tomb = tombstone_for(record);
  EXPECT_EQ(tomb.topic(), record.topic());
  EXPECT_EQ(tomb.key, record.key);
  EXPECT_TRUE(tomb.value.is_null());
  EXPECT_EQ(tomb.value_schema, nullptr);
}

TEST(CdcEnvelope, DeleteKeysOnBeforeAndKeylessTablesHaveNullKeys) {
  const auto t = customers();
  Struct before = t.new_row();
  before.put("id", std::int32_t{7});
  auto record = change_record(t, delete_event(before, "mysql"), {}, {});
  EXPECT_EQ(record.key.as_struct().get_int32("id"), 7);
  EXPECT_TRUE(record.value.as_struct().get("after").is_null());

  TableSchema keyless("p", {"s", "log"}, {{"line", SchemaBuilder::string().build()}}, {},
                      postgres_source_schema());
  EXPECT_EQ(keyless.key_schema(), nullptr);
  Struct row = keyless.new_row();
  row.put("line", "x");
  ChangeEvent ins;
  ins.after = row;
  ins.source.connector = "postgresql";
  auto r2 = change_record(keyless, ins, {}, {});
  EXPECT_TRUE(r2.key.is_null());
  EXPECT_EQ(r2.value.as_struct().get_struct("source").schema()->name(),
            "io.debezium.connector.postgresql.Source");
}

TEST(CdcEnvelope, KeyOnlyBeforeImageGetsZeroValuesForRequiredColumns) {
  TableSchema t("p", {"s", "orders"},
                {{"id", SchemaBuilder::int32().build()},
                 {"customer", SchemaBuilder::int32().build()},
                 {"price", types::kafka_decimal(8, 3).build()},
                 {"item", SchemaBuilder::string().optional().build()},
                 {"at", types::micro_timestamp().build()}},
                {"id"}, postgres_source_schema());
  Struct before = t.new_row();
  before.put("id", std::int32_t{2});  // PostgreSQL's REPLICA IDENTITY DEFAULT: the key only
  auto record = change_record(t, delete_event(before, "postgresql"), {}, {});
  const auto& env = record.value.as_struct();
  ASSERT_TRUE(env.validate().ok()) << env.validate().error().to_string();
  const auto& b = env.get_struct("before");
  EXPECT_EQ(b.get_int32("id"), 2);
  EXPECT_EQ(b.get_int32("customer"), 0);
  EXPECT_EQ(b.get("price").as_decimal().to_string(), "0.000");
  EXPECT_TRUE(b.get("item").is_null());  // optional columns stay null
  EXPECT_EQ(b.get_int64("at"), 0);
}

TEST(CdcEnvelope, HeartbeatNamesTheServer) {
  auto hb = heartbeat_record("dbserver1", 42, {}, {});
  EXPECT_EQ(hb.topic(), "__debezium-heartbeat_dbserver1");
  EXPECT_EQ(hb.key.as_struct().get_string("serverName"), "dbserver1");
  EXPECT_EQ(hb.value.as_struct().get_int64("ts_ms"), 42);
}

KeyValue base_config() {
  KeyValue c;
  c.put("database.hostname", "127.0.0.1");
  c.put("database.user", "cdc");
  c.put("topic.prefix", "srv");
  return c;
}

TEST(CdcConfig, ParsesDebeziumKeysAndOldNames) {
  auto def = common_config_def(3306, "database", "minimal", "adaptive_time_microseconds");
  KeyValue c = base_config();
  c.put("snapshot.mode", "schema_only");
  c.put("table.include.list", "inventory\\.cust.*, inventory.orders");
  c.put("column.exclude.list", "inventory.customers.secret");
  c.put("skipped.operations", "t,d");
  c.put("decimal.handling.mode", "string");
  auto parsed = def.parse(c);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  auto cfg = parse_common_config(parsed.value(), "database");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg.value().port, 3306);
  EXPECT_EQ(cfg.value().snapshot_mode, SnapshotMode::kNoData);
  EXPECT_EQ(cfg.value().types.decimal, DecimalMode::kString);
  EXPECT_EQ(cfg.value().types.time, TimePrecisionMode::kAdaptiveTimeMicroseconds);
  EXPECT_TRUE(cfg.value().op_skipped(Op::kDelete));
  EXPECT_FALSE(cfg.value().op_skipped(Op::kCreate));
  const auto& f = cfg.value().filter;
  EXPECT_TRUE(f.table_captured({"inventory", "customers"}));
  EXPECT_TRUE(f.table_captured({"inventory", "orders"}));
  EXPECT_FALSE(f.table_captured({"inventory", "orders2"}));  // anchored
  EXPECT_FALSE(f.column_captured({"inventory", "customers"}, "secret"));
  EXPECT_TRUE(f.column_captured({"inventory", "customers"}, "email"));

  KeyValue old = base_config();
  old.put("topic.prefix", "");
  old.put("database.server.name", "legacy");
  EXPECT_EQ(parse_common_config(old, "database").value().prefix, "legacy");
}

TEST(CdcConfig, RejectsBadValuesWithTheKeyNamed) {
  KeyValue both = base_config();
  both.put("table.include.list", "a.b");
  both.put("table.exclude.list", "a.c");
  auto r = parse_common_config(both, "database");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("table.include.list"), std::string::npos);

  KeyValue bad_re = base_config();
  bad_re.put("schema.include.list", "(unclosed");
  r = parse_common_config(bad_re, "schema");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("schema.include.list"), std::string::npos);

  KeyValue bad_mode = base_config();
  bad_mode.put("snapshot.mode", "sometimes");
  EXPECT_FALSE(parse_common_config(bad_mode, "database").ok());

  KeyValue bad_op = base_config();
  bad_op.put("skipped.operations", "x");
  EXPECT_FALSE(parse_common_config(bad_op, "database").ok());

  KeyValue no_prefix = base_config();
  no_prefix.put("topic.prefix", "");
  r = parse_common_config(no_prefix, "database");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("topic.prefix"), std::string::npos);
}

TEST(CdcConfig, MessageKeyColumnsPickTheKeyOfMatchingTablesInTableOrder) {
  KeyValue config = base_config();
  config.put("message.key.columns", "inventory.customers:email, ID ;(.*).orders:ref;shop.log:line");
  auto c = parse_common_config(config, "database");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const auto& keys = c->message_key_columns;
  const std::vector<ColumnSchema> columns = {{"id", SchemaBuilder::int32().build()},
                                             {"email", SchemaBuilder::string().build()},
                                             {"ref", SchemaBuilder::string().build()}};
  // In the table's column order, names compared without case.
  EXPECT_EQ(keys.key_columns({"inventory", "customers"}, columns),
            (std::vector<std::string>{"id", "email"}));
  EXPECT_EQ(keys.key_columns({"any", "orders"}, columns), (std::vector<std::string>{"ref"}));
  // The regex matches the whole <ns>.<table> id; a table no entry names keeps its primary key,
  // and so does one whose named columns are not captured.
  EXPECT_TRUE(keys.key_columns({"inventory", "customers2"}, columns).empty());
  EXPECT_TRUE(keys.key_columns({"shop", "log"}, columns).empty());

  for (const char* bad : {"inventory.customers", "inventory.customers:", ":id", "(x:id"}) {
    KeyValue b = base_config();
    b.put("message.key.columns", bad);
    auto r = parse_common_config(b, "database");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("message.key.columns"), std::string::npos) << bad;
  }
}

TEST(CdcEnvelope, MessageKeyColumnsFormTheKeyWhileThePrimaryKeyStaysForChunks) {
  const std::vector<ColumnSchema> columns = {{"id", SchemaBuilder::int32().build()},
                                             {"email", SchemaBuilder::string().build()},
                                             {"note", SchemaBuilder::string().optional().build()}};
  TableSchema t("p", {"db", "t"}, columns, {"id"}, mysql_source_schema(), {"email"});
  ASSERT_NE(t.key_schema(), nullptr);
  EXPECT_EQ(t.key_schema()->name(), "p.db.t.Key");
  ASSERT_EQ(t.key_schema()->fields().size(), 1u);
  EXPECT_EQ(t.key_schema()->fields()[0].name, "email");
  // Outside the primary key: optional, since a delete's old image may not carry it.
  EXPECT_TRUE(t.key_schema()->fields()[0].schema->optional());
  EXPECT_EQ(t.primary_key_positions(), (std::vector<int>{0}));
  EXPECT_EQ(t.key_positions(), (std::vector<int>{1}));

  Struct row = t.new_row();
  row.put("id", std::int32_t{5}).put("email", "a@b.c");
  EXPECT_EQ(t.key_of(row).as_struct().get_string("email"), "a@b.c");
  // A key-only old image (primary key columns alone): the key field is null, the record valid.
  Struct old_image = t.new_row();
  old_image.put("id", std::int32_t{5});
  auto record = change_record(t, delete_event(old_image, "mysql"), {}, {});
  ASSERT_TRUE(record.key.as_struct().validate().ok());
  EXPECT_TRUE(record.key.as_struct().get("email").is_null());

  // A keyless table gets a key from the chosen columns.
  TableSchema keyless("p", {"s", "log"}, columns, {}, postgres_source_schema(), {"id", "note"});
  ASSERT_NE(keyless.key_schema(), nullptr);
  EXPECT_TRUE(keyless.primary_key_positions().empty());
  EXPECT_EQ(keyless.key_positions(), (std::vector<int>{0, 2}));
}

TEST(CdcChangeQueue, BoundedPushWaitsForDrainAndCloseReleasesBoth) {
  ChangeQueue<int> q(2);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  std::thread producer([&] { EXPECT_TRUE(q.push(3)); });  // blocks until a drain
  auto first = q.drain(10, std::chrono::milliseconds(1000));
  EXPECT_EQ(first, (std::vector<int>{1, 2}));
  producer.join();
  EXPECT_EQ(q.drain(10, std::chrono::milliseconds(1000)), (std::vector<int>{3}));
  q.fail("binlog gone");
  ASSERT_TRUE(q.error().has_value());
  q.close();
  EXPECT_FALSE(q.push(4));
  EXPECT_TRUE(q.drain(10, std::chrono::milliseconds(10)).empty());
}

TEST(CdcChangeQueue, AFailureEndsAWaitingDrain) {
  ChangeQueue<int> q(4);
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.fail("connection lost");
  });
  EXPECT_TRUE(q.drain(10, std::chrono::hours(1)).empty());  // would hang without the failure
  reader.join();
  EXPECT_EQ(q.error().value_or(""), "connection lost");
}

TEST(CdcChangeQueue, WakeEndsAWaitingDrainEarly) {
  ChangeQueue<int> q(4);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.wake();
  });
  auto got = q.drain(10, std::chrono::hours(1));  // would hang without the wake
  EXPECT_TRUE(got.empty());
  waker.join();
}

}  // namespace
}  // namespace rmqc::connectors::cdc

namespace rmqc::connectors::cdc {
namespace {

using cdc_test::RecordingReporter;

ConnectRecord numbered(std::int64_t n) {
  ConnectRecord r(RecordPartition{{"server", Value(std::string("s"))}},
                  RecordOffset{{"n", Value(n)}}, std::nullopt, nullptr, Value(n));
  r.set_topic("t");
  return r;
}

TEST(CdcUndecodable, RawRowJsonKeepsTextColumnsAndNulls) {
  const std::vector<RawColumn> before{{"id", "1"}, {"note", std::nullopt}};
  const std::vector<RawColumn> after{{"id", "1"}, {"note", std::string_view("a \"q\"\\\n\x01")}};
  EXPECT_EQ(
      raw_row_json(Op::kUpdate, &before, &after),
      R"({"op":"u","before":{"id":"1","note":null},"after":{"id":"1","note":"a \"q\"\\\u000a\u0001"}})");
  EXPECT_EQ(raw_row_json(Op::kRead, nullptr, &after).substr(0, 26),
            R"({"op":"r","before":null,"a)");
}

TEST(CdcUndecodable, ReportedAfterTheRecordsBeforeItInOrder) {
  std::vector<ConnectRecord> batch;
  batch.push_back(numbered(1));
  batch.push_back(undecodable_record(RecordPartition{{"server", Value(std::string("s"))}},
                                     RecordOffset{{"n", Value(std::int64_t{2})}}, "db_t",
                                     std::string_view("\x01\x02", 2), "bad row at f:2"));
  batch.push_back(numbered(3));
  ASSERT_TRUE(UndecodableSplitter::any(batch));
  EXPECT_FALSE(UndecodableSplitter::any({numbered(1)}));
  EXPECT_EQ(undecodable_error(batch[0]), nullptr);
  ASSERT_NE(undecodable_error(batch[1]), nullptr);
  EXPECT_EQ(*undecodable_error(batch[1]), "bad row at f:2");
  EXPECT_EQ(batch[1].topic(), "db_t");

  RecordingReporter reporter;
  UndecodableSplitter splitter;
  splitter.add(batch);
  // The record before it first, nothing reported yet (the worker has not sent record 1).
  auto first = splitter.take(&reporter, "MySQL CDC");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].value.as_int64(), 1);
  EXPECT_TRUE(reporter.reported.empty());
  EXPECT_FALSE(splitter.empty());
  // Then the bad event goes to the reporter, raw bytes and position intact, and the rest follows.
  auto rest = splitter.take(&reporter, "MySQL CDC");
  ASSERT_EQ(reporter.reported.size(), 1u);
  EXPECT_EQ(reporter.reported[0].second, "bad row at f:2");
  EXPECT_EQ(reporter.reported[0].first.value.as_bytes(), (Bytes{0x01, 0x02}));
  EXPECT_EQ(reporter.reported[0].first.position.offset.find("n")->as_int64(), 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].value.as_int64(), 3);
  EXPECT_TRUE(splitter.empty());

  // Without a reporter (errors.tolerance=none) the task fails, naming the error.
  UndecodableSplitter strict;
  strict.add(batch);
  EXPECT_EQ(strict.take(nullptr, "MySQL CDC").size(), 1u);
  try {
    (void)strict.take(nullptr, "MySQL CDC");
    ADD_FAILURE() << "no exception";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("MySQL CDC: bad row at f:2"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace rmqc::connectors::cdc
