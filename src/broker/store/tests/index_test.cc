// The message index behind QUERY_MESSAGE: lookups by KEYS word and UNIQ_KEY, time ranges,
// file rolls, a reopen, a crash (kill -9 state) and a lost index directory.
#include "broker/store/message_store.h"
#include "broker/store/tests/store_test_util.h"
#include "broker/store/tests/temp_dir.h"
#include "rocketmq/protocol/message_properties.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <set>

namespace rmqc::broker {
namespace {

using testing::small_config;
using testing::TempDir;

StoreConfig index_config(const std::string& dir) {
  auto c = small_config(dir);
  c.index.slots = 64;              // many collisions: lookups must still be exact
  c.index.entries_per_file = 100;  // several files
  return c;
}

// A record of `topic` with KEYS and UNIQ_KEY properties.
Result<PutResult> put_keyed(MessageStore& store, std::string_view topic, std::string_view body,
                            std::string_view keys, std::string_view uniq) {
  std::string props;
  if (!keys.empty()) rocketmq::append_property(props, "KEYS", keys);
  if (!uniq.empty()) rocketmq::append_property(props, "UNIQ_KEY", uniq);
  rocketmq::StoredMessageView m;
  m.born_timestamp = 1700000000000;
  m.born_host = rocketmq::SocketAddress::ipv4(127, 0, 0, 1, 5000);
  m.store_host = rocketmq::SocketAddress::ipv4(127, 0, 0, 1, 10911);
  m.body = body;
  m.topic = topic;
  m.properties = props;
  std::string rec;
  if (auto r = rocketmq::append_stored_message(m, rec); !r.ok()) return r.error();
  return store.put_message(std::span<char>(rec.data(), rec.size()));
}

std::set<std::string> found_bodies(const QueryMessageResult& r) {
  std::set<std::string> out;
  for (const auto& m : r.found.messages) {
    auto d = rocketmq::decode_stored_message(m.bytes);
    out.insert(d.ok() ? std::string(d->body) : "<corrupt>");
  }
  return out;
}

constexpr int64_t kAll = std::numeric_limits<int64_t>::max();

// 300 messages: body b<i>, KEYS "k<i%50> all", UNIQ_KEY u<i>; every 7th in topic Other.
void fill(MessageStore& s, int n = 300) {
  for (int i = 0; i < n; ++i) {
    auto r = put_keyed(s, i % 7 == 0 ? "Other" : "T", "b" + std::to_string(i),
                       "k" + std::to_string(i % 50) + " all", "u" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
}

void expect_lookups(MessageStore& s, int n = 300) {
  for (int i = 0; i < n; i += 13) {
    auto r = s.query_messages(i % 7 == 0 ? "Other" : "T", "u" + std::to_string(i), 32, 0, kAll);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(found_bodies(*r), std::set<std::string>{"b" + std::to_string(i)}) << i;
  }
  // k3: i = 3, 53, 103, ... (those with i % 7 == 0 are in Other)
  std::set<std::string> k3;
  for (int i = 3; i < n; i += 50) {
    if (i % 7 != 0) k3.insert("b" + std::to_string(i));
  }
  auto r = s.query_messages("T", "k3", 64, 0, kAll);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(found_bodies(*r), k3);
  EXPECT_GT(r->index_last_update_timestamp, 0);
  EXPECT_GT(r->index_last_update_phys_offset, 0);
}

TEST(MessageIndex, FindsByKeyAndUniqueKeyExactlyDespiteCollisions) {
  TempDir tmp;
  auto store = MessageStore::open(index_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  fill(**store);
  expect_lookups(**store);
  // Nothing for an unknown key, a key of another topic, or a time range before the messages.
  auto none = (*store)->query_messages("T", "nope", 32, 0, kAll);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->found.messages.empty());
  auto other = (*store)->query_messages("T", "u0", 32, 0, kAll);  // u0 is in Other
  EXPECT_TRUE(other->found.messages.empty());
  auto early = (*store)->query_messages("T", "u1", 32, 0, 1000);
  EXPECT_TRUE(early->found.messages.empty());
  // maxNum caps the answer; newest first.
  auto all = (*store)->query_messages("T", "all", 10, 0, kAll);
  ASSERT_EQ(all->found.messages.size(), 10u);
  EXPECT_GT(all->found.messages.front().physical_offset,
            all->found.messages.back().physical_offset);
  EXPECT_GE(std::distance(std::filesystem::directory_iterator(tmp.path() + "/index"),
                          std::filesystem::directory_iterator()),
            3);
}

TEST(MessageIndex, SurvivesReopenCrashAndLostIndex) {
  TempDir tmp;
  {
    auto store = MessageStore::open(index_config(tmp.path()));
    ASSERT_TRUE(store.ok());
    fill(**store, 150);
  }
  {
    auto c = index_config(tmp.path());
    c.flush_interval = std::chrono::hours(1);  // nothing of the new entries is flushed
    auto store = MessageStore::open(c);
    ASSERT_TRUE(store.ok());
    expect_lookups(**store, 150);
    // More messages, then a crash: no flush, the index's buffered entries are lost.
    for (int i = 150; i < 300; ++i) {
      ASSERT_TRUE(put_keyed(**store, i % 7 == 0 ? "Other" : "T", "b" + std::to_string(i),
                            "k" + std::to_string(i % 50) + " all", "u" + std::to_string(i))
                      .ok());
    }
    (*store)->close_without_flush_for_testing();
  }
  {
    auto c = index_config(tmp.path());
    c.flush_interval = std::chrono::hours(1);
    auto store = MessageStore::open(c);
    ASSERT_TRUE(store.ok());
    expect_lookups(**store, 300);
  }
  std::filesystem::remove_all(tmp.path() + "/index");
  auto store = MessageStore::open(index_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  expect_lookups(**store, 300);
}

TEST(MessageIndex, MessagesWithoutKeysAreNotFoundAndDoNotBreakTheIndex) {
  TempDir tmp;
  auto store = MessageStore::open(index_config(tmp.path()));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(testing::put(**store, "T", 0, "plain").ok());
  auto r = (*store)->query_messages("T", "plain", 32, 0, kAll);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->found.messages.empty());
  ASSERT_TRUE(put_keyed(**store, "T", "keyed", "K1", "").ok());
  r = (*store)->query_messages("T", "K1", 32, 0, kAll);
  EXPECT_EQ(found_bodies(*r), std::set<std::string>{"keyed"});
}

}  // namespace
}  // namespace rmqc::broker
