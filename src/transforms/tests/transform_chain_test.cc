// Focused tests of TransformChain: config errors, predicate wiring, drop semantics, stop, and
// concurrent use of one chain.
#include "transforms/transform_chain.h"

#include "rmqc/api/struct.h"

#include "transforms/builtin_transforms.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

namespace rmqc::transforms {
namespace {

struct Counters {
  std::atomic<int> applied{0};
  std::atomic<int> stopped{0};
};

Counters& counters() {
  static Counters c;
  return c;
}

// Counts calls, so tests can see which stages ran.
class Probe final : public Transform {
 public:
  void start(const KeyValue&) override {}
  void stop() override { ++counters().stopped; }
  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    ++counters().applied;
    return record;
  }
};

class TransformChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_builtin_transforms(registry_);
    PluginDescriptor d;
    d.class_name = "test.Probe";
    registry_.add_transform<Probe>(d);
    counters().applied = 0;
    counters().stopped = 0;
  }

  Result<TransformChain> build(const KeyValue& config) {
    return TransformChain::build(config, registry_);
  }

  plugins::PluginRegistry registry_;
};

ConnectRecord record_on(std::string topic) {
  ConnectRecord r;
  r.set_topic(std::move(topic));
  r.value = Value(ValueMap{{Value("a"), Value(std::int64_t{1})}});
  return r;
}

TEST_F(TransformChainTest, EmptyConfigPassesRecordsThrough) {
  auto chain = build({});
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->empty());
  auto out = chain->apply(record_on("t"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->topic(), "t");
}

