// Seed 002's REST walkthrough: every response in the {"status","body"} envelope of the seed.
#include "rest/tests/rest_fixture.h"

#include <httplib.h>

namespace rmqc::rest::testing {
namespace {

class SeedRoutesTest : public RestTest {};

const char* kSeedConfig = R"({
  "connector.class":"org.apache.rocketmq.connect.jdbc.connector.JdbcSourceConnector",
  "max.tasks":"1",
  "connect.topicname":"test-topic-02",
  "connection.url":"jdbc:mysql://{host}:{port}",
  "connection.password":"hunter2",
  "transforms":"Replace",
  "transforms.Replace.class":"org.apache.rocketmq.connect.transforms.PatternRename$Value",
  "key.converter":"org.apache.rocketmq.connect.runtime.converter.record.json.JsonConverter"
})";

json seed_status_body(const std::string& state) {
  return {{"name", "employee-04446"},
          {"connector", {{"state", state}, {"trace", nullptr}, {"workerId", "worker-1"}}},
          {"tasks", {{{"state", state}, {"trace", nullptr}, {"workerId", "worker-1"}, {"id", 0}}}},
          {"type", "SOURCE"}};
}

TEST_F(SeedRoutesTest, WalkthroughCreatePauseResumeListStop) {
  Reply created = post("/connectors/employee-04446", kSeedConfig);
  ASSERT_EQ(created.status, 200) << created.raw;
  EXPECT_EQ(created.body["status"], 200);
  EXPECT_EQ(created.body["body"]["connect.topicname"], "test-topic-02");
  EXPECT_EQ(created.body["body"]["connection.password"], "******");

  Reply status = get("/connectors/employee-04446/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.body, json({{"status", 200}, {"body", seed_status_body("RUNNING")}}));

  Reply paused = get("/connectors/employee-04446/pause");
  EXPECT_EQ(paused.status, 200);
  EXPECT_EQ(paused.body,
            json({{"status", 200}, {"body", "Connector [employee-04446] paused successfully"}}));
  EXPECT_EQ(get("/connectors/employee-04446/status").body["body"], seed_status_body("PAUSED"));

  Reply resumed = get("/connectors/employee-04446/resume");
  EXPECT_EQ(resumed.body,
            json({{"status", 200}, {"body", "Connector [employee-04446] resumed successfully"}}));
  EXPECT_EQ(get("/connectors/employee-04446/status").body["body"], seed_status_body("RUNNING"));

  Reply list = get("/connectors/list");
  EXPECT_EQ(list.status, 200);
  const json& entry = list.body["body"]["employee-04446"];
  EXPECT_EQ(entry["status"], seed_status_body("RUNNING"));
  EXPECT_EQ(entry["info"]["name"], "employee-04446");
  EXPECT_EQ(entry["info"]["config"]["connection.password"], "******");
  EXPECT_EQ(entry["info"]["tasks"], json::parse(R"([{"connector":"employee-04446","task":0}])"));
  EXPECT_EQ(entry["info"]["type"], "SOURCE");

  Reply config = get("/connectors/employee-04446/config");
  EXPECT_EQ(config.status, 200);
  EXPECT_EQ(config.body["body"]["name"], "employee-04446");
  EXPECT_EQ(config.body["body"]["config"]["max.tasks"], "1");
  EXPECT_EQ(config.body["body"]["config"]["connection.password"], "******");
  EXPECT_EQ(config.body["body"]["tasks"][0], json({{"connector", "employee-04446"}, {"task", 0}}));
  EXPECT_EQ(config.body["body"]["type"], "SOURCE");

  Reply tasks = get("/connectors/employee-04446/tasks");
  EXPECT_EQ(tasks.status, 200);
  ASSERT_EQ(tasks.body["body"].size(), 1u);
  EXPECT_EQ(tasks.body["body"][0]["id"], json({{"connector", "employee-04446"}, {"task", 0}}));
  EXPECT_EQ(tasks.body["body"][0]["config"]["task.id"], "0");
  EXPECT_EQ(tasks.body["body"][0]["config"]["connection.password"], "******");

  Reply task = get("/connectors/employee-04446/tasks/0/status");
  EXPECT_EQ(
      task.body,
      json({{"status", 200},
            {"body",
             {{"state", "RUNNING"}, {"trace", nullptr}, {"workerId", "worker-1"}, {"id", 0}}}}));

  Reply stopped = get("/connectors/employee-04446/stop");
  EXPECT_EQ(stopped.body,
            json({{"status", 200}, {"body", "Connector [employee-04446] deleted successfully"}}));
  EXPECT_TRUE(fake_.connector_names().empty());
  EXPECT_EQ(get("/connectors/employee-04446/status").status, 404);
}

TEST_F(SeedRoutesTest, CreateWithGetAndUrlEncodedConfig) {
  std::string query = httplib::detail::encode_query_param(kSeedConfig);
  Reply r = get("/connectors/c1?config=" + query);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["body"]["connect.topicname"], "test-topic-02");
  EXPECT_EQ(r.body["body"]["transforms.Replace.class"],
            "org.apache.rocketmq.connect.transforms.PatternRename$Value");
  EXPECT_EQ(r.body["body"]["connection.password"], "******");
  ASSERT_TRUE(fake_.connector_info("c1").ok());
  EXPECT_EQ(*fake_.connector_info("c1")->config.find("connection.password"), "hunter2");

  // The same again updates (create-or-update).
  Reply again = get("/connectors/c1?config=" + httplib::detail::encode_query_param(
                                                   R"({"connector.class":"X","max.tasks":2})"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(fake_.connector_info("c1")->task_configs.size(), 2u);
}

TEST_F(SeedRoutesTest, BadConfigsAnswerWithTheRealStatusInTheEnvelope) {
  Reply malformed = get("/connectors/c1?config=%7Bnot-json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.body["status"], 400);
  EXPECT_NE(malformed.body["body"].get<std::string>().find("malformed JSON"), std::string::npos);

  Reply empty = post("/connectors/c1", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body["status"], 400);

  Reply missing_class = post("/connectors/c1", R"({"max.tasks":"1"})");
  EXPECT_EQ(missing_class.status, 400);
  EXPECT_NE(missing_class.body["body"].get<std::string>().find("connector.class"),
            std::string::npos);

  Reply nested = post("/connectors/c1", R"({"connector.class":"X","bad":{"a":1}})");
  EXPECT_EQ(nested.status, 400);
  EXPECT_NE(nested.body["body"].get<std::string>().find("'bad'"), std::string::npos);

  Reply not_object = post("/connectors/c1", R"(["a"])");
  EXPECT_EQ(not_object.status, 400);
}

TEST_F(SeedRoutesTest, UnknownConnectorIs404InTheEnvelope) {
  for (const char* path :
       {"/connectors/nope/pause", "/connectors/nope/resume", "/connectors/nope/stop",
        "/connectors/nope/config", "/connectors/nope/status", "/connectors/nope/tasks",
        "/connectors/nope/tasks/0/status"}) {
    Reply r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body["status"], 404) << path;
    EXPECT_TRUE(r.body["body"].is_string()) << path;
  }
  create("c", source_config());
  Reply task = get("/connectors/c/tasks/7/status");
  EXPECT_EQ(task.status, 404);
  Reply bad_id = get("/connectors/c/tasks/x/status");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(bad_id.body["status"], 400);
}

TEST_F(SeedRoutesTest, ControllerErrorsKeepTheirStatusAndScrubSecrets) {
  fake_.fail_next = Error(ErrorCode::kInvalidConfig, "connection.password 'hunter2' is wrong");
  Reply r = post("/connectors/c", R"({"connector.class":"X","connection.password":"hunter2"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["body"], "connection.password '******' is wrong");
  EXPECT_EQ(r.raw.find("hunter2"), std::string::npos);

  create("c", source_config());
  fake_.fail_next = Error(ErrorCode::kTimeout, "worker busy");
  Reply busy = get("/connectors/c/pause");
  EXPECT_EQ(busy.status, 500);
  EXPECT_EQ(busy.body, json({{"status", 500}, {"body", "worker busy"}}));
}

TEST_F(SeedRoutesTest, AllConnectorsPauseResumeStop) {
  create("a", source_config());
  create("b", source_config());
  EXPECT_EQ(get("/connectors/pause/all").body,
            json({{"status", 200}, {"body", "2 connectors are suspended"}}));
  EXPECT_EQ(fake_.connector_state("a")->state, runtime::RunState::kPaused);
  EXPECT_EQ(fake_.connector_state("b")->state, runtime::RunState::kPaused);
  EXPECT_EQ(get("/connectors/resume/all").body,
            json({{"status", 200}, {"body", "2 connectors are resumed"}}));
  EXPECT_EQ(fake_.connector_state("a")->state, runtime::RunState::kRunning);

  fake_.fail_next = Error(ErrorCode::kIoError, "disk full");
  Reply failed = get("/connectors/pause/all");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body["body"].get<std::string>().find("Connector [a] disk full"),
            std::string::npos);

  EXPECT_EQ(get("/connectors/stop/all").body,
            json({{"status", 200}, {"body", "[a, b] connectors are deleted"}}));
  EXPECT_TRUE(fake_.connector_names().empty());
}

TEST_F(SeedRoutesTest, ClusterInfoAndPlugins) {
  EXPECT_EQ(get("/getClusterInfo").body, json({{"status", 200}, {"body", {"worker-1"}}}));

  fake_.plugin_entries = {
      {PluginKind::kSinkConnector, {"org.x.JdbcSinkConnector", {}, "undefined", ""}, "builtin"},
      {PluginKind::kSourceConnector, {"org.x.JdbcSourceConnector", {}, "1.0", ""}, "builtin"},
      {PluginKind::kTransform, {"org.x.PatternRename$Value", {}, "undefined", ""}, "builtin"},
      {PluginKind::kConverter, {"org.x.JsonConverter", {}, "undefined", ""}, "builtin"},
      {PluginKind::kPredicate, {"org.x.TopicNameMatches", {}, "undefined", ""}, "builtin"}};
  Reply all = get("/plugin/list");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.body["body"], json::parse(R"([
    {"className":"org.x.JdbcSinkConnector","type":"SINK","version":"undefined"},
    {"className":"org.x.JdbcSourceConnector","type":"SOURCE","version":"1.0"},
    {"className":"org.x.PatternRename$Value","type":"TRANSFORMATION","version":"undefined"},
    {"className":"org.x.JsonConverter","type":"CONVERTER","version":"undefined"},
    {"className":"org.x.TopicNameMatches","type":"PREDICATE","version":"undefined"}])"));
  Reply connectors = get("/plugin/list/connectors");
  ASSERT_EQ(connectors.body["body"].size(), 2u);
  EXPECT_EQ(connectors.body["body"][1]["className"], "org.x.JdbcSourceConnector");

  EXPECT_EQ(get("/plugin/reload").body,
            json({{"status", 200}, {"body", "Plugin reload succeeded"}}));
  EXPECT_EQ(post("/plugin/reload").status, 200);
  EXPECT_EQ(fake_.reloads, 2u);
  fake_.fail_next = Error(ErrorCode::kIoError, "cannot read dir");
  EXPECT_EQ(get("/plugin/reload").status, 500);
}

TEST_F(SeedRoutesTest, AllocatedConnectorsAndTasks) {
  create("a", source_config());
  KeyValue sink{{"connector.class", "org.x.FileSinkConnector"}, {"max.tasks", "2"}};
  create("b", sink);
  fake_.set_task_state("b", 1, runtime::RunState::kFailed, "boom");

  Reply connectors = get("/allocated/connectors");
  EXPECT_EQ(connectors.status, 200);
  EXPECT_EQ(connectors.body["body"]["a"]["connection.password"], "******");
  EXPECT_EQ(connectors.body["body"]["b"]["max.tasks"], "2");

  Reply tasks = get("/allocated/tasks");
  EXPECT_EQ(tasks.status, 200);
  const json& body = tasks.body["body"];
  for (const char* key :
       {"pendingTasks", "runningTasks", "stoppingTasks", "stoppedTasks", "errorTasks"}) {
    EXPECT_TRUE(body.contains(key)) << key;
  }
  EXPECT_EQ(body["runningTasks"].size(), 2u);
  ASSERT_EQ(body["errorTasks"].size(), 1u);
  EXPECT_EQ(body["errorTasks"][0]["connectorName"], "b");
  EXPECT_EQ(body["errorTasks"][0]["taskState"], "FAILED");
  EXPECT_EQ(body["errorTasks"][0]["config"]["task.id"], "1");
  EXPECT_EQ(body["runningTasks"][0]["config"]["connection.password"], "******");
}

TEST_F(SeedRoutesTest, SharedPathsAnswerKafkaShapeOnRequest) {
  create("c", source_config());
  Reply status = get("/connectors/c/status?format=kafka");
  EXPECT_EQ(status.body["connector"]["worker_id"], "worker-1");
  EXPECT_EQ(status.body["type"], "source");
  Reply config = get("/connectors/c/config?format=kafka");
  EXPECT_EQ(config.body["connect.topicname"], "fileTopic");
  EXPECT_EQ(config.body["connection.password"], "******");
  EXPECT_TRUE(get("/connectors/c/tasks?format=kafka").body.is_array());
  EXPECT_EQ(get("/connectors/c/tasks/0/status?format=kafka").body["worker_id"], "worker-1");
  Reply missing = get("/connectors/x/status?format=kafka");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], 404);

  RestOptions kafka;
  kafka.shared_get_style = ResponseStyle::kKafka;
  start(kafka);
  EXPECT_EQ(get("/connectors/c/status").body["connector"]["worker_id"], "worker-1");
  EXPECT_EQ(get("/connectors/c/status?format=seed").body["status"], 200);
}

TEST_F(SeedRoutesTest, MutatingGetsCanBeTurnedOff) {
  RestOptions options;
  options.allow_mutating_get = false;
  start(options);
  create("c", source_config());
  Reply pause = get("/connectors/c/pause");
  EXPECT_EQ(pause.status, 405);
  EXPECT_EQ(pause.body["status"], 405);
  EXPECT_EQ(fake_.connector_state("c")->state, runtime::RunState::kRunning);
  EXPECT_EQ(post("/connectors/c/pause").status, 200);
  EXPECT_EQ(fake_.connector_state("c")->state, runtime::RunState::kPaused);
  EXPECT_EQ(get("/connectors/d?config=%7B%7D").status, 405);
  EXPECT_EQ(get("/connectors/c/status").status, 200);  // reads still work
}

}  // namespace
}  // namespace rmqc::rest::testing
