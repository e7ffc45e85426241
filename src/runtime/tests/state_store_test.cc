#include "runtime/storage/state_store.h"

#include "runtime/storage/position_key.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rmqc_state_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StateStoreTest, EverythingSurvivesAReopen) {
  {
    auto store = StateStore::open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    StoredConnector c;
    c.config = KeyValue{{"connector.class", "FileSourceConnector"}, {"max.tasks", "1"}};
    c.target_state = TargetState::kPaused;
    ASSERT_TRUE((*store)->put_connector("files", c).ok());
    ASSERT_TRUE((*store)->put_task_configs("files", {KeyValue{{"filename", "/tmp/a"}}}).ok());
    OffsetMap positions;
    positions[RecordPartition{{"filename", "/tmp/a"}}] =
        RecordOffset{{"position", std::int64_t{42}}};
    ASSERT_TRUE((*store)->put_positions("files", positions).ok());
    ConnectorState st;
    st.name = "files";
    st.type = ConnectorType::kSource;
    st.state = RunState::kFailed;
    st.worker_id = "w";
    st.trace = "boom";
    st.tasks.push_back(TaskState{0, RunState::kFailed, "w", std::string("task boom")});
    ASSERT_TRUE((*store)->put_status(st).ok());
  }
  auto store = StateStore::open(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto connectors = (*store)->connectors();
  ASSERT_EQ(connectors.size(), 1u);
  EXPECT_EQ(connectors["files"].config.get_string("connector.class"), "FileSourceConnector");
  EXPECT_EQ(connectors["files"].target_state, TargetState::kPaused);
  ASSERT_EQ(connectors["files"].task_configs.size(), 1u);
  EXPECT_EQ(connectors["files"].task_configs[0].get_string("filename"), "/tmp/a");
  auto pos = (*store)->position("files", RecordPartition{{"filename", "/tmp/a"}});
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->find("position")->as_int64(), 42);
  auto st = (*store)->status("files");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->state, RunState::kFailed);
  EXPECT_EQ(st->trace, "boom");
  ASSERT_EQ(st->tasks.size(), 1u);
  EXPECT_EQ(st->tasks[0].trace, "task boom");

  ASSERT_TRUE((*store)->remove_connector("files").ok());
  EXPECT_TRUE((*store)->connectors().empty());
  // Positions outlive the connector: re-created, it resumes.
  EXPECT_TRUE((*store)->position("files", RecordPartition{{"filename", "/tmp/a"}}).has_value());
}

TEST_F(StateStoreTest, CorruptFileIsAnErrorNotAReset) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "connectors.json") << "{not json";
  auto store = StateStore::open(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kDataLoss);
}

// Every scalar type a partition may hold, and a nested map.
std::vector<RecordPartition> typed_partitions() {
  ValueMap nested;
  nested.emplace_back(Value("b"), Value(std::int32_t{2}));
  nested.emplace_back(Value("a"), Value(std::int16_t{1}));
  return {
      RecordPartition{{"topic", "t"}, {"partition", std::int32_t{3}}},
      RecordPartition{{"v", std::int8_t{-8}}},
      RecordPartition{{"v", std::int16_t{16}}},
      RecordPartition{{"v", std::int32_t{-32}}},
      RecordPartition{{"v", std::int64_t{1} << 40}},
      RecordPartition{{"v", 1.1f}},
      RecordPartition{{"v", 2.5}},
      RecordPartition{{"v", 3.0}},
      RecordPartition{{"v", true}},
      RecordPartition{{"v", "quoted \"text\"\u0001"}},
      RecordPartition{{"v", Value(std::move(nested))}, {"w", Value(nullptr)}},
  };
}

TEST(CanonicalPartitionKey, IntegerWidthsFloatWidthsAndKeyOrderDoNotMatter) {
  EXPECT_EQ(
      canonical_partition_key(RecordPartition{{"topic", "t"}, {"partition", std::int32_t{3}}}),
      R"({"partition":3,"topic":"t"})");
  EXPECT_EQ(canonical_value_key(Value(std::int8_t{7})),
            canonical_value_key(Value(std::int64_t{7})));
  EXPECT_EQ(canonical_value_key(Value(std::int16_t{7})), "7");
  EXPECT_EQ(canonical_value_key(Value(1.5f)), canonical_value_key(Value(1.5)));
  EXPECT_EQ(canonical_value_key(Value(1.1f)),
            canonical_value_key(Value(static_cast<double>(1.1f))));
  EXPECT_NE(canonical_value_key(Value(2.0)), canonical_value_key(Value(std::int64_t{2})));
  EXPECT_NE(canonical_value_key(Value("7")), canonical_value_key(Value(std::int64_t{7})));
  EXPECT_NE(canonical_value_key(Value(true)), canonical_value_key(Value("true")));
  ValueMap ab, ba;
  ab.emplace_back(Value("a"), Value(std::int32_t{1}));
  ab.emplace_back(Value("b"), Value(std::int32_t{2}));
  ba.emplace_back(Value("b"), Value(std::int64_t{2}));
  ba.emplace_back(Value("a"), Value(std::int8_t{1}));
  EXPECT_EQ(canonical_value_key(Value(ab)), canonical_value_key(Value(ba)));
  EXPECT_EQ(canonical_value_key(Value(ab)), R"({"a":1,"b":2})");
  // Control characters are escaped, so a key never holds RocketMQ's property separators.
  EXPECT_EQ(canonical_value_key(Value("a\u0001b")), R"("a\u0001b")");
}

