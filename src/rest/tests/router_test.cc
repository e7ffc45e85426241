#include "rest/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace rmqc::rest {
namespace {

RouteHandler named(std::string tag) {
  return [tag](const RestRequest& req) {
    RestResponse res;
    res.body = tag;
    for (const auto& p : req.params) res.body += "|" + p;
    return res;
  };
}

RestResponse run(const Router& router, std::string method, std::string target) {
  RestRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  return router.dispatch(req);
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/connectors/:name", ResponseStyle::kKafka, named("info"));
    router_.add("GET", "/connectors/list", ResponseStyle::kSeed, named("list"));
    router_.add("DELETE", "/connectors/:name", ResponseStyle::kKafka, named("delete"));
    router_.add("GET", "/connectors/:name/tasks/:task/status", ResponseStyle::kSeed, named("task"));
    router_.add("GET", "/connectors/pause/all", ResponseStyle::kSeed, named("pause-all"));
    router_.add("GET", "/connectors/:name/pause", ResponseStyle::kSeed, named("pause"));
    router_.add("GET", "/", ResponseStyle::kKafka, named("root"));
  }
  Router router_;
};

TEST_F(RouterTest, LiteralSegmentsWinOverParameters) {
  EXPECT_EQ(run(router_, "GET", "/connectors/list").body, "list");
  EXPECT_EQ(run(router_, "GET", "/connectors/other").body, "info|other");
  EXPECT_EQ(run(router_, "GET", "/connectors/pause/all").body, "pause-all");
  EXPECT_EQ(run(router_, "GET", "/connectors/pause/pause").body, "pause|pause");
  // DELETE has no literal route: a connector called "list" can still be deleted.
  EXPECT_EQ(run(router_, "DELETE", "/connectors/list").body, "delete|list");
}

TEST_F(RouterTest, ParametersArePercentDecodedPerSegment) {
  EXPECT_EQ(run(router_, "GET", "/connectors/a%2Fb/tasks/3/status?x=1").body, "task|a/b|3");
  EXPECT_EQ(run(router_, "GET", "/connectors/my%20conn").body, "info|my conn");
  EXPECT_EQ(run(router_, "GET", "/connectors/a+b").body, "info|a+b");  // '+' only in queries
}

TEST_F(RouterTest, TrailingAndDoubleSlashesAreIgnored) {
  EXPECT_EQ(run(router_, "GET", "/connectors/list/").body, "list");
  EXPECT_EQ(run(router_, "GET", "//connectors//list").body, "list");
  EXPECT_EQ(run(router_, "GET", "/").body, "root");
  EXPECT_EQ(run(router_, "GET", "/?a=b").body, "root");
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  RestResponse missing = run(router_, "GET", "/nope/x?secret=1");
  EXPECT_EQ(missing.status, 404);
  auto body = nlohmann::json::parse(missing.body);
  EXPECT_EQ(body["error_code"], 404);
  EXPECT_EQ(body["message"], "no such endpoint: GET /nope/x");  // no query echoed

  RestResponse wrong = run(router_, "PUT", "/connectors/x");
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0].first, "Allow");
  EXPECT_EQ(wrong.headers[0].second, "GET, DELETE");

  // The error shape follows the route the path belongs to.
  RestResponse seed = run(router_, "POST", "/connectors/x/pause");
  EXPECT_EQ(seed.status, 405);
  EXPECT_EQ(nlohmann::json::parse(seed.body)["status"], 405);
}

TEST_F(RouterTest, MalformedPercentEncodingIs400) {
  EXPECT_EQ(run(router_, "GET", "/connectors/%zz").status, 400);
  EXPECT_EQ(run(router_, "GET", "/connectors/%4").status, 400);
  EXPECT_EQ(run(router_, "GET", "/connectors/%").status, 400);
}

TEST_F(RouterTest, ThrowingHandlerBecomes500InTheRouteStyle) {
  router_.add("GET", "/boom", ResponseStyle::kSeed,
              [](const RestRequest&) -> RestResponse { throw std::runtime_error("kaput"); });
  RestResponse res = run(router_, "GET", "/boom");
  EXPECT_EQ(res.status, 500);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["status"], 500);
  EXPECT_EQ(body["body"], "internal error: kaput");
}

TEST(PercentDecodeTest, DecodesAndRejects) {
  bool ok = false;
  EXPECT_EQ(percent_decode("a%41+b", true, ok), "aA b");
  EXPECT_TRUE(ok);
  EXPECT_EQ(percent_decode("a%41+b", false, ok), "aA+b");
  percent_decode("%G1", false, ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(percent_encode_segment("a b/c-d_e.f~"), "a%20b%2Fc-d_e.f~");
  EXPECT_EQ(percent_decode(percent_encode_segment("x/\xff?"), false, ok), "x/\xff?");
}

}  // namespace
}  // namespace rmqc::rest
