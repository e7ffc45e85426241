// Seed 001's operations endpoints.
#include "rest/tests/rest_fixture.h"

#include <httplib.h>

namespace rmqc::rest::testing {
namespace {

class OpsRoutesTest : public RestTest {};

TEST_F(OpsRoutesTest, TaskNumChangesMaxTasks) {
  create("c", source_config());
  Reply r = get("/connectors/taskNum/c/3");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json({{"status", 200}, {"body", "Connector [c] task number set to 3"}}));
  EXPECT_EQ(fake_.connector_info("c")->task_configs.size(), 3u);
  EXPECT_EQ(get("/connectors/taskNum/c/0").status, 400);
  EXPECT_EQ(get("/connectors/taskNum/c/-1").status, 400);
  EXPECT_EQ(get("/connectors/taskNum/c/abc").status, 400);
  EXPECT_EQ(get("/connectors/taskNum/c/99999999999999").status, 400);
  EXPECT_EQ(get("/connectors/taskNum/nope/2").status, 404);
}

TEST_F(OpsRoutesTest, EnableDisableRemoveSingleAndAll) {
  create("a", source_config());
  create("b", source_config());
  EXPECT_EQ(get("/connectors/single/a/disable").body,
            json({{"status", 200}, {"body", "Connector [a] disabled successfully"}}));
  EXPECT_EQ(fake_.connector_info("a")->target_state, runtime::TargetState::kStopped);
  Reply status = get("/getConnectorsStatus/a");
  EXPECT_EQ(status.body["body"]["enabled"], false);
  EXPECT_EQ(status.body["body"]["targetState"], "STOPPED");
  EXPECT_EQ(status.body["body"]["connector"]["state"], "STOPPED");

  EXPECT_EQ(get("/connectors/single/a/enable").body,
            json({{"status", 200}, {"body", "Connector [a] enabled successfully"}}));
  EXPECT_EQ(fake_.connector_info("a")->target_state, runtime::TargetState::kStarted);
  EXPECT_EQ(get("/getConnectorsStatus/a").body["body"]["enabled"], true);

  EXPECT_EQ(get("/connectors/all/disable").body,
            json({{"status", 200}, {"body", "2 connectors are disabled"}}));
  EXPECT_EQ(fake_.connector_info("b")->target_state, runtime::TargetState::kStopped);
  EXPECT_EQ(get("/connectors/all/enable").body,
            json({{"status", 200}, {"body", "2 connectors are enabled"}}));
  EXPECT_EQ(fake_.connector_info("b")->target_state, runtime::TargetState::kStarted);

  EXPECT_EQ(get("/connectors/single/a/remove").body,
            json({{"status", 200}, {"body", "Connector [a] deleted successfully"}}));
  EXPECT_EQ(get("/connectors/single/a/remove").status, 404);
  EXPECT_EQ(get("/connectors/single/zz/enable").status, 404);
  EXPECT_EQ(get("/connectors/single/zz/disable").status, 404);
  EXPECT_EQ(get("/connectors/all/remove").body,
            json({{"status", 200}, {"body", "1 connectors are deleted"}}));
  EXPECT_TRUE(fake_.connector_names().empty());
}

TEST_F(OpsRoutesTest, MessageLoggingToggle) {
  EXPECT_EQ(get("/logMsgDetail/true").body,
            json({{"status", 200}, {"body", "Message logging enabled"}}));
  EXPECT_TRUE(fake_.logging);
  EXPECT_EQ(get("/logMsgDetail").body, json({{"status", 200}, {"body", true}}));
  EXPECT_EQ(post("/logMsgDetail/FALSE").body,
            json({{"status", 200}, {"body", "Message logging disabled"}}));
  EXPECT_FALSE(fake_.logging);
  Reply bad = get("/logMsgDetail/maybe");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["status"], 400);
}

TEST_F(OpsRoutesTest, TaskViews) {
  create("a", source_config());
  create("b", KeyValue{{"connector.class", "SinkX"}, {"max.tasks", "2"}});
  Reply by_worker = get("/getAllTask/true");
  ASSERT_EQ(by_worker.status, 200);
  ASSERT_EQ(by_worker.body["body"]["worker-1"].size(), 3u);
  const json& first = by_worker.body["body"]["worker-1"][0];
  EXPECT_EQ(first["connectorName"], "a");
  EXPECT_EQ(first["taskId"], 0);
  EXPECT_EQ(first["state"], "RUNNING");
  EXPECT_EQ(first["workerId"], "worker-1");
  EXPECT_EQ(first["config"]["connection.password"], "******");
  Reply flat = get("/getAllTask/false");
  EXPECT_EQ(flat.body["body"].size(), 3u);
  EXPECT_EQ(get("/getAllTask/yes").status, 400);
  EXPECT_EQ(get("/getAllocatedTask").body["body"]["runningTasks"].size(), 3u);
}

TEST_F(OpsRoutesTest, ConfigViews) {
  create("a", source_config());
  Reply all = get("/getConnectorTask");
  EXPECT_EQ(all.body["body"]["connectorConfigs"]["a"]["connection.password"], "******");
  EXPECT_EQ(all.body["body"]["taskConfigs"]["a"][0]["connection.password"], "******");
  EXPECT_EQ(get("/getConnectors").body["body"]["a"]["connect.topicname"], "fileTopic");
  EXPECT_EQ(get("/getConnectors/a").body["body"]["connection.password"], "******");
  EXPECT_EQ(get("/getConnectors/x").status, 404);
  Reply one = get("/getConnectorTask/a");
  EXPECT_EQ(one.body["body"]["name"], "a");
  EXPECT_EQ(one.body["body"]["type"], "SOURCE");
  EXPECT_EQ(get("/getConnectorTask/x").status, 404);
  EXPECT_EQ(get("/getConnectorsStatus/x").status, 404);
}

TEST_F(OpsRoutesTest, CreateAndUpdateWithConfigQuery) {
  std::string config = httplib::detail::encode_query_param(
      R"({"connector.class":"X","max.tasks":"1","connection.password":"pw","a":"1"})");
  Reply created = get("/connectors/create/c?config=" + config);
  ASSERT_EQ(created.status, 200) << created.raw;
  EXPECT_EQ(created.body["body"]["connection.password"], "******");
  Reply duplicate = get("/connectors/create/c?config=" + config);
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["status"], 409);

  // update merges: only "a" changes, the rest stays.
  Reply updated =
      get("/connectors/update/c?config=" + httplib::detail::encode_query_param(R"({"a":"2"})"));
  ASSERT_EQ(updated.status, 200) << updated.raw;
  KeyValue now = fake_.connector_info("c")->config;
  EXPECT_EQ(*now.find("a"), "2");
  EXPECT_EQ(*now.find("connector.class"), "X");
  EXPECT_EQ(*now.find("connection.password"), "pw");
  EXPECT_EQ(updated.body["body"]["connection.password"], "******");

  EXPECT_EQ(post("/connectors/update/c", R"({"b":"3"})").status, 200);
  EXPECT_EQ(*fake_.connector_info("c")->config.find("b"), "3");
  EXPECT_EQ(get("/connectors/update/nope?config=%7B%7D").status, 404);
  EXPECT_EQ(get("/connectors/update/c?config=%7B").status, 400);
  EXPECT_EQ(get("/connectors/create/d").status, 400);  // no config at all
}

}  // namespace
}  // namespace rmqc::rest::testing
