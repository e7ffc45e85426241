// Crash recovery: the store reopens after a torn or corrupt tail, keeps every complete record
// before it and rebuilds consume queues. A "crash" is close_without_flush_for_testing(): the
// files are left exactly as a kill -9 leaves them (no final flush, old checkpoint).
#include "broker/store/file_util.h"
#include "broker/store/message_store.h"
#include "broker/store/tests/store_test_util.h"
#include "broker/store/tests/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace rmqc::broker {
namespace {

using testing::bodies;
using testing::put;
using testing::small_config;
using testing::TempDir;

namespace fs = std::filesystem;

StoreConfig crashy_config(const std::string& dir) {
  auto c = small_config(dir);
  c.flush_interval = std::chrono::hours(1);  // the checkpoint stays where open() left it
  return c;
}

// Writes n records "m<i>" to T/0 and crashes. Returns their results.
std::vector<PutResult> write_and_crash(const std::string& dir, int n, int body_size = 300) {
  auto store = MessageStore::open(crashy_config(dir));
  EXPECT_TRUE(store.ok());
  std::vector<PutResult> out;
  for (int i = 0; i < n; ++i) {
    auto r = put(**store, "T", 0, "m" + std::to_string(i) + std::string(body_size, '.'));
    EXPECT_TRUE(r.ok());
    out.push_back(*r);
  }
  (*store)->close_without_flush_for_testing();
  return out;
}

std::string segment_path(const std::string& dir, int64_t offset, int64_t segment = 64 * 1024) {
  return dir + "/commitlog/" + segment_file_name(offset / segment * segment);
}

void expect_records(MessageStore& s, int n, int body_size = 300) {
  ASSERT_EQ(s.max_offset("T", 0), n);
  int64_t next = 0;
  int i = 0;
  while (next < n) {
    auto g = s.get_messages("T", 0, next, 32, 1 << 20);
    ASSERT_EQ(g->status, GetStatus::kFound);
    for (const auto& b : bodies(*g)) {
      EXPECT_EQ(b, "m" + std::to_string(i++) + std::string(body_size, '.'));
    }
    next = g->next_begin_offset;
  }
  EXPECT_EQ(i, n);
}

void flip_byte(const std::string& path, int64_t pos) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(pos);
  char c;
  f.read(&c, 1);
  c ^= 0x5A;
  f.seekp(pos);
  f.write(&c, 1);
}

