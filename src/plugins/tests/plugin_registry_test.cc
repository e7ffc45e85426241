#include "plugins/plugin_registry.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace rmqc::plugins {
namespace {

class EchoConverter : public RecordConverter {
 public:
  Result<void> from_connect_data(std::string_view, const SchemaPtr&, const Value& value,
                                 std::string& out) override {
    out = value.to_string();
    return {};
  }
  Result<SchemaAndValue> to_connect_data(std::string_view, std::string_view bytes) override {
    return SchemaAndValue{schemas::string(), Value(bytes)};
  }
};

class ThrowingTransform : public Transform {
 public:
  ThrowingTransform() { throw std::runtime_error("boom"); }
  void start(const KeyValue&) override {}
  std::optional<ConnectRecord> do_transform(ConnectRecord r) override { return r; }
};

TEST(PluginRegistryTest, ResolvesClassNamesAndAliases) {
  PluginRegistry registry;
  registry.add_converter<EchoConverter>({"org.example.EchoConverter", {"Echo"}, "1.0", "echo"});
  auto by_class = registry.create_converter("org.example.EchoConverter");
  ASSERT_TRUE(by_class.ok());
  auto by_alias = registry.create_converter("Echo");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(*(*by_alias)->from_connect_data("t", nullptr, Value(5)), "5");
  ASSERT_NE(registry.find("Echo"), nullptr);
  EXPECT_EQ(registry.find("Echo")->kind, PluginKind::kConverter);
  EXPECT_EQ(registry.find("Echo")->origin, "builtin");
  EXPECT_EQ(registry.list().size(), 1u);
}

TEST(PluginRegistryTest, ClearErrors) {
  PluginRegistry registry;
  registry.add_converter<EchoConverter>({"Echo", {}, "1", ""});
  auto missing = registry.create_converter("Nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "no converter plugin named 'Nope'");
  auto wrong_kind = registry.create_transform("Echo");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.error().message(), "'Echo' is a converter plugin, not a transform");
  registry.add_transform<ThrowingTransform>({"Boom", {}, "1", ""});
  auto thrown = registry.create_transform("Boom");
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().message(), "plugin 'Boom' failed to construct: boom");
}

TEST(PluginRegistryTest, DuplicatesAreReportedFirstWins) {
  PluginRegistry registry;
  registry.add_converter<EchoConverter>({"Echo", {}, "1", ""});
  registry.set_origin("/plugins/libother.so");
  registry.add_converter<EchoConverter>({"Echo", {}, "2", ""});
  ASSERT_EQ(registry.conflicts().size(), 1u);
  EXPECT_EQ(registry.conflicts()[0], "Echo (converter from /plugins/libother.so)");
  EXPECT_EQ(registry.find("Echo")->descriptor.version, "1");
}

}  // namespace
}  // namespace rmqc::plugins
