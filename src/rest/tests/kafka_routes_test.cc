// The Kafka-Connect-style verbs: bare bodies, {"error_code","message"} errors, 201/202/204.
#include "rest/tests/rest_fixture.h"

namespace rmqc::rest::testing {
namespace {

class KafkaRoutesTest : public RestTest {};

TEST_F(KafkaRoutesTest, RootAndHealth) {
  Reply root = get("/");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(root.body["version"], "0.1.0");
  EXPECT_TRUE(root.body["commit"].is_string());
  EXPECT_FALSE(root.body["commit"].get<std::string>().empty());
  EXPECT_EQ(root.body["kafka_cluster_id"], "cluster-a");
  EXPECT_EQ(root.body["worker_id"], "worker-1");
  EXPECT_EQ(root.body["mode"], "standalone");
  Reply health = get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body["status"], "healthy");
}

TEST_F(KafkaRoutesTest, CreateWithPostConnectors) {
  Reply created = post("/connectors", R"({"name":"c","config":{"connector.class":"X",
      "max.tasks":2,"connection.password":"pw"}})");
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.header("Location"), "/connectors/c");
  EXPECT_EQ(created.body["name"], "c");
  EXPECT_EQ(created.body["config"]["max.tasks"], "2");
  EXPECT_EQ(created.body["config"]["connection.password"], "******");
  EXPECT_EQ(created.body["tasks"].size(), 2u);
  EXPECT_EQ(created.body["type"], "source");

  Reply duplicate = post("/connectors", R"({"name":"c","config":{"connector.class":"X"}})");
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["error_code"], 409);
  EXPECT_TRUE(duplicate.body["message"].is_string());

  EXPECT_EQ(post("/connectors", R"({"config":{}})").status, 400);
  EXPECT_EQ(post("/connectors", R"({"name":"d"})").status, 400);
  EXPECT_EQ(post("/connectors", R"({"name":"d","config":{"name":"e"}})").status, 400);
  Reply bad_class = post("/connectors", R"({"name":"d","config":{"max.tasks":"1"}})");
  EXPECT_EQ(bad_class.status, 400);
  EXPECT_NE(bad_class.body["message"].get<std::string>().find("connector.class"),
            std::string::npos);
  Reply malformed = post("/connectors", R"({"name":)");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body["message"].get<std::string>().find("malformed JSON"), std::string::npos);
  EXPECT_EQ(post("/connectors", R"({"name":"d","config":{"connector.class":"X"},
      "initial_state":"SLEEPING"})")
                .status,
            400);
}

TEST_F(KafkaRoutesTest, NamesAreEncodedInLocation) {
  Reply r = post("/connectors", R"({"name":"a b/c","config":{"connector.class":"X"}})");
  ASSERT_EQ(r.status, 201);
  // Sent as /connectors/a%20b%2Fc; httplib's client decodes Location when it parses it.
  EXPECT_EQ(r.header("Location"), "/connectors/a b/c");
  EXPECT_EQ(get("/connectors/a%20b%2Fc").body["name"], "a b/c");
}

TEST_F(KafkaRoutesTest, InitialState) {
  Reply r = post("/connectors", R"({"name":"p","config":{"connector.class":"X"},
      "initial_state":"PAUSED"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(fake_.connector_info("p")->target_state, runtime::TargetState::kPaused);
  // Created paused, not created running and paused afterwards.
  EXPECT_TRUE(fake_.calls.empty()) << fake_.calls.front();
}

TEST_F(KafkaRoutesTest, PutConfigCreatesThenUpdates) {
  Reply created = put("/connectors/c/config", R"({"connector.class":"X","max.tasks":"1"})");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body["name"], "c");
  Reply updated = put("/connectors/c/config", R"({"connector.class":"X","max.tasks":"3"})");
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.body["tasks"].size(), 3u);
  EXPECT_EQ(put("/connectors/c/config", R"({"connector.class":"X","name":"other"})").status, 400);
  EXPECT_EQ(put("/connectors/c/config", "{oops").status, 400);
  EXPECT_EQ(put("/connectors/c/config", "").status, 400);
}

