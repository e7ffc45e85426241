// The database-neutral part of incremental snapshots: signal parsing, the chunk SQL, and the
// watermark algorithm against an in-memory table (stream wins inside the window, progress in
// offsets, resume after a restart).

#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"

#include "cdc/common/incremental_snapshot.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace rmqc::connectors::cdc {
namespace {

TEST(CdcSignals, ParsesDebeziumSignalsAndRejectsBadOnesClearly) {
  auto s = parse_signal("1", "execute-snapshot",
                        R"({"data-collections": ["inv.a", "inv.b"], "type": "INCREMENTAL",
                            "additional-conditions": [{"data-collection": "inv.b",
                                                       "filter": "color = 'blue'"}]})");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->kind, SignalKind::kExecuteSnapshot);
  ASSERT_EQ(s->collections.size(), 2U);
  EXPECT_EQ(s->collections[0].table, (TableRef{"inv", "a"}));
  EXPECT_EQ(s->collections[0].condition, "");
  EXPECT_EQ(s->collections[1].condition, "color = 'blue'");

  auto stop = parse_signal("2", "stop-snapshot", R"({"type": "incremental"})");
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->kind, SignalKind::kStopSnapshot);
  EXPECT_TRUE(stop->collections.empty());
  EXPECT_EQ(parse_signal("3", "pause-snapshot", "")->kind, SignalKind::kPauseSnapshot);
  EXPECT_EQ(parse_signal("4", "resume-snapshot", "null")->kind, SignalKind::kResumeSnapshot);
  EXPECT_EQ(parse_signal("5", "snapshot-window-open", "{}")->kind, SignalKind::kWindowOpen);
  EXPECT_EQ(parse_signal("6", "something-else", "{}")->kind, SignalKind::kUnknown);

  for (const char* bad :
       {"{oops", "[1]", R"({"data-collections": []})", R"({"data-collections": ["nodot"]})",
        R"({"data-collections": ["a.b"], "type": "blocking"})",
        R"({"data-collections": ["a.b"], "additional-conditions": [{"x": 1}]})",
        R"({"data-collections": ["a.b"], "additional-conditions":
                              [{"data-collection": "a.c", "filter": "1=1"}]})"}) {
    auto r = parse_signal("7", "execute-snapshot", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("signal '7'"), std::string::npos) << r.error().message();
  }
}

TEST(CdcSignals, ChunkSqlUsesRowComparisonsInKeyOrder) {
  SqlQuoting q{[](std::string_view id) { return "\"" + std::string(id) + "\""; },
               [](std::size_t, std::string_view v) { return "'" + std::string(v) + "'"; }};
  const TableRef t{"s", "t"};
  EXPECT_EQ(max_key_sql(q, t, {"a", "b"}, "x > 1"),
            R"(SELECT "a", "b" FROM "s"."t" WHERE (x > 1) ORDER BY "a" DESC, "b" DESC LIMIT 1)");
  EXPECT_EQ(chunk_sql(q, "*", t, {"id"}, "", std::nullopt, {"9"}, 10),
            R"(SELECT * FROM "s"."t" WHERE "id" <= '9' ORDER BY "id" LIMIT 10)");
  EXPECT_EQ(chunk_sql(q, "*", t, {"a", "b"}, "c", KeyText{"1", "x"}, {"9", "z"}, 5),
            R"(SELECT * FROM "s"."t" WHERE ("a", "b") > ('1', 'x') AND ("a", "b") <= ('9', 'z'))"
            R"( AND (c) ORDER BY "a", "b" LIMIT 5)");
}

// An in-memory table of int keys; every chunk query and watermark is recorded.
class FakeSource : public SnapshotSource {
 public:
  FakeSource() {
    key_schema_ =
        SchemaBuilder::struct_().name("k").field("id", SchemaBuilder::int32().build()).build();
    for (int i = 1; i <= 10; ++i) rows[i] = "v" + std::to_string(i);
  }
  Result<std::vector<std::string>> key_columns(const TableRef& t) override {
    if (t.table == "nokey") return std::vector<std::string>{};
    return std::vector<std::string>{"id"};
  }
  Result<std::optional<KeyText>> max_key(const TableRef&, const std::vector<std::string>&,
                                         const std::string&) override {
    if (rows.empty()) return std::optional<KeyText>();
    return std::optional<KeyText>(KeyText{std::to_string(rows.rbegin()->first)});
  }
  Result<std::vector<ChunkRow>> read_chunk(const TableRef& t, const std::vector<std::string>&,
                                           const std::string&, const std::optional<KeyText>& after,
                                           const KeyText& max, std::size_t limit) override {
    std::vector<ChunkRow> out;
    const int from = after ? std::stoi((*after)[0]) : 0;
    const int to = std::stoi(max[0]);
    for (auto it = rows.upper_bound(from); it != rows.end() && it->first <= to; ++it) {
      if (out.size() == limit) break;
      ChunkRow r;
      r.key = {std::to_string(it->first)};
      r.record = key_record(t, it->first);
      r.record.value = Value(it->second);
      out.push_back(std::move(r));
    }
    return out;
  }
  Result<void> write_signal(const std::string& id, std::string_view type,
                            const std::string&) override {
    written.push_back({id, std::string(type)});
    return ok_result();
  }