TEST_F(StateStoreTest, PositionsOfEveryScalarTypeAreFoundAfterAReload) {
  auto partitions = typed_partitions();
  {
    auto store = StateStore::open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    OffsetMap positions;
    for (std::size_t i = 0; i < partitions.size(); ++i)
      positions[partitions[i]] = RecordOffset{{"n", static_cast<std::int64_t>(i)}};
    ASSERT_TRUE((*store)->put_positions("src", positions).ok());
    // Before the reload too.
    for (std::size_t i = 0; i < partitions.size(); ++i)
      EXPECT_TRUE((*store)->position("src", partitions[i]).has_value()) << i;
  }
  auto store = StateStore::open(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_EQ((*store)->positions("src").size(), partitions.size());
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    auto pos = (*store)->position("src", partitions[i]);
    ASSERT_TRUE(pos.has_value()) << canonical_partition_key(partitions[i]);
    EXPECT_EQ(pos->find("n")->as_int64(), static_cast<std::int64_t>(i));
  }
  // An int64 lookup of an int32 partition, and the other way around.
  EXPECT_TRUE((*store)
                  ->position("src", RecordPartition{{"topic", "t"}, {"partition", std::int64_t{3}}})
                  .has_value());
  EXPECT_FALSE(
      (*store)
          ->position("src", RecordPartition{{"topic", "t"}, {"partition", std::int64_t{4}}})
          .has_value());
  // A later write of the same partition with another integer width replaces the position.
  OffsetMap later;
  later[RecordPartition{{"topic", "t"}, {"partition", std::int16_t{3}}}] =
      RecordOffset{{"n", std::int64_t{100}}};
  ASSERT_TRUE((*store)->put_positions("src", later).ok());
  EXPECT_EQ((*store)->positions("src").size(), partitions.size());
  EXPECT_EQ((*store)->position("src", partitions[0])->find("n")->as_int64(), 100);

  ASSERT_TRUE((*store)->remove_positions("src").ok());
  EXPECT_TRUE((*store)->positions("src").empty());
  auto again = StateStore::open(dir_.string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->positions("src").empty());
}

TEST_F(StateStoreTest, EpochsListenersAndTheStoreInterfaces) {
  auto opened = StateStore::open(dir_.string());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  StateStore& store = **opened;
  ConfigStore& configs = store;
  std::vector<std::string> changed;
  int id = configs.add_listener([&](const std::string& name) {
    // Called outside the store's lock: reading the store from a listener does not deadlock.
    (void)configs.connector(name);
    changed.push_back(name);
  });
  StoredConnector c;
  c.config = KeyValue{{"connector.class", "X"}};
  ASSERT_TRUE(configs.put_connector("a", c).ok());
  EXPECT_EQ(configs.connector("a")->epoch, 1);
  ASSERT_TRUE(configs.put_target_state("a", TargetState::kPaused).ok());
  ASSERT_TRUE(configs.put_task_configs("a", {KeyValue{{"k", "v"}}}).ok());
  EXPECT_EQ(configs.connector("a")->epoch, 3);
  EXPECT_EQ(configs.put_target_state("nope", TargetState::kPaused).error().code(),
            ErrorCode::kNotFound);
  // A change based on epoch 1 (two changes ago) is refused and changes nothing.
  c.epoch = 1;
  c.config = KeyValue{{"connector.class", "Y"}};
  auto stale = configs.put_connector("a", c);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(stale.error().is_retriable());
  EXPECT_EQ(configs.connector("a")->config.get_string("connector.class"), "X");
  // Based on the current epoch: accepted.
  c.epoch = 3;
  ASSERT_TRUE(configs.put_connector("a", c).ok());
  EXPECT_EQ(configs.connector("a")->epoch, 4);
  ASSERT_TRUE(configs.remove_connector("a").ok());
  EXPECT_FALSE(configs.connector("a").has_value());
  EXPECT_EQ(changed, (std::vector<std::string>{"a", "a", "a", "a", "a"}));
  configs.remove_listener(id);
  ASSERT_TRUE(configs.put_connector("b", c).ok());
  EXPECT_EQ(changed.size(), 5u);
  // The epoch survives a reload.
  {
    auto reopened = StateStore::open(dir_.string());
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ((*reopened)->connector("b")->epoch, 4);
  }

  StatusStore& statuses = store;
  ConnectorState st;
  st.name = "b";
  st.state = RunState::kRunning;
  ASSERT_TRUE(statuses.put_status(st, 7).ok());
  EXPECT_EQ(statuses.statuses().size(), 1u);
  ASSERT_TRUE(statuses.remove_status("b").ok());
  EXPECT_FALSE(statuses.status("b").has_value());
  ASSERT_TRUE(statuses.remove_status("b").ok());
}

}  // namespace
}  // namespace rmqc::runtime
