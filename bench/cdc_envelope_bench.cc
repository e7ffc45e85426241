// The per-event CPU of a CDC change record outside the connectors' readers: building the Debezium
// envelope (change_record: key, source block, envelope struct, partition and offset), converting
// key and value with the JsonConverter as WorkerSourceTask does (schemas.enable=false, and true),
// and destroying the record. The row is the one of rmqc_bench_cdc_broker (bench.rows, about 600
// bytes: 8 columns, a 520-character note), filled as the MySQL reader fills it (its strings
// copied from the decoded row image). Reported per event: thread CPU time, the best and the
// median of the rounds (the best moves least with the load of other processes).
//   rmqc_bench_cdc_envelope [events per round, default 200000] [rounds, default 5]
#include "rmqc/api/struct.h"

#include "cdc/common/debezium_types.h"
#include "cdc/common/envelope.h"
#include "converters/json/json_converter.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <unistd.h>
#include <vector>

namespace rmqc::connectors::cdc {
namespace {

double thread_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::shared_ptr<TableSchema> bench_table() {
  std::vector<ColumnSchema> columns = {
      {"id", SchemaBuilder::int64().build()},
      {"name", SchemaBuilder::string().optional().build()},
      {"email", SchemaBuilder::string().optional().build()},
      {"company", SchemaBuilder::string().optional().build()},
      {"amount", decimal_schema(12, 2, DecimalMode::kPrecise).optional().build()},
      {"born", types::date().optional().build()},
      {"created", types::zoned_timestamp().optional().build()},
      {"note", SchemaBuilder::string().optional().build()},
  };
  return std::make_shared<TableSchema>("bench", TableRef{"bench", "rows"}, std::move(columns),
                                       std::vector<std::string>{"id"}, mysql_source_schema());
}

struct Decoded {  // what the binlog decoder holds for one row before it becomes a Struct
  std::int64_t id;
  std::string name, email, company;
  Decimal amount;
  std::int32_t born;
  std::string created, note;
};

Decoded decoded_row(std::int64_t seq) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(seq));
  std::string note;
  for (int i = 0; i < 14; ++i) note += "abcdefghijklmnopqrstuvwxyz0123456789";
  note += buf;
  return Decoded{seq,
                 "name-" + std::string(buf) + "-xxxxxxxxxxxxxxx",
                 "user" + std::string(buf) + "@example.com",
                 "company-" + std::to_string(seq % 100000),
                 Decimal::from_unscaled(seq % 9999999, 2),
                 static_cast<std::int32_t>(10957 + seq % 9000),
                 zoned_timestamp_utc((1704067200LL + seq) * 1000000),
                 std::move(note)};
}

ConnectRecord make_record(const TableSchema& table, const RecordPartition& partition,
                          const Decoded& d, std::int64_t pos, std::int32_t row) {
  ChangeEvent event;
  event.op = Op::kCreate;
  Struct after = table.new_row();
  auto& slots = after.values();
  slots[0] = Value(d.id);
  slots[1] = Value(d.name);
  slots[2] = Value(d.email);
  slots[3] = Value(d.company);
  slots[4] = Value(d.amount);
  slots[5] = Value(d.born);
  slots[6] = Value(d.created);
  slots[7] = Value(d.note);
  event.after = std::move(after);
  SourceInfo& s = event.source;
  s.connector = "mysql";
  s.name = "bench";
  s.ts_ms = 1704067200000;
  s.db = "bench";
  s.table = "rows";
  s.server_id = 1;
  s.file = "mysql-bin.000001";
  s.pos = pos;
  s.row = row;
  s.thread = 7;
  event.ts_ms = 1704067200123;
  RecordOffset::Map m;  // as the MySQL reader's position_to_offset
  m.emplace("file", Value(std::string("mysql-bin.000001")));
  m.emplace("pos", Value(pos));
  m.emplace("event", Value(std::int64_t{row} + 1));
  return change_record(table, std::move(event), partition, RecordOffset(std::move(m)));
}

struct Phases {
  double build = 0, convert = 0, destroy = 0, bytes = 0;
  double total() const { return build + convert + destroy; }
};

Phases round(const TableSchema& table, const std::vector<Decoded>& rows, std::size_t events,
             bool schemas) {
  converters::JsonConverter key_converter, value_converter;
  KeyValue config{{"schemas.enable", schemas ? "true" : "false"}};
  (void)key_converter.configure(config, true);
  (void)value_converter.configure(config, false);
  const RecordPartition partition{{"server", Value(std::string("bench"))}};
  constexpr std::size_t kBatch = 512;  // records alive at once, as in flight in the worker
  std::vector<ConnectRecord> batch;
  batch.reserve(kBatch);
  std::string key, body;
  std::size_t body_hint = 1200;  // as WorkerSourceTask: reserved at the last body's size
  Phases p;
  for (std::size_t done = 0; done < events; done += kBatch) {
    const std::size_t n = std::min(kBatch, events - done);
    double t0 = thread_ns();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t seq = done + i;
      batch.push_back(make_record(table, partition, rows[seq % rows.size()],
                                  static_cast<std::int64_t>(4 + seq / 1000 * 70000),
                                  static_cast<std::int32_t>(seq % 1000)));
    }
    double t1 = thread_ns();
    for (const auto& r : batch) {
      key.clear();
      body.clear();
      body.reserve(body_hint);
      if (!key_converter.from_connect_data(r.topic(), r.key_schema, r.key, key).ok() ||
          !value_converter.from_connect_data(r.topic(), r.value_schema, r.value, body).ok()) {
        std::fprintf(stderr, "conversion failed\n");
        std::exit(1);
      }
      p.bytes += static_cast<double>(body.size());
      body_hint = body.size() + body.size() / 8 + 16;
      std::string moved = std::move(body);  // the body leaves with its message
      body = std::string();
    }
    double t2 = thread_ns();
    batch.clear();
    double t3 = thread_ns();
    p.build += t1 - t0;
    p.convert += t2 - t1;
    p.destroy += t3 - t2;
  }
  const double e = static_cast<double>(events);
  return Phases{p.build / e, p.convert / e, p.destroy / e, p.bytes / e};
}

}  // namespace
}  // namespace rmqc::connectors::cdc

int main(int argc, char** argv) {
  using namespace rmqc::connectors::cdc;
  const std::size_t events = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto table = bench_table();
  std::vector<Decoded> rows;
  for (int i = 1; i <= 1000; ++i) rows.push_back(decoded_row(i));
  for (bool schemas : {false, true}) {
    std::vector<Phases> results;
    for (int r = 0; r < rounds; ++r) results.push_back(round(*table, rows, events, schemas));
    std::sort(results.begin(), results.end(),
              [](const Phases& a, const Phases& b) { return a.total() < b.total(); });
    Phases best = results.front();  // each phase's least time over the rounds
    for (const Phases& r : results) {
      best.build = std::min(best.build, r.build);
      best.convert = std::min(best.convert, r.convert);
      best.destroy = std::min(best.destroy, r.destroy);
    }
    const Phases& median = results[results.size() / 2];
    std::printf(
        "schemas.enable=%s, %zu events x %d rounds, %.0f B of JSON per value\n"
        "  ns/event (thread CPU) best:   build %.0f, convert %.0f, destroy %.0f, total %.0f\n"
        "  ns/event (thread CPU) median: build %.0f, convert %.0f, destroy %.0f, total %.0f\n",
        schemas ? "true" : "false", events, rounds, best.bytes, best.build, best.convert,
        best.destroy, best.total(), median.build, median.convert, median.destroy, median.total());
  }
  return 0;
}
