#include "broker/store/file_util.h"
#include "broker/store/message_store.h"
#include "broker/store/tests/store_test_util.h"
#include "broker/store/tests/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <filesystem>
#include <signal.h>

namespace rmqc::broker {
namespace {

using testing::bodies;
using testing::put;
using testing::small_config;
using testing::TempDir;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void age_file(const std::string& path, int64_t age_ms) {
  const int64_t t = wall_ms() - age_ms;
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = t / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (t % 1000) * 1'000'000;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// ~1 KB records into T/0 and U/0 until at least `segments` commit-log files exist.
void fill(MessageStore& s, int segments) {
  int i = 0;
  while ((s.commit_log_max_offset() - s.commit_log_min_offset()) / (64 * 1024) < segments) {
    ASSERT_TRUE(
        put(s, i % 2 ? "T" : "U", 0, "m" + std::to_string(i) + std::string(1000, '.')).ok());
    ++i;
  }
}

TEST(Retention, DeletesSegmentsOlderThanTheRetentionAge) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  fill(s, 5);
  const int64_t max_t = s.max_offset("T", 0);
  auto files = *list_segment_files(tmp.path() + "/commitlog");
  ASSERT_GE(files.size(), 6u);
  const int64_t day = 24 * 3600 * 1000;
  for (int i = 0; i < 3; ++i) age_file(files[i].path, 4 * day);  // older than 72 h
  age_file(files[4].path, 4 * day);  // old, but behind a young one: deletion stops in order
  auto deleted = s.delete_expired_segments(wall_ms());
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(s.commit_log_min_offset(), files[3].base_offset);
  EXPECT_FALSE(std::filesystem::exists(files[0].path));
  // Queue minimums moved to the first record still in the log.
  const int64_t min_t = s.min_offset("T", 0);
  EXPECT_GT(min_t, 0);
  EXPECT_EQ(s.max_offset("T", 0), max_t);
  auto g = s.get_messages("T", 0, 0, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kOffsetTooSmall);
  EXPECT_EQ(g->next_begin_offset, min_t);
  g = s.get_messages("T", 0, min_t, 1, 1 << 20);
  ASSERT_EQ(g->status, GetStatus::kFound);
  EXPECT_GE(g->messages[0].physical_offset, s.commit_log_min_offset());
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, 0), min_t);

  // Everything old: all but the active segment go.
  files = *list_segment_files(tmp.path() + "/commitlog");
  for (const auto& f : files) age_file(f.path, 4 * day);
  deleted = s.delete_expired_segments(wall_ms());
  EXPECT_EQ(*deleted, static_cast<int>(files.size()) - 1);
  EXPECT_EQ(list_segment_files(tmp.path() + "/commitlog")->size(), 1u);
  ASSERT_TRUE(put(s, "T", 0, "still writable").ok());
  EXPECT_EQ(s.max_offset("T", 0), max_t + 1);

  // Reopen: minimums come back from the files and the log.
  store->reset();
  store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->max_offset("T", 0), max_t + 1);
  g = (*store)->get_messages("T", 0, (*store)->min_offset("T", 0), 32, 1 << 20);
  ASSERT_EQ(g->status, GetStatus::kFound);
  EXPECT_EQ(bodies(*g).back(), "still writable");
}

TEST(Retention, DeletesOldestSegmentsBeyondTheSizeLimit) {
  TempDir tmp;
  auto config = small_config(tmp.path());
  config.retention_bytes = 200 * 1024;
  auto store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  fill(s, 8);
  EXPECT_GT(s.disk_bytes(), config.retention_bytes);
  auto deleted = s.delete_expired_segments(wall_ms());
  ASSERT_TRUE(deleted.ok());
  EXPECT_GE(*deleted, 5);
  EXPECT_LE(s.disk_bytes(), config.retention_bytes);
  EXPECT_GT(s.min_offset("U", 0), 0);
  auto g = s.get_messages("U", 0, s.min_offset("U", 0), 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kFound);
}

TEST(Retention, FullStoreRejectsPutsWithoutCorruption) {
  TempDir tmp;
  auto config = small_config(tmp.path());
  config.max_store_bytes = 150 * 1024;
  int acknowledged = 0;
  {
    auto store = MessageStore::open(config);
    ASSERT_TRUE(store.ok());
    Result<PutResult> r = PutResult{};
    while ((r = put(**store, "T", 0, "m" + std::to_string(acknowledged))).ok()) ++acknowledged;
    EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_TRUE(r.error().is_retriable());
    EXPECT_LE((*store)->disk_bytes(), config.max_store_bytes);
    EXPECT_EQ((*store)->max_offset("T", 0), acknowledged);
  }
  // Reopen with retention on: old segments go and puts work again.
  config.retention_bytes = 64 * 1024;
  auto store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->max_offset("T", 0), acknowledged);
  ASSERT_TRUE((*store)->delete_expired_segments(wall_ms()).ok());
  auto r = put(**store, "T", 0, "after");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->queue_offset, acknowledged);
}

// A write the file system refuses (here RLIMIT_FSIZE -> EFBIG, the same path as ENOSPC) is a
// clean, retriable rejection: nothing half-written becomes visible and the store keeps working.
TEST(Retention, WriteFailureFromTheFileSystemIsACleanRejection) {
  TempDir tmp;
  auto config = small_config(tmp.path());
  auto store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  ASSERT_TRUE(put(s, "T", 0, "first").ok());  // creates the consume-queue file

  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old), 0);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 20 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  int acknowledged = 1;
  Result<PutResult> r = PutResult{};
  while ((r = put(s, "T", 0, "m" + std::to_string(acknowledged) + std::string(500, '.'))).ok()) {
    ++acknowledged;
  }
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted) << r.error().to_string();
  // A batch hitting the limit: whatever was not written is rolled back, offsets stay dense.
  std::vector<std::string> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(testing::make_record("T", 0, std::string(500, 'b')));
  std::vector<std::span<char>> spans;
  for (auto& b : batch) spans.emplace_back(b.data(), b.size());
  auto batch_result = s.put_messages(spans);
  EXPECT_FALSE(batch_result.ok());
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ::sigaction(SIGXFSZ, &old, nullptr);
  EXPECT_EQ(s.max_offset("T", 0), acknowledged);

  auto ok = put(s, "T", 0, "after");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->queue_offset, acknowledged);
  store->reset();
  store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->max_offset("T", 0), acknowledged + 1);
  auto g = (*store)->get_messages("T", 0, acknowledged, 1, 1 << 20);
  ASSERT_EQ(g->status, GetStatus::kFound);
  EXPECT_EQ(bodies(*g)[0], "after");
}

}  // namespace
}  // namespace rmqc::broker