TEST_F(KafkaRoutesTest, ListWithExpand) {
  create("a", source_config());
  create("b", source_config());
  EXPECT_EQ(get("/connectors").body, json({"a", "b"}));
  Reply status = get("/connectors?expand=status");
  EXPECT_EQ(status.body["a"]["status"]["connector"]["state"], "RUNNING");
  EXPECT_FALSE(status.body["a"].contains("info"));
  Reply both = get("/connectors?expand=status&expand=info&expand=bogus");
  EXPECT_EQ(both.body["b"]["info"]["config"]["connection.password"], "******");
  EXPECT_EQ(both.body["b"]["status"]["tasks"][0]["worker_id"], "worker-1");
}

TEST_F(KafkaRoutesTest, InfoDeleteAndNotFound) {
  create("c", source_config());
  Reply info = get("/connectors/c");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.body["name"], "c");
  EXPECT_EQ(info.body["config"]["connection.password"], "******");
  EXPECT_EQ(info.body["tasks"], json::parse(R"([{"connector":"c","task":0}])"));
  EXPECT_EQ(info.body["type"], "source");

  Reply deleted = del("/connectors/c");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.raw.empty());
  Reply missing = del("/connectors/c");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], 404);
  EXPECT_EQ(get("/connectors/c").status, 404);
  EXPECT_EQ(get("/connectors/c").body["error_code"], 404);
}

TEST_F(KafkaRoutesTest, PauseResumeStopAre202) {
  create("c", source_config());
  EXPECT_EQ(put("/connectors/c/pause").status, 202);
  EXPECT_EQ(fake_.connector_info("c")->target_state, runtime::TargetState::kPaused);
  EXPECT_EQ(put("/connectors/c/stop").status, 202);
  EXPECT_EQ(fake_.connector_info("c")->target_state, runtime::TargetState::kStopped);
  ASSERT_TRUE(fake_.connector_info("c").ok());  // Kafka's stop keeps the connector
  EXPECT_EQ(put("/connectors/c/resume").status, 202);
  EXPECT_EQ(fake_.connector_info("c")->target_state, runtime::TargetState::kStarted);
  Reply missing = put("/connectors/x/pause");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], 404);
}

TEST_F(KafkaRoutesTest, Restart) {
  create("c", source_config());
  Reply plain = post("/connectors/c/restart");
  EXPECT_EQ(plain.status, 204);
  Reply tasks = post("/connectors/c/restart?includeTasks=true&onlyFailed=true");
  EXPECT_EQ(tasks.status, 202);
  EXPECT_EQ(tasks.body["name"], "c");
  EXPECT_EQ(tasks.body["tasks"][0]["state"], "RUNNING");
  EXPECT_EQ(fake_.calls,
            (std::vector<std::string>{"restart c false false", "restart c true true"}));
  EXPECT_EQ(post("/connectors/c/restart?includeTasks=yes").status, 400);
  EXPECT_EQ(post("/connectors/x/restart").status, 404);

  EXPECT_EQ(post("/connectors/c/tasks/0/restart").status, 204);
  EXPECT_EQ(fake_.calls.back(), "restart_task c 0");
  EXPECT_EQ(post("/connectors/c/tasks/5/restart").status, 404);
  EXPECT_EQ(post("/connectors/c/tasks/-1/restart").status, 400);
}

TEST_F(KafkaRoutesTest, Offsets) {
  create("c", source_config());
  fake_.offsets.push_back({RecordPartition{{"filename", Value("/tmp/in.txt")}},
                           RecordOffset{{"position", Value(std::int64_t{42})}}});
  fake_.offsets.push_back(
      {RecordPartition{
           {"topic", Value("t")}, {"brokerName", Value("b")}, {"queueId", Value(std::int32_t{3})}},
       RecordOffset{{"queueOffset", Value(std::int64_t{7})}}});
  Reply r = get("/connectors/c/offsets");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json::parse(R"({"offsets":[
      {"partition":{"filename":"/tmp/in.txt"},"offset":{"position":42}},
      {"partition":{"brokerName":"b","queueId":3,"topic":"t"},"offset":{"queueOffset":7}}]})"));
  EXPECT_EQ(get("/connectors/x/offsets").status, 404);
}

