// JsonConverter encode/decode throughput on the seed's employee record and on a ~1 KB record,
// next to a plain simdjson DOM parse of the same bytes (the ceiling for any decoder that
// validates its input). Reports records/s (items_per_second) and MB/s (bytes_per_second).
#include "rmqc/api/struct.h"

#include "converters/json/json_converter.h"
#include "employee_fixture.h"

#include <benchmark/benchmark.h>

#include <simdjson.h>

namespace rmqc::converters {
namespace {

Value employee_value(const SchemaPtr& schema) {
  return Value(bench::employee_struct(schema));
}

// ~1 KB envelope: a wider row with longer strings, as a CDC source produces.
SchemaPtr wide_schema() {
  SchemaBuilder b = SchemaBuilder::struct_().name("shop.public.orders.Value");
  for (int i = 0; i < 6; ++i) b.field("n" + std::to_string(i), SchemaBuilder::int64().build());
  for (int i = 0; i < 6; ++i) {
    b.field("s" + std::to_string(i), SchemaBuilder::string().optional().build());
  }
  b.field("amount", SchemaBuilder::float64().build());
  b.field("ts", SchemaBuilder::timestamp().build());
  return b.build();
}

Value wide_value(const SchemaPtr& schema) {
  Struct s(schema);
  for (int i = 0; i < 6; ++i) s.put("n" + std::to_string(i), std::int64_t{1000003} * (i + 1));
  for (int i = 0; i < 6; ++i) {
    s.put("s" + std::to_string(i),
          "customer-" + std::to_string(i) + ": wool sweater, size M, gift");
  }
  s.put("amount", 129.95).put("ts", std::int64_t{1700000000000});
  return Value(std::move(s));
}

struct Fixture {
  SchemaPtr schema;
  Value value;
  std::string bytes;
};

Fixture make_fixture(bool wide) {
  Fixture f;
  f.schema = wide ? wide_schema() : bench::employee_schema();
  f.value = wide ? wide_value(f.schema) : employee_value(f.schema);
  JsonConverter c;
  f.bytes = *c.from_connect_data("t", f.schema, f.value);
  return f;
}

void BM_Encode(benchmark::State& state) {
  Fixture f = make_fixture(state.range(0) != 0);
  JsonConverter c;
  std::string out;
  for (auto _ : state) {
    auto r = c.from_connect_data("t", f.schema, f.value, out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.bytes.size()));
  state.SetLabel(std::to_string(f.bytes.size()) + " B");
}

void BM_Decode(benchmark::State& state) {
  Fixture f = make_fixture(state.range(0) != 0);
  JsonConverter c;
  for (auto _ : state) {
    auto r = c.to_connect_data("t", f.bytes);
    if (!r.ok()) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.bytes.size()));
  state.SetLabel(std::to_string(f.bytes.size()) + " B");
}

void BM_SimdjsonParse(benchmark::State& state) {
  Fixture f = make_fixture(state.range(0) != 0);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    auto err = parser.parse(f.bytes.data(), f.bytes.size()).get(root);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.bytes.size()));
  state.SetLabel(std::to_string(f.bytes.size()) + " B, " +
                 simdjson::get_active_implementation()->name());
}

// Arg 0 = the seed's 8-field employee record, 1 = the ~1 KB record.
BENCHMARK(BM_Encode)->ArgName("wide")->Arg(0)->Arg(1);
BENCHMARK(BM_Decode)->ArgName("wide")->Arg(0)->Arg(1);
BENCHMARK(BM_SimdjsonParse)->ArgName("wide")->Arg(0)->Arg(1);

}  // namespace
}  // namespace rmqc::converters

BENCHMARK_MAIN();
