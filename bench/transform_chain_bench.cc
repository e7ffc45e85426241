// Per-record cost of a transform chain: PatternRename + InsertField + Cast on the seed's employee
// record (the target: under 1 us per record), next to each transform alone and an empty
// chain (the cost of moving a record through). Reports ns per record and records/s.
#include "rmqc/api/struct.h"

#include "employee_fixture.h"
#include "transforms/builtin_transforms.h"
#include "transforms/transform_chain.h"

#include <benchmark/benchmark.h>

#include <vector>

namespace rmqc::transforms {
namespace {

ConnectRecord employee_record(const SchemaPtr& schema) {
  Struct s = bench::employee_struct(schema, "rocketmq");
  ConnectRecord r(RecordPartition{{"topic", "server_026"}, {"queueId", "0"}},
                  RecordOffset{{"queueOffset", "42"}}, 1655207871000, nullptr, Value(), schema,
                  Value(std::move(s)));
  return r;
}

const plugins::PluginRegistry& registry() {
  static const plugins::PluginRegistry* r = [] {
    auto* reg = new plugins::PluginRegistry();
    register_builtin_transforms(*reg);
    return reg;
  }();
  return *r;
}

KeyValue chain_config(int which) {
  KeyValue c;
  std::string list;
  if (which == 0 || which == 1) {
    list += "rename,";
    c.put("transforms.rename.class", "org.apache.rocketmq.connect.transforms.PatternRename$Value");
    c.put("transforms.rename.field.pattern", "company");
    c.put("transforms.rename.field.replacement", "company02");
  }
  if (which == 0 || which == 2) {
    list += "insert,";
    c.put("transforms.insert.class", "org.apache.kafka.connect.transforms.InsertField$Value");
    c.put("transforms.insert.static.field", "source");
    c.put("transforms.insert.static.value", "mysql-01");
  }
  if (which == 0 || which == 3) {
    list += "cast,";
    c.put("transforms.cast.class", "org.apache.kafka.connect.transforms.Cast$Value");
    c.put("transforms.cast.spec", "howold:int64,male:boolean");
  }
  c.put("transforms", list);
  return c;
}

constexpr int kBatch = 1024;

// Arg: 0 = the three-transform chain, 1 = PatternRename, 2 = InsertField, 3 = Cast, 4 = empty.
// Records are copied from a prototype in batches outside the timed region (a task hands the chain
// records it owns), so the time is the chain's alone.
void BM_Chain(benchmark::State& state) {
  auto chain = TransformChain::build(chain_config(static_cast<int>(state.range(0))), registry());
  if (!chain.ok()) {
    state.SkipWithError(chain.error().message().c_str());
    return;
  }
  SchemaPtr schema = bench::employee_schema();
  const ConnectRecord proto = employee_record(schema);
  std::vector<ConnectRecord> batch;
  batch.reserve(kBatch);
  for (auto _ : state) {
    state.PauseTiming();
    batch.assign(kBatch, proto);
    state.ResumeTiming();
    for (auto& r : batch) {
      auto out = chain->apply(std::move(r));
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  static const char* labels[] = {"PatternRename+InsertField+Cast", "PatternRename", "InsertField",
                                 "Cast", "empty chain"};
  state.SetLabel(std::string(labels[state.range(0)]) + ", time is per 1024 records");
}

// The record copy alone, for comparison (what a task pays to build a record in the first place).
void BM_RecordCopy(benchmark::State& state) {
  SchemaPtr schema = bench::employee_schema();
  const ConnectRecord proto = employee_record(schema);
  for (auto _ : state) {
    ConnectRecord r(proto);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Chain)->ArgName("chain")->DenseRange(0, 4);
BENCHMARK(BM_RecordCopy);

}  // namespace
}  // namespace rmqc::transforms

BENCHMARK_MAIN();
