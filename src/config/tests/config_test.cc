#include "config/properties.h"
#include "config/worker_config.h"

#include <gtest/gtest.h>

namespace rmqc::config {
namespace {

TEST(PropertiesTest, JavaSyntax) {
  auto kv = parse_properties(
      "# comment\n"
      "! also a comment\n"
      "workerId = standalone-worker\n"
      "httpPort:8083\n"
      "pluginPaths /a, \\\n"
      "    /b\n"
      "empty=\n"
      "unicode=caf\\u00e9\r\n"
      "spaced\\ key=v\n"
      "  \n");
  ASSERT_TRUE(kv.ok()) << kv.error().to_string();
  EXPECT_EQ(kv->get_string("workerId"), "standalone-worker");
  EXPECT_EQ(kv->get_string("httpPort"), "8083");
  EXPECT_EQ(kv->get_string("pluginPaths"), "/a, /b");
  EXPECT_TRUE(kv->contains("empty"));
  EXPECT_EQ(kv->get_string("unicode"), "café");
  EXPECT_EQ(kv->get_string("spaced key"), "v");
  EXPECT_EQ(kv->size(), 6u);
  EXPECT_FALSE(parse_properties("k=\\u12").ok());
}

TEST(WorkerConfigTest, DefaultsAndUnknownKeys) {
  auto c = parse_worker_config(KeyValue{{"workerId", "w1"},
                                        {"storePathRootDir", "/tmp/x"},
                                        {"configStoreTopic", "t"},
                                        {"typoKey", "1"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->worker_id, "w1");
  EXPECT_EQ(c->http_port, 8082);
  EXPECT_EQ(c->http_host, "127.0.0.1");
  EXPECT_TRUE(c->namesrv_addr.empty());
  EXPECT_EQ(c->offset_commit_interval, std::chrono::milliseconds(30000));
  EXPECT_EQ(c->value_converter,
            "org.apache.rocketmq.connect.runtime.converter.record.StringConverter");
  EXPECT_EQ(c->unknown_keys, std::vector<std::string>{"typoKey"});
  EXPECT_EQ(c->redact_keys, (std::vector<std::string>{"password", "secret", "token"}));
  EXPECT_TRUE(c->binary_headers);
}

TEST(WorkerConfigTest, RemotingSerializeType) {
  auto json = parse_worker_config(KeyValue{{"remotingSerializeType", " json "}});
  ASSERT_TRUE(json.ok()) << json.error().to_string();
  EXPECT_FALSE(json->binary_headers);
  auto binary = parse_worker_config(KeyValue{{"remotingSerializeType", "ROCKETMQ"}});
  ASSERT_TRUE(binary.ok());
  EXPECT_TRUE(binary->binary_headers);
  auto bad = parse_worker_config(KeyValue{{"remotingSerializeType", "protobuf"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("remotingSerializeType"), std::string::npos);
}

TEST(WorkerConfigTest, BadValuesNameTheKey) {
  auto bad = parse_worker_config(KeyValue{{"httpPort", "eighty"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("httpPort"), std::string::npos);
  auto acl = parse_worker_config(KeyValue{{"aclEnable", "true"}});
  ASSERT_FALSE(acl.ok());
  EXPECT_EQ(acl.error().message(), "aclEnable=true needs accessKey and secretKey");
}

}  // namespace
}  // namespace rmqc::config
