#include "rmqc/api/errors.h"

#include "file/file_source_connector.h"
#include "file/tests/test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace rmqc::connectors::file {
namespace {

using namespace testing;  // NOLINT: the fakes
using Clock = std::chrono::steady_clock;

std::int64_t position_of(const ConnectRecord& r) {
  return r.position.offset.find("position")->as_int64();
}

std::vector<std::string> values(const std::vector<ConnectRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value.as_string());
  return out;
}

class FileSourceTest : public ::testing::Test {
 protected:
  void start(KeyValue extra = {}) {
    KeyValue config{{"filename", path_}, {"poll.interval.ms", "5"}};
    for (const auto& [k, v] : extra) config.put(k, v);
    task_.init(context_);
    task_.start(config);
  }
  // Polls until `count` records arrived or a few seconds passed.
  std::vector<ConnectRecord> poll_n(std::size_t count) {
    std::vector<ConnectRecord> out;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (out.size() < count && Clock::now() < deadline) {
      for (auto& r : task_.poll()) out.push_back(std::move(r));
    }
    return out;
  }
  RecordPartition partition() const { return RecordPartition{{"filename", Value(path_)}}; }

  ScratchDir dir_;
  std::string path_ = dir_.file("input.txt");
  FakeSourceContext context_;
  FileSourceTask task_;
};

TEST_F(FileSourceTest, ReadsLinesWithByteOffsetPositions) {
  append(path_, "a\nbb\nccc\n");
  start();
  auto records = task_.poll();
  ASSERT_EQ(values(records), (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ(position_of(records[0]), 2);
  EXPECT_EQ(position_of(records[1]), 5);
  EXPECT_EQ(position_of(records[2]), 9);
  for (const auto& r : records) {
    EXPECT_EQ(r.position.partition, partition());
    ASSERT_NE(r.value_schema, nullptr);
    EXPECT_EQ(r.value_schema->type(), FieldType::kString);
    EXPECT_TRUE(r.value_schema->optional());
    EXPECT_TRUE(r.key.is_null());
    EXPECT_EQ(r.key_schema, nullptr);
    EXPECT_TRUE(r.timestamp.has_value());
  }
  // Nothing new: an empty batch, promptly (poll.interval.ms bounds the wait).
  const auto before = Clock::now();
  EXPECT_TRUE(task_.poll().empty());
  EXPECT_LT(Clock::now() - before, std::chrono::seconds(1));

  append(path_, "dddd\n");
  records = task_.poll();
  ASSERT_EQ(values(records), std::vector<std::string>{"dddd"});
  EXPECT_EQ(position_of(records[0]), 14);
}

TEST_F(FileSourceTest, EmptyLinesAndCrLf) {
  append(path_, "\r\none\r\n\n");
  start();
  auto records = task_.poll();
  ASSERT_EQ(values(records), (std::vector<std::string>{"", "one", ""}));
  EXPECT_EQ(position_of(records[2]), 8);
}

TEST_F(FileSourceTest, HoldsBackPartialLineUntilCompleted) {
  append(path_, "first\npart");
  start();
  auto records = task_.poll();
  ASSERT_EQ(values(records), std::vector<std::string>{"first"});
  EXPECT_TRUE(task_.poll().empty());
  append(path_, "ial");
  EXPECT_TRUE(task_.poll().empty());
  append(path_, "\nnext\n");
  records = task_.poll();
  ASSERT_EQ(values(records), (std::vector<std::string>{"partial", "next"}));
  EXPECT_EQ(position_of(records[0]), 14);
  EXPECT_EQ(position_of(records[1]), 19);
}

TEST_F(FileSourceTest, ResumesFromCommittedPosition) {
  append(path_, "a\nbb\nccc\n");
  context_.reader.offsets.emplace(partition(), RecordOffset{{"position", Value(std::int64_t{5})}});
  start();
  auto records = task_.poll();
  ASSERT_EQ(values(records), std::vector<std::string>{"ccc"});
  EXPECT_EQ(position_of(records[0]), 9);
}

TEST_F(FileSourceTest, CommittedPositionBeyondFileRestartsAtZero) {
  append(path_, "a\n");
  context_.reader.offsets.emplace(partition(),
                                  RecordOffset{{"position", Value(std::int64_t{1000})}});
  start();
  EXPECT_EQ(values(task_.poll()), std::vector<std::string>{"a"});
}

TEST_F(FileSourceTest, WaitsForFileToAppear) {
  start();
  EXPECT_TRUE(task_.poll().empty());
  append(path_, "late\n");
  EXPECT_EQ(values(poll_n(1)), std::vector<std::string>{"late"});
}

TEST_F(FileSourceTest, TruncationRestartsAtZero) {
  append(path_, "one\ntwo\nthree\n");
  start();
  ASSERT_EQ(task_.poll().size(), 3u);
  // copytruncate-style: emptied in place, then written again.
  fs::resize_file(path_, 0);
  append(path_, "new\n");
  auto records = poll_n(1);
  ASSERT_EQ(values(records), std::vector<std::string>{"new"});
  EXPECT_EQ(position_of(records[0]), 4);
}

TEST_F(FileSourceTest, RotationFinishesOldFileThenReadsNewFromZero) {
  append(path_, "one\n");
  start();
  ASSERT_EQ(values(task_.poll()), std::vector<std::string>{"one"});

  // The writer renames the file away, writes a little more to the old inode (it has it open),
  // then opens a new file under the same name.
  fs::rename(path_, path_ + ".1");
  append(path_ + ".1", "two\nlast-without-newline");
  append(path_, "fresh\n");
  auto records = poll_n(3);
  ASSERT_EQ(values(records), (std::vector<std::string>{"two", "last-without-newline", "fresh"}));
  EXPECT_EQ(position_of(records[1]), 4 + 4 + 20);
  EXPECT_EQ(position_of(records[2]), 6);  // the new file, from 0

  append(path_, "more\n");
  EXPECT_EQ(values(poll_n(1)), std::vector<std::string>{"more"});
}

TEST_F(FileSourceTest, RenamedAwayWithoutReplacementKeepsReadingOldFile) {
  append(path_, "one\n");
  start();
  ASSERT_EQ(task_.poll().size(), 1u);
  fs::rename(path_, path_ + ".1");
  append(path_ + ".1", "two\n");
  EXPECT_EQ(values(poll_n(1)), std::vector<std::string>{"two"});
}

TEST_F(FileSourceTest, BatchSizeLimitsLinesPerPoll) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + "\n";
  append(path_, text);
  start({{"batch.size", "2000"}});
  EXPECT_EQ(task_.poll().size(), 2000u);
  EXPECT_EQ(task_.poll().size(), 2000u);
  auto last = task_.poll();
  ASSERT_EQ(last.size(), 1000u);
  EXPECT_EQ(last.back().value.as_string(), "4999");
  EXPECT_EQ(position_of(last.back()), static_cast<std::int64_t>(text.size()));
}

TEST_F(FileSourceTest, LargeFileStreamsQuickly) {
  constexpr int kLines = 100'000;
  std::string text;
  text.reserve(kLines * 40);
  for (int i = 0; i < kLines; ++i) {
    text += "line-" + std::to_string(i) + " the quick brown fox jumps\n";
  }
  append(path_, text);
  start();
  const auto begin = Clock::now();
  std::size_t count = 0;
  std::int64_t last_position = 0;
  std::string last;
  while (count < kLines) {
    auto records = task_.poll();
    ASSERT_FALSE(records.empty()) << "stalled at " << count;
    count += records.size();
    last_position = position_of(records.back());
    last = records.back().value.as_string();
  }
  EXPECT_EQ(count, static_cast<std::size_t>(kLines));
  EXPECT_EQ(last, "line-99999 the quick brown fox jumps");
  EXPECT_EQ(last_position, static_cast<std::int64_t>(text.size()));
  // Informational, not asserted (no timing assertions in tests).
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count();
  std::printf("100k lines in %lld ms\n", static_cast<long long>(ms));
}

TEST_F(FileSourceTest, OverlongLinesAreSplit) {
  append(path_, std::string(25, 'x') + "\nok\n");
  start({{"max.line.bytes", "10"}});
  auto records = task_.poll();
  ASSERT_EQ(values(records), (std::vector<std::string>{std::string(10, 'x'), std::string(10, 'x'),
                                                       std::string(5, 'x'), "ok"}));
  EXPECT_EQ(position_of(records[2]), 26);
}

TEST_F(FileSourceTest, FilenameKeyWhenConfigured) {
  append(path_, "a\n");
  start({{"record.key", "filename"}});
  auto records = task_.poll();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key.as_string(), path_);
  ASSERT_NE(records[0].key_schema, nullptr);
}

