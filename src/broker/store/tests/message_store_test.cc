#include "broker/store/message_store.h"

#include "broker/store/file_util.h"
#include "broker/store/tags_code.h"
#include "broker/store/tests/store_test_util.h"
#include "broker/store/tests/temp_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace rmqc::broker {
namespace {

using testing::bodies;
using testing::make_record;
using testing::put;
using testing::small_config;
using testing::TempDir;

TEST(MessageStore, PutGetPatchesOffsetsAndTimestamp) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  MessageStore& s = **store;
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto r0 = put(s, "TopicTest", 1, "hello", "TagA");
  ASSERT_TRUE(r0.ok()) << r0.error().to_string();
  auto r1 = put(s, "TopicTest", 1, "world");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r0->queue_offset, 0);
  EXPECT_EQ(r1->queue_offset, 1);
  EXPECT_EQ(r0->physical_offset, 0);
  EXPECT_EQ(r1->physical_offset, r0->size);
  EXPECT_GE(r0->store_timestamp, before);

  auto got = s.get_messages("TopicTest", 1, 0, 32, 1 << 20);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, GetStatus::kFound);
  EXPECT_EQ(got->next_begin_offset, 2);
  EXPECT_EQ(got->min_offset, 0);
  EXPECT_EQ(got->max_offset, 2);
  ASSERT_EQ(bodies(*got), (std::vector<std::string>{"hello", "world"}));
  auto m = rocketmq::decode_stored_message(got->messages[1].bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->queue_offset, 1);
  EXPECT_EQ(m->physical_offset, r1->physical_offset);
  EXPECT_EQ(m->store_timestamp, r1->store_timestamp);
  EXPECT_EQ(m->topic, "TopicTest");
  // The pull body is the two records back to back: one contiguous range.
  EXPECT_EQ(got->ranges().size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(got->body().size()), r0->size + r1->size);
  // VIEW_MESSAGE_BY_ID path.
  auto view = s.read_message(r1->physical_offset);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->bytes, got->messages[1].bytes);
  EXPECT_FALSE(s.read_message(r1->physical_offset + 1).ok());
}

TEST(MessageStore, StatusesFollowRocketMq) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  auto g = s.get_messages("T", 0, 0, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kNoMessageInQueue);
  EXPECT_EQ(g->next_begin_offset, 0);
  g = s.get_messages("T", 0, 5, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kNoMessageInQueue);
  EXPECT_EQ(g->next_begin_offset, 0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(put(s, "T", 0, "m").ok());
  g = s.get_messages("T", 0, 3, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kOffsetOverflowOne);
  EXPECT_EQ(g->next_begin_offset, 3);
  g = s.get_messages("T", 0, 9, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kOffsetOverflowBadly);
  EXPECT_EQ(g->next_begin_offset, 3);
  g = s.get_messages("T", 0, -1, 32, 1 << 20);
  EXPECT_EQ(g->status, GetStatus::kOffsetTooSmall);
  EXPECT_EQ(g->next_begin_offset, 0);
  EXPECT_EQ(get_status_name(GetStatus::kOffsetOverflowOne), "OFFSET_OVERFLOW_ONE");
  EXPECT_EQ(s.max_offset("T", 0), 3);
  EXPECT_EQ(s.min_offset("T", 0), 0);
  EXPECT_EQ(s.max_offset("Unknown", 0), 0);
}

TEST(MessageStore, MaxCountAndMaxBytes) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  std::vector<int32_t> sizes;
  for (int i = 0; i < 10; ++i) sizes.push_back(put(s, "T", 0, std::string(100, 'a' + i))->size);
  auto g = s.get_messages("T", 0, 2, 3, 1 << 20);
  EXPECT_EQ(g->messages.size(), 3u);
  EXPECT_EQ(g->next_begin_offset, 5);
  g = s.get_messages("T", 0, 0, 32, sizes[0] * 2 + 1);
  EXPECT_EQ(g->messages.size(), 2u);
  EXPECT_EQ(g->next_begin_offset, 2);
  g = s.get_messages("T", 0, 0, 32, 1);  // always at least one
  EXPECT_EQ(g->messages.size(), 1u);
}

