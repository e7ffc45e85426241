#include "config/properties.h"
#include "config/worker_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

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

TEST(WorkerConfigTest, DistributedKeys) {
  auto d = parse_worker_config(KeyValue{});
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->cluster_store_topic, "connector-cluster-topic");
  EXPECT_EQ(d->config_store_topic, "connector-config-topic");
  EXPECT_EQ(d->position_store_topic, "connector-position-topic");
  EXPECT_EQ(d->connect_status_topic, "connector-status-topic");
  EXPECT_EQ(d->alloc_task_strategy,
            "org.apache.rocketmq.connect.runtime.service.strategy."
            "DefaultAllocateConnAndTaskStrategy");
  EXPECT_EQ(d->virtual_node, 100);
  EXPECT_EQ(d->config_persist_interval, std::chrono::milliseconds(20000));
  EXPECT_EQ(d->position_persist_interval, std::chrono::milliseconds(20000));
  EXPECT_EQ(d->state_persist_interval, std::chrono::milliseconds(20000));
  EXPECT_EQ(d->membership_poll_interval, std::chrono::milliseconds(10000));
  EXPECT_TRUE(d->unknown_keys.empty());

  auto c = parse_worker_config(KeyValue{{"clusterStoreTopic", "cl"},
                                        {"configStoreTopic", "cf"},
                                        {"positionStoreTopic", "po"},
                                        {"connectStatusTopic", "st"},
                                        {"allocTaskStrategy", " Consistent-Hash "},
                                        {"virtualNode", "7"},
                                        {"configPersistInterval", "1000"},
                                        {"positionPersistInterval", "2000"},
                                        {"statePersistInterval", "3000"},
                                        {"membershipPollIntervalMs", "500"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->cluster_store_topic, "cl");
  EXPECT_EQ(c->config_store_topic, "cf");
  EXPECT_EQ(c->position_store_topic, "po");
  EXPECT_EQ(c->connect_status_topic, "st");
  EXPECT_EQ(c->alloc_task_strategy, "consistent-hash");  // canonical spelling
  EXPECT_EQ(c->virtual_node, 7);
  EXPECT_EQ(c->config_persist_interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(c->position_persist_interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(c->state_persist_interval, std::chrono::milliseconds(3000));
  EXPECT_EQ(c->membership_poll_interval, std::chrono::milliseconds(500));

  for (const char* name : {"round-robin", "default", "hash",
                           "org.apache.rocketmq.connect.runtime.service.strategy."
                           "AllocateConnAndTaskStrategyByConsistentHash"}) {
    auto s = parse_worker_config(KeyValue{{"allocTaskStrategy", name}});
    ASSERT_TRUE(s.ok()) << name << ": " << s.error().to_string();
    EXPECT_EQ(s->alloc_task_strategy, name);
  }
  auto bad = parse_worker_config(KeyValue{{"allocTaskStrategy", "random"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("allocTaskStrategy"), std::string::npos);
  EXPECT_FALSE(parse_worker_config(KeyValue{{"virtualNode", "-1"}}).ok());
  EXPECT_TRUE(parse_worker_config(KeyValue{{"virtualNode", "0"}}).ok());  // Java files: ours
  EXPECT_FALSE(parse_worker_config(KeyValue{{"configStoreTopic", " "}}).ok());
  EXPECT_FALSE(parse_worker_config(KeyValue{{"statePersistInterval", "0"}}).ok());
}

}  // namespace
}  // namespace rmqc::config

namespace rmqc::config {
namespace {

// Metrics keys, ours and the Java runtime's (openLogMetricReporter, metricsConfigPath with
// metrics.reporter and metrics.topic).
TEST(WorkerConfigTest, MetricsReporterKeys) {
  auto d = parse_worker_config(KeyValue{});
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_TRUE(d->metrics_enabled);
  EXPECT_TRUE(d->metrics_reporters.empty());
  EXPECT_EQ(d->metrics_report_interval, std::chrono::milliseconds(10000));
  EXPECT_EQ(d->metrics_topic, "connect-metrics");

  auto c = parse_worker_config(KeyValue{{"metrics.reporters", "rocketmq, LOG"},
                                        {"openLogMetricReporter", "true"},
                                        {"metrics.enabled", "false"},
                                        {"metrics.report.interval.ms", "500"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->metrics_reporters, (std::vector<std::string>{"rocketmq", "log"}));
  EXPECT_FALSE(c->metrics_enabled);
  EXPECT_EQ(c->metrics_report_interval, std::chrono::milliseconds(500));

  const std::string path =
      ::testing::TempDir() + "/rmqc_metrics_" + std::to_string(::getpid()) + ".conf";
  {
    std::ofstream f(path);
    f << "metrics.reporter=org.apache.rocketmq.connect.metrics.reporter.RocketMQScheduledReporter\n"
         "metrics.topic=java-metrics\nname.srv.addr=127.0.0.1:9876\n";
  }
  auto java = parse_worker_config(KeyValue{{"metricsConfigPath", path}});
  ASSERT_TRUE(java.ok()) << java.error().to_string();
  EXPECT_EQ(java->metrics_reporters, std::vector<std::string>{"rocketmq"});
  EXPECT_EQ(java->metrics_topic, "java-metrics");
  auto ours_win =
      parse_worker_config(KeyValue{{"metricsConfigPath", path}, {"metrics.topic", "t"}});
  ASSERT_TRUE(ours_win.ok());
  EXPECT_EQ(ours_win->metrics_topic, "t");
  std::remove(path.c_str());

  auto unknown = parse_worker_config(KeyValue{{"metrics.reporters", "jmx"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("'jmx' is unknown"), std::string::npos);
  EXPECT_FALSE(parse_worker_config(KeyValue{{"metricsConfigPath", path}}).ok())
      << "a missing metrics.conf is an error";
  EXPECT_FALSE(parse_worker_config(KeyValue{{"metrics.report.interval.ms", "10"}}).ok());
}

}  // namespace
}  // namespace rmqc::config