TEST_F(KafkaRoutesTest, ConnectorPlugins) {
  fake_.plugin_entries = {
      {PluginKind::kSinkConnector, {"org.x.FileSinkConnector", {}, "1.0", ""}, "builtin"},
      {PluginKind::kTransform, {"org.x.PatternRename$Value", {}, "undefined", ""}, "builtin"},
      {PluginKind::kConverter, {"org.x.JsonConverter", {}, "undefined", ""}, "builtin"}};
  EXPECT_EQ(get("/connector-plugins").body,
            json::parse(R"([{"class":"org.x.FileSinkConnector","type":"sink","version":"1.0"}])"));
  Reply all = get("/connector-plugins?connectorsOnly=false");
  ASSERT_EQ(all.body.size(), 3u);
  EXPECT_EQ(all.body[1]["type"], "transformation");
  EXPECT_EQ(all.body[2]["type"], "converter");
  EXPECT_EQ(get("/connector-plugins?connectorsOnly=nah").status, 400);
}

TEST_F(KafkaRoutesTest, ValidateReportsPerKeyErrorsAndRedacts) {
  Reply r = put("/connector-plugins/FileSource/config/validate",
                R"({"max.tasks":"0","connection.password":"hunter2","api.token":"abc"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.raw.find("hunter2"), std::string::npos);
  EXPECT_EQ(r.raw.find("abc"), std::string::npos);
  EXPECT_EQ(r.body["name"], "FileSource");
  EXPECT_EQ(r.body["error_count"], 2);
  ASSERT_EQ(r.body["configs"].size(), 4u);
  const json& cls = r.body["configs"][0];
  EXPECT_EQ(cls["definition"]["name"], "connector.class");
  EXPECT_EQ(cls["definition"]["required"], true);
  EXPECT_EQ(cls["definition"]["type"], "STRING");
  EXPECT_EQ(cls["value"]["value"], "FileSource");  // filled in from the path
  EXPECT_TRUE(cls["value"]["errors"].empty());
  const json& tasks = r.body["configs"][1];
  EXPECT_EQ(tasks["definition"]["default_value"], "1");
  EXPECT_EQ(tasks["value"]["value"], "0");
  ASSERT_EQ(tasks["value"]["errors"].size(), 1u);
  EXPECT_EQ(r.body["configs"][2]["value"]["value"], "******");
  EXPECT_EQ(r.body["configs"][3]["value"]["value"], "******");
  EXPECT_EQ(r.body["other_errors"], json({"token '******' is too short"}));

  EXPECT_EQ(put("/connector-plugins/Unknown/config/validate", "{}").status, 404);
  EXPECT_EQ(put("/connector-plugins/FileSource/config/validate", "[").status, 400);

  Reply defs = get("/connector-plugins/FileSource/config");
  ASSERT_EQ(defs.status, 200);
  ASSERT_EQ(defs.body.size(), 4u);
  EXPECT_EQ(defs.body[0]["name"], "connector.class");
}

TEST_F(KafkaRoutesTest, ThrowingControllerIs500NotACrash) {
  fake_.throw_on_list = true;
  Reply r = get("/connectors");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body["error_code"], 500);
  Reply seed = get("/connectors/list");
  EXPECT_EQ(seed.status, 500);
  EXPECT_EQ(seed.body["status"], 500);
  fake_.throw_on_list = false;
  EXPECT_EQ(get("/connectors").status, 200);
}

}  // namespace
}  // namespace rmqc::rest::testing