TEST(MessageStore, LogicalOffsetsPerQueue) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  for (int i = 0; i < 30; ++i) {
    auto r = put(s, i % 2 ? "A" : "B", i % 3, "m" + std::to_string(i));
    ASSERT_TRUE(r.ok());
  }
  // Each (topic, queue) numbers its own messages 0, 1, 2, ...
  for (const char* topic : {"A", "B"}) {
    for (int q = 0; q < 3; ++q) {
      EXPECT_EQ(s.max_offset(topic, q), 5) << topic << q;
      auto g = s.get_messages(topic, q, 0, 32, 1 << 20);
      ASSERT_EQ(g->messages.size(), 5u);
      for (size_t k = 0; k < 5; ++k) {
        auto m = rocketmq::decode_stored_message(g->messages[k].bytes);
        EXPECT_EQ(m->queue_offset, static_cast<int64_t>(k));
        EXPECT_EQ(m->topic, topic);
        EXPECT_EQ(m->queue_id, q);
      }
    }
  }
  EXPECT_EQ(s.queues().size(), 6u);
}

TEST(MessageStore, SegmentRollingPadsWithBlankAndNeverSplitsAnEntry) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  const std::string body(1000, 'x');
  std::vector<PutResult> results;
  for (int i = 0; i < 500; ++i) {  // ~530 KB across ~9 segments of 64 KiB
    auto r = put(s, "Roll", 0, body + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    results.push_back(*r);
  }
  for (const auto& r : results) {
    EXPECT_EQ(r.physical_offset / (64 * 1024), (r.physical_offset + r.size + 7) / (64 * 1024))
        << "entry crosses a segment end at " << r.physical_offset;
  }
  auto files = list_segment_files(tmp.path() + "/commitlog");
  ASSERT_TRUE(files.ok());
  EXPECT_GE(files->size(), 8u);
  EXPECT_EQ((*files)[1].path.substr((*files)[1].path.size() - 20), "00000000000000065536");
  int64_t next = 0;
  int n = 0;
  while (next < s.max_offset("Roll", 0)) {
    auto g = s.get_messages("Roll", 0, next, 32, 1 << 20);
    ASSERT_EQ(g->status, GetStatus::kFound);
    for (const auto& b : bodies(*g)) EXPECT_EQ(b, body + std::to_string(n++));
    next = g->next_begin_offset;
  }
  EXPECT_EQ(n, 500);
}

TEST(MessageStore, TagFilterByHashCode) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  ASSERT_TRUE(put(s, "T", 0, "a1", "TagA").ok());
  ASSERT_TRUE(put(s, "T", 0, "b1", "TagB").ok());
  ASSERT_TRUE(put(s, "T", 0, "none").ok());
  ASSERT_TRUE(put(s, "T", 0, "a2", "TagA").ok());
  TagFilter only_a{{java_string_hash("TagA")}};
  auto g = s.get_messages("T", 0, 0, 32, 1 << 20, &only_a);
  EXPECT_EQ(g->status, GetStatus::kFound);
  EXPECT_EQ(bodies(*g), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(g->next_begin_offset, 4);
  TagFilter a_or_b{{java_string_hash("TagA"), java_string_hash("TagB")}};
  g = s.get_messages("T", 0, 0, 2, 1 << 20, &a_or_b);
  EXPECT_EQ(bodies(*g), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(g->next_begin_offset, 2);
  TagFilter only_c{{java_string_hash("TagC")}};
  g = s.get_messages("T", 0, 0, 32, 1 << 20, &only_c);
  EXPECT_EQ(g->status, GetStatus::kNoMatchedMessage);
  EXPECT_EQ(g->next_begin_offset, 4);  // skipped entries are consumed
}

TEST(MessageStore, SearchOffsetByTimestampAndEarliestTime) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, 12345), 0);
  EXPECT_EQ(s.earliest_message_store_time("T", 0), -1);
  std::vector<int64_t> ts;
  for (int i = 0; i < 6; ++i) {
    ts.push_back(put(s, "T", 0, "m")->store_timestamp);
    std::this_thread::sleep_for(std::chrono::milliseconds(6));
  }
  ASSERT_LT(ts[2], ts[3]);
  EXPECT_EQ(s.earliest_message_store_time("T", 0), ts[0]);
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, ts[3]), 3);
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, ts[0] - 1000), 0);
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, ts[5] + 1000), 5);  // max - 1
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, ts[3] + 1), 3);     // nearer is 3
  EXPECT_EQ(s.search_offset_by_timestamp("T", 0, ts[4] - 1), 4);     // nearer is 4
  if ((ts[3] + ts[4]) % 2 == 0) {
    EXPECT_EQ(s.search_offset_by_timestamp("T", 0, (ts[3] + ts[4]) / 2), 3);  // tie: lower
  }
}