TEST_F(TransformChainTest, UnknownClassNamesTheKey) {
  auto chain = build({{"transforms", "a"}, {"transforms.a.class", "no.such.Transform"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(chain.error().message().find("transforms.a.class"), std::string::npos)
      << chain.error().message();
}

TEST_F(TransformChainTest, MissingClassNamesTheKey) {
  auto chain = build({{"transforms", "a"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("transforms.a.class"), std::string::npos);
}

TEST_F(TransformChainTest, KafkaTypeSpellingAndTrimmedAliases) {
  auto chain = build({{"transforms", " a ,  b "},
                      {"transforms.a.type", "org.apache.kafka.connect.transforms.InsertHeader"},
                      {"transforms.a.header", "h"},
                      {"transforms.a.value.literal", "v"},
                      {"transforms.b.class", "test.Probe"}});
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  EXPECT_EQ(chain->aliases(), (std::vector<std::string>{"a", "b"}));
  auto out = chain->apply(record_on("t"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out->extension("h"), "v");
  EXPECT_EQ(counters().applied, 1);
}

TEST_F(TransformChainTest, DuplicateAliasIsAnError) {
  auto chain = build({{"transforms", "a,a"}, {"transforms.a.class", "test.Probe"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("listed twice"), std::string::npos);
}

TEST_F(TransformChainTest, UndefinedPredicateIsAnError) {
  auto chain = build(
      {{"transforms", "a"}, {"transforms.a.class", "test.Probe"}, {"transforms.a.predicate", "p"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("transforms.a.predicate"), std::string::npos);
}

TEST_F(TransformChainTest, NegateWithoutPredicateIsAnError) {
  auto chain = build(
      {{"transforms", "a"}, {"transforms.a.class", "test.Probe"}, {"transforms.a.negate", "true"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("transforms.a.negate"), std::string::npos);
}

TEST_F(TransformChainTest, BadNegateValueIsAnError) {
  auto chain = build({{"predicates", "p"},
                      {"predicates.p.type", "RecordIsTombstone"},
                      {"transforms", "a"},
                      {"transforms.a.class", "test.Probe"},
                      {"transforms.a.predicate", "p"},
                      {"transforms.a.negate", "yes"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("transforms.a.negate"), std::string::npos);
}

TEST_F(TransformChainTest, PredicateConfigErrorNamesTheKey) {
  auto chain = build({{"predicates", "p"},
                      {"predicates.p.type", "TopicNameMatches"},
                      {"predicates.p.pattern", "(unclosed"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("predicates.p.pattern"), std::string::npos)
      << chain.error().message();
}

TEST_F(TransformChainTest, DropStopsTheChain) {
  auto chain = build({{"transforms", "drop,probe"},
                      {"transforms.drop.class", "Filter"},
                      {"transforms.probe.class", "test.Probe"}});
  ASSERT_TRUE(chain.ok());
  EXPECT_FALSE(chain->apply(record_on("t")).has_value());
  EXPECT_EQ(counters().applied, 0);
}

TEST_F(TransformChainTest, PredicateAndNegateSelectRecords) {
  auto chain = build({{"predicates", "isA"},
                      {"predicates.isA.type", "TopicNameMatches"},
                      {"predicates.isA.pattern", "a-.*"},
                      {"transforms", "keepOnlyA"},
                      {"transforms.keepOnlyA.class", "Filter"},
                      {"transforms.keepOnlyA.predicate", "isA"},
                      {"transforms.keepOnlyA.negate", "true"}});
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  EXPECT_TRUE(chain->apply(record_on("a-1")).has_value());
  EXPECT_FALSE(chain->apply(record_on("b-1")).has_value());
}

TEST_F(TransformChainTest, StopStopsEveryStageOnce) {
  {
    auto chain = build({{"transforms", "a,b"},
                        {"transforms.a.class", "test.Probe"},
                        {"transforms.b.class", "test.Probe"}});
    ASSERT_TRUE(chain.ok());
    chain->stop();
    EXPECT_EQ(counters().stopped, 2);
    chain->stop();
    EXPECT_EQ(counters().stopped, 2);
  }
  EXPECT_EQ(counters().stopped, 2);  // the destructor does not stop twice
}

TEST_F(TransformChainTest, FailedBuildStopsTheTransformsStartedSoFar) {
  auto chain = build({{"transforms", "a,b"},
                      {"transforms.a.class", "test.Probe"},
                      {"transforms.b.class", "RegexRouter"},
                      {"transforms.b.regex", "("},
                      {"transforms.b.replacement", "x"}});
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.error().message().find("transforms.b.regex"), std::string::npos);
  EXPECT_EQ(counters().stopped, 1);
}

TEST_F(TransformChainTest, EveryTransformDescribesItsConfig) {
  int transforms = 0;
  for (const auto& e : registry_.list()) {
    if (e.kind != PluginKind::kTransform || e.descriptor.class_name == "test.Probe") continue;
    ++transforms;
    auto t = registry_.create_transform(e.descriptor.class_name);
    ASSERT_TRUE(t.ok()) << e.descriptor.class_name;
    ConfigDef def = (*t)->config_def();
    for (const auto& k : def.keys()) {
      EXPECT_FALSE(k.documentation.empty()) << e.descriptor.class_name << " " << k.name;
    }
    for (const auto& alias : e.descriptor.aliases) {
      EXPECT_EQ(registry_.find(alias), registry_.find(e.descriptor.class_name)) << alias;
    }
  }
  EXPECT_GE(transforms, 30);
  EXPECT_TRUE(registry_.conflicts().empty());
}

TEST_F(TransformChainTest, ValidateReportsWithoutKeepingAChain) {
  EXPECT_TRUE(TransformChain::validate({{"transforms", "a"}, {"transforms.a.class", "test.Probe"}},
                                       registry_)
                  .ok());
  EXPECT_EQ(counters().stopped, 1);
  auto bad = TransformChain::validate(
      {{"transforms", "a"}, {"transforms.a.class", "Cast$Value"}, {"transforms.a.spec", "x:y"}},
      registry_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("transforms.a.spec"), std::string::npos);
}

TEST_F(TransformChainTest, SeedClassNamesResolve) {
  for (const char* name :
       {"org.apache.rocketmq.connect.transforms.PatternRename$Value",
        "org.apache.rocketmq.connect.transforms.ChangeCase$Key",
        "org.apache.rocketmq.connect.transforms.RegexRouter",
        "org.apache.kafka.connect.transforms.InsertField$Value", "InsertField$Key", "RegexRouter",
        "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"}) {
    EXPECT_NE(registry_.find(name), nullptr) << name;
  }
}

// One chain shared by several threads: schema caches must stay consistent.
TEST_F(TransformChainTest, ConcurrentApplyOnOneChain) {
  auto chain = build({{"transforms", "rename,insert"},
                      {"transforms.rename.class", "PatternRename$Value"},
                      {"transforms.rename.field.pattern", "name"},
                      {"transforms.rename.field.replacement", "full_name"},
                      {"transforms.insert.class", "InsertField$Value"},
                      {"transforms.insert.static.field", "origin"},
                      {"transforms.insert.static.value", "db"}});
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  std::vector<SchemaPtr> schemas;
  for (int i = 0; i < 4; ++i) {
    schemas.push_back(SchemaBuilder::struct_()
                          .name("s" + std::to_string(i))
                          .field("id", SchemaBuilder::int64().build())
                          .field("name", SchemaBuilder::string().build())
                          .build());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const SchemaPtr& schema = schemas[(t + i) % schemas.size()];
        Struct s(schema);
        s.put("id", std::int64_t{i}).put("name", "n");
        ConnectRecord r;
        r.value_schema = schema;
        r.value = Value(std::move(s));
        auto out = chain->apply(std::move(r));
        const Struct* o = out ? out->value.get_struct_if() : nullptr;
        if (!o || o->get_string("full_name") != "n" || o->get_string("origin") != "db" ||
            o->schema()->name() != schema->name()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
}

// docs/transforms.md must let a user find every class name and config key.
TEST_F(TransformChainTest, DocsListEveryTransformAndKey) {
  std::ifstream in("../../docs/transforms.md");
  ASSERT_TRUE(in) << "run from src/transforms";
  std::string docs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& e : registry_.list()) {
    if (e.descriptor.class_name == "test.Probe") continue;
    std::string name = e.descriptor.aliases.front();
    name = name.substr(0, name.find('$'));
    EXPECT_NE(docs.find(name), std::string::npos) << name;
    ConfigDef def;
    if (e.kind == PluginKind::kTransform) {
      def = (*registry_.create_transform(e.descriptor.class_name))->config_def();
    } else {
      def = (*registry_.create_predicate(e.descriptor.class_name))->config_def();
    }
    for (const auto& k : def.keys()) {
      EXPECT_NE(docs.find("| `" + k.name + "` |"), std::string::npos) << name << " " << k.name;
    }
  }
}

}  // namespace
}  // namespace rmqc::transforms
