#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "file/file_sink_connector.h"
#include "file/tests/test_util.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace rmqc::connectors::file {
namespace {

using namespace testing;  // NOLINT: the fakes

ConnectRecord record_of(Value value, std::int64_t offset = 0) {
  return ConnectRecord(RecordPartition{{"topic", Value("t")}, {"queueId", Value(0)}},
                       RecordOffset{{"queueOffset", Value(offset)}}, std::nullopt, nullptr,
                       std::move(value));
}

class FileSinkTest : public ::testing::Test {
 protected:
  void start(FileSinkTask& task, KeyValue extra = {}) {
    KeyValue config{{"filename", path_}, {"connect.topicnames", "t"}};
    for (const auto& [k, v] : extra) config.put(k, v);
    task.init(context_);
    task.start(config);
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("output.txt");
  FakeSinkContext context_;
};

TEST_F(FileSinkTest, AppendsOneLinePerRecordOnFlush) {
  FileSinkTask task;
  start(task);
  auto schema = SchemaBuilder::struct_().field("id", schemas::of(FieldType::kInt64)).build();
  Struct s(schema);
  s.put("id", std::int64_t{7});
  std::vector<ConnectRecord> records;
  records.push_back(record_of(Value("hello")));
  records.push_back(record_of(Value()));
  records.push_back(record_of(Value(std::int64_t{42})));
  records.push_back(record_of(Value(s)));
  records.push_back(record_of(Value(Bytes{'r', 'a', 'w'})));
  task.put(records);
  // Written at the end of put() (flush adds the fdatasync).
  std::string expected = "hello\n\n42\n" + Value(s).to_string() + "\nraw\n";
  EXPECT_EQ(read_all(path_), expected);
  task.flush({});
  EXPECT_EQ(read_all(path_), expected);

  // pre_commit flushes too and returns the offsets it was given.
  std::vector<ConnectRecord> more;
  more.push_back(record_of(Value("world"), 5));
  task.put(more);
  OffsetMap offsets{{more[0].position.partition, more[0].position.offset}};
  EXPECT_EQ(task.pre_commit(offsets), offsets);
  EXPECT_EQ(read_all(path_), expected + "world\n");
  task.stop();
}

TEST_F(FileSinkTest, AppendsToExistingFileAndWritesRestAtStop) {
  append(path_, "existing\n");
  FileSinkTask task;
  start(task);
  std::vector<ConnectRecord> records;
  records.push_back(record_of(Value("new")));
  task.put(records);
  task.stop();
  EXPECT_EQ(read_all(path_), "existing\nnew\n");
}

TEST_F(FileSinkTest, LargeBatchesAreWrittenInWholeLinePieces) {
  FileSinkTask task;
  start(task, {{"buffer.bytes", "64"}});
  std::vector<ConnectRecord> records;
  for (int i = 0; i < 100; ++i) records.push_back(record_of(Value("line-" + std::to_string(i))));
  task.put(records);
  const std::string partial = read_all(path_);
  EXPECT_FALSE(partial.empty());
  EXPECT_EQ(partial.back(), '\n') << "only whole lines are written";
  task.flush({});
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "line-" + std::to_string(i) + "\n";
  EXPECT_EQ(read_all(path_), expected);
  task.stop();
}

// A full disk: the batch whose write fails is accepted and kept; the next put() is refused
// (retriable) without rendering its batch, however often the worker retries it, so nothing is
// buffered twice; flush() reports the failure, so no offset is committed.
TEST_F(FileSinkTest, FullDiskNeverBuffersABatchTwice) {
  FileSinkTask task;
  FakeSinkContext context;
  task.init(context);
  task.start({{"filename", "/dev/full"}});
  std::vector<ConnectRecord> first{record_of(Value("one")), record_of(Value("two"))};
  task.put(first);
  const std::size_t kept = task.buffered_bytes();
  EXPECT_EQ(kept, std::string("one\ntwo\n").size());
  std::vector<ConnectRecord> second{record_of(Value("three"))};
  for (int attempt = 0; attempt < 3; ++attempt) {
    EXPECT_THROW(task.put(second), RetriableException);
    EXPECT_EQ(task.buffered_bytes(), kept) << "attempt " << attempt;
  }
  EXPECT_THROW(task.flush({}), RetriableException);
  task.stop();  // logs the failure, never throws
}

TEST_F(FileSinkTest, ManyTasksAppendToOneFileWithoutTearingLines) {
  constexpr int kTasks = 4;
  constexpr int kLines = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kTasks; ++t) {
    threads.emplace_back([&, t] {
      FileSinkTask task;
      FakeSinkContext context;
      task.init(context);
      task.start({{"filename", path_}, {"buffer.bytes", "4096"}});
      for (int batch = 0; batch < kLines / 500; ++batch) {
        std::vector<ConnectRecord> records;
        for (int i = 0; i < 500; ++i) {
          records.push_back(
              record_of(Value("task-" + std::to_string(t) + "-line-" +
                              std::to_string(batch * 500 + i) + "-padding-padding-padding")));
        }
        task.put(records);
        if (batch % 4 == 0) task.flush({});
      }
      task.stop();
    });
  }
  for (auto& th : threads) th.join();

  std::ifstream in(path_);
  std::set<std::string> seen;
  std::string line;
  std::size_t count = 0;
  while (std::getline(in, line)) {
    ++count;
    ASSERT_TRUE(line.starts_with("task-") && line.ends_with("-padding-padding-padding")) << line;
    seen.insert(line);
  }
  EXPECT_EQ(count, static_cast<std::size_t>(kTasks * kLines));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kTasks * kLines));
}

TEST_F(FileSinkTest, UnwritableFileFailsAtStart) {
  FileSinkTask task;
  task.init(context_);
  EXPECT_THROW(task.start({{"filename", dir_.file("no/such/dir/out.txt")}}), ConnectException);
  EXPECT_THROW(task.start({}), ConnectException);  // filename is required
}

TEST(FileSinkConnectorTest, ConfigAndTasks) {
  FileSinkConnector connector;
  const ConfigDef def = connector.config_def();
  EXPECT_NE(def.find("filename"), nullptr);
  EXPECT_NE(def.find("buffer.bytes"), nullptr);
  // connect.topicnames is the worker's key, not redefined (and so not made optional) here.
  EXPECT_EQ(def.find("connect.topicnames"), nullptr);
  EXPECT_THROW(connector.validate({{"connect.topicnames", "t"}}), ConnectException);
  connector.validate({{"filename", "/tmp/out.txt"}});
  connector.start({{"filename", "/tmp/out.txt"}, {"connect.topicnames", "a;b"}});
  auto tasks = connector.task_configs(3);
  ASSERT_EQ(tasks.size(), 3u);
  for (const auto& t : tasks) EXPECT_EQ(t.get_string("filename"), "/tmp/out.txt");
  EXPECT_EQ(connector.task_class(), "org.apache.rocketmq.connect.file.FileSinkTask");
  EXPECT_NE(dynamic_cast<FileSinkTask*>(connector.create_task().get()), nullptr);
}

}  // namespace
}  // namespace rmqc::connectors::file
