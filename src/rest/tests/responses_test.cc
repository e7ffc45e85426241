#include "rest/responses.h"

#include <gtest/gtest.h>

namespace rmqc::rest {
namespace {

TEST(RedactorTest, MatchesPatternsCaseInsensitively) {
  Redactor r({"password", "secret", "token"});
  EXPECT_TRUE(r.is_secret("connection.password"));
  EXPECT_TRUE(r.is_secret("Connection.PASSWORD"));
  EXPECT_TRUE(r.is_secret("secretKey"));
  EXPECT_TRUE(r.is_secret("api.token.value"));
  EXPECT_FALSE(r.is_secret("connection.user"));
  EXPECT_FALSE(Redactor({}).is_secret("password"));
  EXPECT_FALSE(Redactor({""}).is_secret("anything"));  // an empty pattern matches nothing
  EXPECT_TRUE(Redactor({"USER"}).is_secret("connection.user"));
}

TEST(RedactorTest, RedactsConfigsAndScrubsMessages) {
  Redactor r({"password"});
  KeyValue config{{"connection.password", "hunter2"}, {"connection.user", "bob"}};
  Json json = r.config(config);
  EXPECT_EQ(json["connection.password"], "******");
  EXPECT_EQ(json["connection.user"], "bob");
  EXPECT_EQ(r.scrub("bad value hunter2 for x (hunter2)", config),
            "bad value ****** for x (******)");
  EXPECT_EQ(r.scrub("user bob", config), "user bob");  // only secret values are scrubbed
}

TEST(ConfigFromJsonTest, ScalarsBecomeStringsNestedValuesAreRejected) {
  auto ok = config_from_json(Json::parse(R"({"a":"x","max.tasks":2,"b":true,"d":1.5})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok->find("a"), "x");
  EXPECT_EQ(*ok->find("max.tasks"), "2");
  EXPECT_EQ(*ok->find("b"), "true");
  EXPECT_EQ(*ok->find("d"), "1.5");

  auto nested = config_from_json(Json::parse(R"({"a":{"b":1}})"));
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(nested.error().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(config_from_json(Json::parse(R"({"a":null})")).ok());
  EXPECT_FALSE(config_from_json(Json::parse(R"([1,2])")).ok());
}

TEST(ParseJsonBodyTest, EmptyAndMalformedBodies) {
  auto empty = parse_json_body("  \n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  auto bad = parse_json_body("{\"a\":");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kParseError);
  EXPECT_NE(bad.error().message().find("parse error"), std::string::npos);
  EXPECT_TRUE(parse_json_body("{}").ok());
}

TEST(HttpStatusTest, MapsErrorCodes) {
  EXPECT_EQ(http_status(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status(ErrorCode::kInvalidConfig), 400);
  EXPECT_EQ(http_status(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status(ErrorCode::kParseError), 400);
  EXPECT_EQ(http_status(ErrorCode::kAlreadyExists), 409);
  EXPECT_EQ(http_status(ErrorCode::kInternal), 500);
  EXPECT_EQ(http_status(ErrorCode::kTimeout), 500);
}

TEST(ShapesTest, SeedAndKafkaStatus) {
  runtime::ConnectorState s;
  s.name = "c";
  s.type = runtime::ConnectorType::kSink;
  s.state = runtime::RunState::kFailed;
  s.worker_id = "w";
  s.trace = "stack";
  s.tasks.push_back({0, runtime::RunState::kRunning, "w", std::nullopt});
  EXPECT_EQ(seed_status(s).dump(),
            R"({"name":"c","connector":{"state":"FAILED","trace":"stack","workerId":"w"},)"
            R"("tasks":[{"state":"RUNNING","trace":null,"workerId":"w","id":0}],"type":"SINK"})");
  EXPECT_EQ(kafka_status(s).dump(),
            R"({"name":"c","connector":{"state":"FAILED","worker_id":"w","trace":"stack"},)"
            R"("tasks":[{"id":0,"state":"RUNNING","worker_id":"w"}],"type":"sink"})");
}

TEST(ShapesTest, ValuesToJson) {
  EXPECT_EQ(value_to_json(Value(std::int32_t{5})), 5);
  EXPECT_EQ(value_to_json(Value("x")), "x");
  EXPECT_EQ(value_to_json(Value(Bytes{'h', 'i'})), "aGk=");
  EXPECT_EQ(value_to_json(Value(ValueMap{{Value("k"), Value(true)}})).dump(), R"({"k":true})");
  EXPECT_EQ(value_to_json(Value(ValueList{Value(1.5), Value()})).dump(), "[1.5,null]");
}

}  // namespace
}  // namespace rmqc::rest