namespace rmqc::rest::testing {
namespace {

class KafkaVerbsTest : public RestTest {
 protected:
  Reply patch(const std::string& path, const std::string& body) {
    return convert(client_->Patch(path, body, "application/json"));
  }
};

TEST_F(KafkaVerbsTest, PatchConfigMergesAndNullRemoves) {
  create("src", source_config());
  Reply r = patch("/connectors/src/config",
                  R"({"max.tasks": 3, "connect.topicname": null, "extra": "x"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "src");
  EXPECT_EQ(r.body["config"]["max.tasks"], "3");
  EXPECT_EQ(r.body["config"]["extra"], "x");
  EXPECT_FALSE(r.body["config"].contains("connect.topicname"));
  EXPECT_EQ(r.body["config"]["connection.password"], "******");  // redacted as everywhere
  auto info = fake_.connector_info("src");
  EXPECT_FALSE(info->config.contains("connect.topicname"));
  EXPECT_EQ(info->config.get_string("connection.password"), "hunter2");  // kept
  EXPECT_EQ(patch("/connectors/nope/config", R"({"a":"b"})").status, 404);
  EXPECT_EQ(patch("/connectors/src/config", "[1]").status, 400);
  EXPECT_EQ(patch("/connectors/src/config", R"({"name":"other"})").status, 400);
  EXPECT_EQ(patch("/connectors/src/config", R"({"connector.class":null})").status, 400);
  EXPECT_EQ(patch("/connectors/src/config", "{").status, 400);
}

TEST_F(KafkaVerbsTest, OffsetsOnlyWhenStopped) {
  create("src", source_config());
  const std::string body =
      R"({"offsets":[{"partition":{"file":"/tmp/in"},"offset":{"position":42}}]})";
  Reply running = patch("/connectors/src/offsets", body);
  EXPECT_EQ(running.status, 400);
  EXPECT_NE(running.body["message"].get<std::string>().find("STOPPED"), std::string::npos);
  EXPECT_EQ(del("/connectors/src/offsets").status, 400);
  ASSERT_EQ(put("/connectors/src/stop").status, 202);
  Reply r = patch("/connectors/src/offsets", body);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["message"], "The offsets for this connector have been altered successfully");
  Reply got = get("/connectors/src/offsets");
  ASSERT_EQ(got.body["offsets"].size(), 1u);
  EXPECT_EQ(got.body["offsets"][0]["partition"]["file"], "/tmp/in");
  EXPECT_EQ(got.body["offsets"][0]["offset"]["position"], 42);
  // null removes the partition's offset.
  ASSERT_EQ(patch("/connectors/src/offsets",
                  R"({"offsets":[{"partition":{"file":"/tmp/in"},"offset":null}]})")
                .status,
            200);
  EXPECT_TRUE(get("/connectors/src/offsets").body["offsets"].empty());
  ASSERT_EQ(patch("/connectors/src/offsets", body).status, 200);
  Reply reset = del("/connectors/src/offsets");
  ASSERT_EQ(reset.status, 200);
  EXPECT_EQ(reset.body["message"], "The offsets for this connector have been reset successfully");
  EXPECT_TRUE(get("/connectors/src/offsets").body["offsets"].empty());
  // Malformed bodies.
  for (const char* bad : {"{}", R"({"offsets":[]})", R"({"offsets":[{"offset":{}}]})",
                          R"({"offsets":[{"partition":{"a":1}}]})",
                          R"({"offsets":[{"partition":{},"offset":{}}]})", "[]"}) {
    EXPECT_EQ(patch("/connectors/src/offsets", bad).status, 400) << bad;
  }
  EXPECT_EQ(patch("/connectors/nope/offsets", body).status, 404);
}

TEST_F(KafkaVerbsTest, UnsupportedIs501) {
  create("src", source_config());
  fake_.fail_next = Error(ErrorCode::kUnsupported, "cannot");
  Reply r = patch("/connectors/src/config", R"({"a":"b"})");
  EXPECT_EQ(r.status, 501) << r.raw;
  EXPECT_EQ(r.body["error_code"], 501);
}

}  // namespace
}  // namespace rmqc::rest::testing
