#include "runtime/storage/state_store.h"

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

}  // namespace
}  // namespace rmqc::runtime
