#include "rmqc/api/record.h"

#include <gtest/gtest.h>

#include <unordered_set>

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