TEST(Recovery, TornTailIsTruncatedAndCompleteRecordsKept) {
  TempDir tmp;
  auto results = write_and_crash(tmp.path(), 50);
  const auto& last = results.back();
  fs::resize_file(segment_path(tmp.path(), last.physical_offset),
                  last.physical_offset % (64 * 1024) + last.size / 2);
  auto store = MessageStore::open(crashy_config(tmp.path()));
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  expect_records(**store, 49);
  EXPECT_EQ((*store)->commit_log_max_offset(), last.physical_offset);
  auto r = put(**store, "T", 0, "m49" + std::string(300, '.'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queue_offset, 49);
  EXPECT_EQ(r->physical_offset, last.physical_offset);
  expect_records(**store, 50);
}

TEST(Recovery, CorruptBodyDropsThatRecordAndEverythingAfter) {
  TempDir tmp;
  auto results = write_and_crash(tmp.path(), 50);
  const auto& bad = results[45];
  flip_byte(segment_path(tmp.path(), bad.physical_offset),
            bad.physical_offset % (64 * 1024) + 100);  // inside the body: CRC mismatch
  auto store = MessageStore::open(crashy_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_records(**store, 45);
}

TEST(Recovery, BadMagicAndSizeCrossingTheSegmentEnd) {
  for (int variant = 0; variant < 3; ++variant) {
    TempDir tmp;
    auto results = write_and_crash(tmp.path(), 30);
    const auto& bad = results[20];
    const std::string path = segment_path(tmp.path(), bad.physical_offset);
    const int64_t pos = bad.physical_offset % (64 * 1024);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(variant == 0 ? pos + 4 : pos);
    const char huge[4] = {0x00, 0x01, 0x00, 0x00};  // 65536: runs past the segment end
    const char tiny[4] = {0x00, 0x00, 0x00, 0x10};  // below the minimum record size
    const char magic[4] = {0x12, 0x34, 0x56, 0x78};
    f.write(variant == 0 ? magic : variant == 1 ? huge : tiny, 4);
    f.close();
    auto store = MessageStore::open(crashy_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    expect_records(**store, 20);
  }
}

TEST(Recovery, GarbageAfterTheLastRecordIsCut) {
  TempDir tmp;
  auto results = write_and_crash(tmp.path(), 10);
  const auto& last = results.back();
  const std::string path = segment_path(tmp.path(), last.physical_offset);
  std::ofstream(path, std::ios::app | std::ios::binary) << std::string(37, '\x7f');
  auto store = MessageStore::open(crashy_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_records(**store, 10);
  EXPECT_EQ(fs::file_size(path),
            static_cast<uintmax_t>(last.physical_offset % (64 * 1024) + last.size));
}

TEST(Recovery, CorruptionInAnEarlierSegmentDropsLaterSegments) {
  TempDir tmp;
  auto results = write_and_crash(tmp.path(), 600);  // ~190 KB: 3+ segments
  const auto& bad = results[100];                   // in segment 0
  ASSERT_LT(bad.physical_offset, 64 * 1024);
  flip_byte(segment_path(tmp.path(), bad.physical_offset), bad.physical_offset + 100);
  auto store = MessageStore::open(crashy_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_records(**store, 100);
  auto files = list_segment_files(tmp.path() + "/commitlog");
  ASSERT_EQ(files->size(), 1u);
  EXPECT_TRUE(fs::exists(tmp.path() + "/commitlog/" + segment_file_name(64 * 1024) + ".dropped"));
}

TEST(Recovery, ConsumeQueuesRebuiltWhenDeleted) {
  TempDir tmp;
  {
    auto store = MessageStore::open(small_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE(put(**store, "T", 0, "m" + std::to_string(i) + std::string(300, '.')).ok());
      ASSERT_TRUE(put(**store, "U", i % 3, "u").ok());
    }
  }
  fs::remove_all(tmp.path() + "/consumequeue");
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_records(**store, 400);
  EXPECT_EQ(
      (*store)->max_offset("U", 0) + (*store)->max_offset("U", 1) + (*store)->max_offset("U", 2),
      400);
}

TEST(Recovery, ConsumeQueueEntriesPastTheLogAreDropped) {
  TempDir tmp;
  std::vector<PutResult> results;
  {
    // Clean close: the checkpoint says everything is indexed...
    auto store = MessageStore::open(small_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 50; ++i) {
      results.push_back(*put(**store, "T", 0, "m" + std::to_string(i) + std::string(300, '.')));
    }
  }
  // ...then the log loses its tail (a disk that lied about fsync): entries 40.. are gone.
  fs::resize_file(segment_path(tmp.path(), results[40].physical_offset),
                  results[40].physical_offset % (64 * 1024) + 10);
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_records(**store, 40);
  auto g = (*store)->get_messages("T", 0, 45, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kOffsetOverflowBadly);
}

TEST(Recovery, RecoveryIsIdempotentAcrossRepeatedCrashes) {
  TempDir tmp;
  auto results = write_and_crash(tmp.path(), 20);
  for (int round = 0; round < 3; ++round) {
    auto store = MessageStore::open(crashy_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    expect_records(**store, 20 + round * 5);
    for (int i = 0; i < 5; ++i) {
      const int n = 20 + round * 5 + i;
      ASSERT_TRUE(put(**store, "T", 0, "m" + std::to_string(n) + std::string(300, '.')).ok());
    }
    (*store)->close_without_flush_for_testing();
  }
}

}  // namespace
}  // namespace rmqc::broker
