#include "broker/store/consume_queue.h"

#include "broker/store/file_util.h"
#include "broker/store/tags_code.h"
#include "broker/store/tests/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

namespace rmqc::broker {
namespace {

using testing::TempDir;

TEST(SegmentNames, TwentyDigits) {
  EXPECT_EQ(segment_file_name(0), "00000000000000000000");
  EXPECT_EQ(segment_file_name(1073741824), "00000000001073741824");
  EXPECT_EQ(parse_segment_file_name("00000000001073741824"), 1073741824);
  EXPECT_EQ(parse_segment_file_name("0000000000107374182x"), -1);
  EXPECT_EQ(parse_segment_file_name("123"), -1);
}

TEST(TagsCode, MatchesJavaStringHashCode) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("TagA"), 2598919);                           // "TagA".hashCode()
  EXPECT_EQ(java_string_hash("hello"), 99162322);                         // "hello".hashCode()
  EXPECT_EQ(java_string_hash("\xC3\xA9"), 0xE9);                          // "é".hashCode() = 233
  EXPECT_EQ(java_string_hash("\xF0\x9F\x98\x80"), 0xD83D * 31 + 0xDE00);  // U+1F600 surrogates
  EXPECT_EQ(tags_code(""), 0);
  EXPECT_EQ(tags_code("TagA"), 2598919);
}

TEST(ConsumeQueue, AppendReadAndRollFiles) {
  TempDir tmp;
  auto cq = ConsumeQueue::open(tmp.path() + "/q", "T", 0, 4);
  ASSERT_TRUE(cq.ok()) << cq.error().to_string();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*cq)->put(i, CqEntry{i * 100, 100, i}).ok());
  }
  CqEntry e;
  EXPECT_FALSE((*cq)->read(0, &e)) << "not published yet";
  (*cq)->publish(10);
  EXPECT_EQ((*cq)->max_offset(), 10);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*cq)->read(i, &e));
    EXPECT_EQ(e.phys_offset, i * 100);
    EXPECT_EQ(e.size, 100);
    EXPECT_EQ(e.tags_code, i);
  }
  EXPECT_FALSE((*cq)->read(10, &e));
  auto files = list_segment_files(tmp.path() + "/q");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);  // 4 + 4 + 2 entries
  EXPECT_EQ((*files)[1].base_offset, 80);
  EXPECT_EQ((*files)[2].base_offset, 160);
}

TEST(ConsumeQueue, PutRunWritesAcrossFilesAndReopens) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/q";
  {
    auto cq = ConsumeQueue::open(dir, "T", 0, 4);
    ASSERT_TRUE(cq.ok()) << cq.error().to_string();
    std::vector<CqEntry> first{{0, 10, 1}, {10, 10, 2}};
    ASSERT_TRUE((*cq)->put_run(0, first).ok());
    std::vector<CqEntry> more;
    for (int i = 2; i < 11; ++i) more.push_back(CqEntry{i * 10, 10, i + 1});
    ASSERT_TRUE((*cq)->put_run(2, more).ok());  // 2 + 4 + 3 entries: the rest of file 0, 1, 2
    EXPECT_EQ((*cq)->next_offset(), 11);
    (*cq)->publish(11);
    for (int i = 0; i < 11; ++i) {
      CqEntry e;
      ASSERT_TRUE((*cq)->read(i, &e)) << i;
      EXPECT_EQ(e.phys_offset, i * 10);
      EXPECT_EQ(e.tags_code, i + 1);
    }
    // A run starting below next_offset replaces the tail (recovery's case).
    std::vector<CqEntry> redo{{500, 7, 0}};
    ASSERT_TRUE((*cq)->put_run(9, redo).ok());
    EXPECT_EQ((*cq)->next_offset(), 10);
  }
  auto files = list_segment_files(dir);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  auto cq = ConsumeQueue::open(dir, "T", 0, 4);
  ASSERT_TRUE(cq.ok());
  EXPECT_EQ((*cq)->max_offset(), 10);
  CqEntry e;
  ASSERT_TRUE((*cq)->read(9, &e));
  EXPECT_EQ(e.phys_offset, 500);
  EXPECT_EQ(e.size, 7);
}

TEST(ConsumeQueue, ReopenDropsTornEntryAndTruncatesByPhys) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/q";
  {
    auto cq = ConsumeQueue::open(dir, "T", 0, 4);
    ASSERT_TRUE(cq.ok());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*cq)->put(i, CqEntry{i * 100, 100, 0}).ok());
  }
  // Tear the last entry in half.
  std::filesystem::resize_file(dir + "/" + segment_file_name(80), 30);
  auto cq = ConsumeQueue::open(dir, "T", 0, 4);
  ASSERT_TRUE(cq.ok());
  EXPECT_EQ((*cq)->max_offset(), 5);
  // Entries from phys 300 on are not durable in the commit log: drop them.
  ASSERT_TRUE((*cq)->truncate_by_phys(300, 1000).ok());
  EXPECT_EQ((*cq)->max_offset(), 3);
  EXPECT_EQ((*cq)->next_offset(), 3);
  ASSERT_TRUE((*cq)->put(3, CqEntry{300, 50, 0}).ok());
  (*cq)->publish(4);
  CqEntry e;
  ASSERT_TRUE((*cq)->read(3, &e));
  EXPECT_EQ(e.size, 50);
}

TEST(ConsumeQueue, DeleteBeforeMovesMinAndRemovesWholeFiles) {
  TempDir tmp;
  auto cq = ConsumeQueue::open(tmp.path() + "/q", "T", 0, 4);
  ASSERT_TRUE(cq.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*cq)->put(i, CqEntry{i * 100, 100, 0}).ok());
  (*cq)->publish(10);
  ASSERT_TRUE((*cq)->delete_before(550).ok());
  EXPECT_EQ((*cq)->min_offset(), 6);
  auto files = list_segment_files(tmp.path() + "/q");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);  // file [0,4) gone, [4,8) still holds offsets 6 and 7
  CqEntry e;
  EXPECT_FALSE((*cq)->read(5, &e));
  EXPECT_TRUE((*cq)->read(6, &e));
  // Reopen: min comes from the first file; the store corrects it with the commit-log minimum.
  cq = ConsumeQueue::open(tmp.path() + "/q", "T", 0, 4);
  ASSERT_TRUE(cq.ok());
  EXPECT_EQ((*cq)->min_offset(), 4);
  ASSERT_TRUE((*cq)->delete_before(550).ok());
  EXPECT_EQ((*cq)->min_offset(), 6);
  EXPECT_EQ((*cq)->max_offset(), 10);
}

TEST(ConsumeQueue, HoleIsSkippedByReaders) {
  TempDir tmp;
  auto cq = ConsumeQueue::open(tmp.path() + "/q", "T", 0, 8);
  ASSERT_TRUE(cq.ok());
  ASSERT_TRUE((*cq)->put(0, CqEntry{0, 10, 0}).ok());
  ASSERT_TRUE((*cq)->put(3, CqEntry{10, 10, 0}).ok());
  (*cq)->publish(4);
  CqEntry e;
  EXPECT_TRUE((*cq)->read(0, &e));
  EXPECT_FALSE((*cq)->read(1, &e));
  EXPECT_TRUE((*cq)->read(3, &e));
}

}  // namespace
}  // namespace rmqc::broker