TEST(MessageStore, ReopenAfterCleanClose) {
  TempDir tmp;
  {
    auto store = MessageStore::open(small_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(put(**store, "T", i % 2, std::string(700, 'z')).ok());
    (*store)->consumer_offsets().commit("G", "T", 0, 42);
    ASSERT_TRUE((*store)->topic_configs().put({"T", 2, 2, 6, 0, false}).ok());
  }
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  EXPECT_EQ(s.max_offset("T", 0), 100);
  EXPECT_EQ(s.max_offset("T", 1), 100);
  EXPECT_EQ(s.consumer_offsets().query("G", "T", 0), 42);
  EXPECT_EQ(s.topic_configs().get("T")->read_queue_nums, 2);
  auto r = put(s, "T", 0, "after");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queue_offset, 100);
  auto g = s.get_messages("T", 0, 99, 32, 1 << 20);
  ASSERT_EQ(g->messages.size(), 2u);
  EXPECT_EQ(bodies(*g)[1], "after");
}

TEST(MessageStore, BatchPutAssignsConsecutiveOffsets) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  std::vector<std::string> records;
  for (int i = 0; i < 300; ++i) records.push_back(make_record("B", 0, std::string(500, 'b')));
  std::vector<std::span<char>> spans;
  for (auto& r : records) spans.emplace_back(r.data(), r.size());
  auto results = (*store)->put_messages(spans);
  ASSERT_TRUE(results.ok()) << results.error().to_string();
  ASSERT_EQ(results->size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ((*results)[i].queue_offset, i);
  EXPECT_EQ((*store)->max_offset("B", 0), 300);
}

TEST(MessageStore, BatchAcrossQueuesSegmentsAndTags) {
  TempDir tmp;
  const auto config = small_config(tmp.path());  // 64 KiB log segments, 100-entry queue files
  struct Arrival {
    std::string topic;
    int32_t queue_id;
    int64_t max_offset;
    int64_t tags_code;
  };
  std::vector<Arrival> heard;
  // Queues of a batch interleaved, with runs of one queue and tag changes within a run; 500 B
  // bodies so the batch rolls the commit log (about 120 records a segment) and the queue files.
  const std::pair<const char*, int32_t> targets[] = {{"A", 0}, {"A", 0}, {"A", 1}, {"B", 0}};
  std::vector<std::string> records;
  std::map<std::pair<std::string, int32_t>, std::vector<std::string>> expected;
  for (int i = 0; i < 400; ++i) {
    auto [topic, queue] = targets[(i / 3) % 4];
    std::string body = std::to_string(i) + std::string(500, 'x');
    records.push_back(make_record(topic, queue, body, i % 7 == 0 ? "T7" : ""));
    expected[{topic, queue}].push_back(body);
  }
  {
    auto store = MessageStore::open(config);
    ASSERT_TRUE(store.ok());
    (*store)->set_arrival_listener(
        [&](std::string_view topic, int32_t queue_id, int64_t max_offset, int64_t tags_code) {
          heard.push_back({std::string(topic), queue_id, max_offset, tags_code});
        });
    ASSERT_TRUE(put(**store, "A", 0, "before").ok());  // the queue does not start at 0
    expected[{"A", 0}].insert(expected[{"A", 0}].begin(), "before");
    std::vector<std::span<char>> spans;
    for (auto& r : records) spans.emplace_back(r.data(), r.size());
    auto results = (*store)->put_messages(spans);
    ASSERT_TRUE(results.ok()) << results.error().to_string();
    ASSERT_EQ(results->size(), records.size());
    std::map<std::pair<std::string, int32_t>, int64_t> next{{{"A", 0}, 1}};
    for (size_t i = 0; i < records.size(); ++i) {
      auto [topic, queue] = targets[(i / 3) % 4];
      const int64_t want = next[std::make_pair(std::string(topic), queue)]++;
      EXPECT_EQ((*results)[i].queue_offset, want) << i;
    }
    // Every queue heard of its last offset.
    for (const auto& [key, bodies_of] : expected) {
      int64_t last = -1;
      for (const auto& a : heard) {
        if (a.topic == key.first && a.queue_id == key.second) last = std::max(last, a.max_offset);
      }
      EXPECT_EQ(last, static_cast<int64_t>(bodies_of.size())) << key.first << key.second;
    }
    EXPECT_LT(heard.size(), records.size() / 2) << "one notification per run, not per message";
  }
  auto store = MessageStore::open(config);  // and the same after a reopen
  ASSERT_TRUE(store.ok());
  for (const auto& [key, want] : expected) {
    ASSERT_EQ((*store)->max_offset(key.first, key.second), static_cast<int64_t>(want.size()));
    std::vector<std::string> got;
    while (got.size() < want.size()) {
      auto g = (*store)->get_messages(key.first, key.second, static_cast<int64_t>(got.size()), 32,
                                      1 << 20);
      ASSERT_TRUE(g.ok());
      ASSERT_FALSE(g->messages.empty());
      for (auto& b : bodies(*g)) got.push_back(std::move(b));
    }
    EXPECT_EQ(got, want) << key.first << key.second;
  }
  TagFilter t7{{static_cast<int32_t>(tags_code("T7"))}};
  auto g = (*store)->get_messages("B", 0, 0, 1000, 1 << 24, &t7);
  ASSERT_TRUE(g.ok());
  for (const auto& m : g->messages) {
    auto decoded = rocketmq::decode_stored_message(m.bytes);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(std::stoi(std::string(decoded->body.substr(0, 3))) % 7, 0);
  }
  EXPECT_FALSE(g->messages.empty());
}

