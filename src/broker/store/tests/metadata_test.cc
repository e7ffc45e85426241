#include "broker/store/consumer_offsets.h"
#include "broker/store/file_util.h"
#include "broker/store/tests/temp_dir.h"
#include "broker/store/topic_configs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace rmqc::broker {
namespace {

using testing::TempDir;

TEST(ConsumerOffsets, CommitPersistReload) {
  TempDir tmp;
  const std::string path = tmp.path() + "/consumerOffset.json";
  {
    auto offsets = ConsumerOffsets::open(path);
    ASSERT_TRUE(offsets.ok());
    EXPECT_FALSE((*offsets)->query("G1", "T", 0).has_value());
    (*offsets)->commit("G1", "T", 0, 5);
    (*offsets)->commit("G1", "T", 1, -1);  // stored verbatim
    (*offsets)->commit("G2", "T", 0, 99);
    EXPECT_EQ((*offsets)->query("G1", "T", 0), 5);
    ASSERT_TRUE((*offsets)->persist().ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  auto offsets = ConsumerOffsets::open(path);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ((*offsets)->query("G1", "T", 0), 5);
  EXPECT_EQ((*offsets)->query("G1", "T", 1), -1);
  EXPECT_EQ((*offsets)->query("G2", "T", 0), 99);
  EXPECT_EQ((*offsets)->query_all("G1", "T").size(), 2u);
  (*offsets)->remove_group("G1");
  EXPECT_FALSE((*offsets)->query("G1", "T", 0).has_value());
  EXPECT_EQ((*offsets)->query("G2", "T", 0), 99);
  // RocketMQ's file shape.
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"offsetTable\""), std::string::npos);
  EXPECT_NE(text->find("\"T@G1\""), std::string::npos);
}

TEST(ConsumerOffsets, LeftoverTempFileFromCrashIsIgnored) {
  TempDir tmp;
  const std::string path = tmp.path() + "/consumerOffset.json";
  {
    auto offsets = ConsumerOffsets::open(path);
    ASSERT_TRUE(offsets.ok());
    (*offsets)->commit("G", "T", 0, 7);
    ASSERT_TRUE((*offsets)->persist().ok());
  }
  // A crash during the next persist leaves a torn temp file; the real file is intact.
  std::ofstream(path + ".tmp") << "{\"offsetTab";
  auto offsets = ConsumerOffsets::open(path);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ((*offsets)->query("G", "T", 0), 7);
  (*offsets)->commit("G", "T", 0, 8);
  ASSERT_TRUE((*offsets)->persist().ok());
  offsets = ConsumerOffsets::open(path);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ((*offsets)->query("G", "T", 0), 8);
}

TEST(ConsumerOffsets, CorruptFileIsAnErrorNotAReset) {
  TempDir tmp;
  const std::string path = tmp.path() + "/consumerOffset.json";
  std::ofstream(path) << "{garbage";
  auto offsets = ConsumerOffsets::open(path);
  ASSERT_FALSE(offsets.ok());
  EXPECT_EQ(offsets.error().code(), ErrorCode::kDataLoss);
}

TEST(TopicConfigs, PutRemoveReload) {
  TempDir tmp;
  const std::string path = tmp.path() + "/topics.json";
  DataVersion v1;
  {
    auto topics = TopicConfigs::open(path);
    ASSERT_TRUE(topics.ok());
    ASSERT_TRUE((*topics)->put({"TopicA", 8, 8, 6, 0, false}).ok());
    ASSERT_TRUE((*topics)->put({"TopicB", 1, 1, 7, 0, true}).ok());
    ASSERT_TRUE((*topics)->put({"Gone", 1, 1, 6, 0, false}).ok());
    ASSERT_TRUE((*topics)->remove("Gone").ok());
    EXPECT_EQ((*topics)->remove("Gone").error().code(), ErrorCode::kNotFound);
    v1 = (*topics)->data_version();
    EXPECT_EQ(v1.counter, 4);
  }
  auto topics = TopicConfigs::open(path);
  ASSERT_TRUE(topics.ok());
  auto a = (*topics)->get("TopicA");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->read_queue_nums, 8);
  EXPECT_EQ((*topics)->get("TopicB")->perm, 7);
  EXPECT_TRUE((*topics)->get("TopicB")->order);
  EXPECT_FALSE((*topics)->get("Gone").has_value());
  EXPECT_EQ((*topics)->list().size(), 2u);
  EXPECT_EQ((*topics)->data_version().counter, v1.counter);
}

}  // namespace
}  // namespace rmqc::broker
