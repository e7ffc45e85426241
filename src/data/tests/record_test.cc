#include "rmqc/api/record.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

namespace rmqc {
namespace {

TEST(RecordTest, PartitionsAndOffsetsCompareByValue) {
  RecordPartition a{{"file", "a.txt"}, {"shard", 1}};
  RecordPartition b{{"shard", 1}, {"file", "a.txt"}};
  RecordPartition c{{"file", "b.txt"}};
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_FALSE(a == c);
  std::unordered_set<RecordPartition> set{a, b, c};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(a < c || c < a);
  EXPECT_FALSE(a < b || b < a);
  RecordOffset o1{{"line", std::int64_t{5}}};
  RecordOffset o2{{"line", std::int64_t{5}}};
  EXPECT_EQ(o1, o2);
  EXPECT_EQ(o1.hash(), o2.hash());
  OffsetMap offsets;
  offsets[a] = o1;
  EXPECT_EQ(offsets.at(b), o2);
  EXPECT_EQ(o1.find("line")->as_int64(), 5);
}

TEST(RecordTest, PositionMapKeepsKeysSortedAndUniqueAsStdMap) {
  PositionMap m{{"pos", std::int64_t{4}}, {"file", "bin.000001"}, {"pos", std::int64_t{9}}};
  ASSERT_EQ(m.size(), 2u);  // the first of equal keys wins, as std::map's initializer list
  EXPECT_EQ(m.begin()->first, "file");
  EXPECT_EQ(m.at("pos").as_int64(), 4);
  EXPECT_FALSE(m.emplace("pos", std::int64_t{7}).second);
  EXPECT_EQ(m.at("pos").as_int64(), 4);
  EXPECT_FALSE(m.insert_or_assign("pos", std::int64_t{7}).second);
  EXPECT_EQ(m.at("pos").as_int64(), 7);
  m["gtid"] = "0-1-5";
  m.emplace_hint(m.end(), "row", std::int64_t{1});    // in order: appended
  m.emplace_hint(m.end(), "event", std::int64_t{2});  // out of order: still sorted
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"event", "file", "gtid", "pos", "row"}));
  EXPECT_TRUE(m.contains("gtid"));
  EXPECT_EQ(m.count("none"), 0u);
  EXPECT_EQ(m.find("none"), m.end());
  EXPECT_THROW(m.at("none"), std::out_of_range);
  EXPECT_EQ(m.erase("gtid"), 1u);
  EXPECT_EQ(m.erase("gtid"), 0u);
  EXPECT_EQ(m.size(), 4u);
  PositionMap same{{"row", std::int64_t{1}},
                   {"pos", std::int64_t{7}},
                   {"file", "bin.000001"},
                   {"event", std::int64_t{2}}};
  EXPECT_EQ(m, same);
}

TEST(RecordTest, CopiedPartitionsShareTheirEntries) {
  RecordPartition a{{"server", "inventory"}};
  RecordPartition copy = a;  // NOLINT: the copy is what is tested
  EXPECT_EQ(&a.partition(), &copy.partition());
  EXPECT_EQ(copy, a);
  EXPECT_EQ(copy.hash(), RecordPartition({{"server", "inventory"}}).hash());
  RecordPartition empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(RecordPartition(PositionMap{}).empty());
  EXPECT_EQ(empty, RecordPartition(PositionMap{}));
  EXPECT_FALSE(empty == a);
  EXPECT_TRUE(empty.partition().empty());
  EXPECT_EQ(empty.find("server"), nullptr);
  EXPECT_TRUE(empty < a);
}

TEST(RecordTest, ConnectRecordCarriesKeyValueAndExtensions) {
  ConnectRecord r({{"file", "a"}}, {{"line", std::int64_t{1}}}, 1000, schemas::string(), "k",
                  schemas::string(), "v");
  r.add_extension("topic", "orders");
  ASSERT_NE(r.extension("topic"), nullptr);
  EXPECT_EQ(*r.extension("topic"), "orders");
  EXPECT_EQ(r.extension("none"), nullptr);
  EXPECT_EQ(r.topic(), "orders");
  ConnectRecord sink_side({{"topic", "in"}, {"queueId", 1}}, {{"queueOffset", std::int64_t{9}}}, 0);
  EXPECT_EQ(sink_side.topic(), "in");
  sink_side.set_topic("routed");
  EXPECT_EQ(sink_side.topic(), "routed");
  EXPECT_EQ(ConnectRecord().topic(), "");
  auto copy = r.with(nullptr, nullptr, schemas::of(FieldType::kInt32), 5);
  EXPECT_EQ(copy.value.as_int32(), 5);
  EXPECT_EQ(copy.position, r.position);
  EXPECT_EQ(copy.timestamp, 1000);
  EXPECT_EQ(*copy.extension("topic"), "orders");
}

}  // namespace
}  // namespace rmqc