TEST(MessageStore, RejectsMalformedRecordsAndBadTopics) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  std::string r = make_record("T", 0, "x");
  r.resize(r.size() - 1);
  EXPECT_EQ((*store)->put_message(r).error().code(), ErrorCode::kInvalidArgument);
  std::string bad_topic = make_record("../etc", 0, "x");
  EXPECT_EQ((*store)->put_message(bad_topic).error().code(), ErrorCode::kInvalidArgument);
  std::string bad_crc = make_record("T", 0, "hello");
  bad_crc[88] ^= 1;  // body byte
  EXPECT_EQ((*store)->put_message(bad_crc).error().code(), ErrorCode::kInvalidArgument);
  std::string huge = make_record("T", 0, std::string(20000, 'h'));
  EXPECT_EQ((*store)->put_message(huge).error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ((*store)->max_offset("T", 0), 0);
}

TEST(MessageStore, ArrivalListenerAndConcurrentReaders) {
  TempDir tmp;
  auto store = MessageStore::open(small_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  MessageStore& s = **store;
  std::atomic<int64_t> notified{0};
  s.set_arrival_listener([&](std::string_view topic, int32_t, int64_t max_offset, int64_t) {
    if (topic == "C") notified = max_offset;
  });
  std::atomic<bool> done{false};
  std::atomic<int64_t> read_total{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      int64_t next = 0;
      while (!done || next < s.max_offset("C", 0)) {
        auto g = s.get_messages("C", 0, next, 16, 1 << 20);
        for (const auto& b : bodies(*g)) {
          EXPECT_EQ(b, "msg" + std::to_string(next++));
          read_total++;
        }
        if (g->messages.empty()) std::this_thread::yield();
      }
    });
  }
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(put(s, "C", 0, "msg" + std::to_string(i)).ok());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(read_total.load(), 3 * 2000);
  EXPECT_EQ(notified.load(), 2000);
}

TEST(MessageStore, SyncModeGroupCommitFromManyThreads) {
  TempDir tmp;
  auto config = small_config(tmp.path());
  config.flush_mode = FlushMode::kSync;
  auto store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = put(**store, "S", t, "v" + std::to_string(i));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->queue_offset, i);
      }
    });
  }
  for (auto& w : writers) w.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ((*store)->max_offset("S", t), 50);
}

}  // namespace
}  // namespace rmqc::broker

namespace rmqc::broker {
namespace {

TEST(MessageStore, ReopenWithOtherSegmentSizesKeepsTheRecordedOnes) {
  testing::TempDir tmp;
  {
    auto store = MessageStore::open(testing::small_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(testing::put(**store, "T", 0, std::string(900, 'q')).ok());
  }
  auto config = testing::small_config(tmp.path());
  config.commit_log_segment_bytes = 1 << 20;
  config.consume_queue_segment_entries = 1000;
  auto store = MessageStore::open(config);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->max_offset("T", 0), 200);
  auto r = testing::put(**store, "T", 0, "next");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queue_offset, 200);
  EXPECT_EQ(r->physical_offset / (64 * 1024), (r->physical_offset + r->size) / (64 * 1024));
  auto g = (*store)->get_messages("T", 0, 150, 100, 1 << 20);
  EXPECT_EQ(g->messages.size(), 51u);
}

}  // namespace
}  // namespace rmqc::broker