TEST_F(FileSourceTest, StopWakesAWaitingPoll) {
  start({{"poll.interval.ms", "1000"}});
  EXPECT_TRUE(task_.poll().empty());  // file missing: waits
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    task_.stop();
  });
  const auto before = Clock::now();
  EXPECT_TRUE(task_.poll().empty());
  stopper.join();
  EXPECT_LT(Clock::now() - before, std::chrono::milliseconds(900));
  EXPECT_TRUE(task_.poll().empty());  // stopped
}

TEST(FileSourceConnectorTest, ConfigAndTasks) {
  FileSourceConnector connector;
  // A path of its own: a fixed one such as /tmp/x may exist on the machine (as a directory).
  ScratchDir dir;
  const std::string input = dir.file("x");
  const ConfigDef def = connector.config_def();
  for (const char* key :
       {"filename", "batch.size", "poll.interval.ms", "max.line.bytes", "record.key"}) {
    EXPECT_NE(def.find(key), nullptr) << key;
  }
  EXPECT_THROW(connector.validate({}), ConnectException);
  EXPECT_THROW(connector.validate({{"filename", input}, {"batch.size", "0"}}), ConnectException);
  EXPECT_THROW(connector.validate({{"filename", "/tmp"}}), ConnectException);  // a directory
  connector.validate({{"filename", input}});
  connector.start({{"filename", input}, {"connect.topicname", "lines"}});
  auto tasks = connector.task_configs(4);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].get_string("filename"), input);
  EXPECT_EQ(tasks[0].get_string("connect.topicname"), "lines");
  EXPECT_EQ(tasks[0].get_string("batch.size"), "2000");
  EXPECT_EQ(connector.task_class(), "org.apache.rocketmq.connect.file.FileSourceTask");
  auto task = connector.create_task();
  EXPECT_NE(dynamic_cast<FileSourceTask*>(task.get()), nullptr);
}

}  // namespace
}  // namespace rmqc::connectors::file