  ConnectRecord key_record(const TableRef& t, int id) const {
    ConnectRecord r;
    r.set_topic(table_topic("p", t));
    Struct k(key_schema_);
    k.put("id", Value(std::int32_t{id}));
    r.key_schema = key_schema_;
    r.key = Value(std::move(k));
    return r;
  }

  std::map<int, std::string> rows;
  std::vector<std::pair<std::string, std::string>> written;  // (id, type)

 private:
  SchemaPtr key_schema_;
};

Signal watermark(const std::pair<std::string, std::string>& w) {
  return parse_signal(w.first, w.second, "").value();
}

TEST(CdcIncrementalSnapshot, StreamWinsInsideTheWindowAndProgressResumes) {
  FakeSource db;
  IncrementalSnapshotConfig config;
  config.signal_table = TableRef{"s", "signal"};
  config.chunk_size = 4;
  IncrementalSnapshot snap(config, "p");
  const TableRef t{"s", "t"};
  const RecordOffset at{{"pos", Value(std::int64_t{7})}};
  auto exec = parse_signal("e", "execute-snapshot", R"({"data-collections": ["s.nokey", "s.t"]})");
  ASSERT_TRUE(exec.ok());
  ASSERT_TRUE(snap.on_signal(db, *exec, at).ok());
  EXPECT_TRUE(snap.active());
  ASSERT_TRUE(snap.after_emit(db).ok());  // nokey skipped; the first chunk of t: rows 1..4
  ASSERT_EQ(db.written.size(), 2U);
  EXPECT_EQ(db.written[0].second, kWindowOpenSignal);
  EXPECT_EQ(db.written[1].second, kWindowCloseSignal);

  // A change before the low watermark is in the chunk already: it does not drop the row.
  ConnectRecord before_window = db.key_record(t, 1);
  snap.observe(before_window);
  ASSERT_TRUE(snap.on_signal(db, watermark(db.written[0]), at).ok());
  EXPECT_TRUE(snap.window_open());
  // Inside the window the stream wins: row 2's read is dropped.
  ConnectRecord streamed = db.key_record(t, 2);
  snap.observe(streamed);
  EXPECT_NE(streamed.position.offset.find(kIncrementalCollectionsField), nullptr);
  // A stale close (another window's) is ignored.
  EXPECT_TRUE(snap.on_signal(db, parse_signal("x-close", "snapshot-window-close", "").value(), at)
                  ->empty());
  auto reads = snap.on_signal(db, watermark(db.written[1]), at);
  ASSERT_TRUE(reads.ok());
  ASSERT_EQ(reads->size(), 3U);
  EXPECT_EQ((*reads)[0].value.as_string(), "v1");
  EXPECT_EQ((*reads)[2].value.as_string(), "v4");
  // Each read's offset holds the stream position and its own key as the progress.
  EXPECT_EQ(*(*reads)[1].position.offset.find("pos"), Value(std::int64_t{7}));
  EXPECT_EQ(reads->back().position.offset.find(kIncrementalKeyField)->as_string(), R"(["4"])");
  EXPECT_EQ(reads->back().position.offset.find(kIncrementalMaxKeyField)->as_string(), R"(["10"])");

  // A restart from the last read's offset goes on after key 4.
  IncrementalSnapshot resumed(config, "p");
  resumed.restore(reads->back().position.offset);
  EXPECT_TRUE(resumed.active());
  FakeSource db2;
  ASSERT_TRUE(resumed.on_stream_start(db2).ok());
  ASSERT_EQ(db2.written.size(), 2U);
  ASSERT_TRUE(resumed.on_signal(db2, watermark(db2.written[0]), at).ok());
  auto next = resumed.on_signal(db2, watermark(db2.written[1]), at);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 4U);
  EXPECT_EQ(next->front().value.as_string(), "v5");

  // The rest of the table, then the snapshot is over and offsets carry nothing.
  ASSERT_TRUE(resumed.after_emit(db2).ok());
  ASSERT_TRUE(resumed.on_signal(db2, watermark(db2.written[2]), at).ok());
  auto last = resumed.on_signal(db2, watermark(db2.written[3]), at);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->size(), 2U);
  EXPECT_FALSE(resumed.active());
  ConnectRecord after_snapshot = db2.key_record(t, 3);
  resumed.observe(after_snapshot);
  EXPECT_EQ(after_snapshot.position.offset.find(kIncrementalCollectionsField), nullptr);
  ASSERT_TRUE(resumed.after_emit(db2).ok());
  EXPECT_EQ(db2.written.size(), 4U);
}

TEST(CdcIncrementalSnapshot, ConfigKeys) {
  ConfigDef def;
  define_incremental_snapshot_keys(def);
  auto parsed = def.parse(KeyValue{{"signal.data.collection", "inv.debezium_signal"}});
  ASSERT_TRUE(parsed.ok());
  auto c = parse_incremental_snapshot_config(*parsed);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->chunk_size, 1024U);
  EXPECT_EQ(*c->signal_table, (TableRef{"inv", "debezium_signal"}));
  auto bad =
      parse_incremental_snapshot_config(*def.parse(KeyValue{{"signal.data.collection", "nodot"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("signal.data.collection"), std::string::npos);
  EXPECT_FALSE(def.parse(KeyValue{{"incremental.snapshot.chunk.size", "0"}}).ok());
}

}  // namespace
}  // namespace rmqc::connectors::cdc
