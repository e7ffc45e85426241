// The dashboard's routes: the embedded page and files with their Content-Type, ETag revalidation
// (304), unknown files, HEAD, and the REST security applying to them like any route.
#include "base/base64.h"
#include "rest/security.h"
#include "rest/tests/rest_fixture.h"
#include "rest/ui_assets.h"

namespace rmqc::rest::testing {
namespace {

class UiRoutesTest : public RestTest {};

TEST_F(UiRoutesTest, EveryFileIsEmbedded) {
  std::vector<std::string> names;
  for (const UiAsset& a : ui_assets()) {
    names.emplace_back(a.name);
    EXPECT_FALSE(a.body.empty()) << a.name;
    EXPECT_EQ(a.etag.size(), 34u) << a.name;  // 32 hex digits in quotes
  }
  EXPECT_EQ(names, (std::vector<std::string>{"index.html", "app.css", "app.js"}));
}

TEST_F(UiRoutesTest, PageAndFilesWithTheirTypes) {
  for (const char* path : {"/ui", "/ui/"}) {
    Reply r = get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_NE(r.raw.find("<script src=\"/ui/app.js\""), std::string::npos);
    EXPECT_EQ(r.header("Cache-Control"), "no-cache");
    EXPECT_NE(r.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  }
  Reply js = get("/ui/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.raw.find("parsePrometheus"), std::string::npos);
  Reply css = get("/ui/app.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  // The bytes served are the file's bytes.
  for (const UiAsset& a : ui_assets()) {
    if (a.name == "app.css") {
      EXPECT_EQ(css.raw, a.body);
    }
  }
}

TEST_F(UiRoutesTest, EtagRevalidation) {
  Reply first = get("/ui/app.js");
  std::string etag = first.header("ETag");
  ASSERT_EQ(etag.size(), 34u) << etag;
  httplib::Headers h{{"If-None-Match", etag}};
  auto r = client_->Get("/ui/app.js", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->get_header_value("ETag"), etag);
  // In a list, weak, or "*".
  for (std::string value : {"\"other\", " + etag, "W/" + etag, std::string("*")}) {
    auto m = client_->Get("/ui/app.js", httplib::Headers{{"If-None-Match", value}});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 304) << value;
  }
  // Another file's tag, or a tag that only contains this one, is no match.
  for (std::string value : {std::string("\"0123\""), "\"x" + etag.substr(1)}) {
    auto m = client_->Get("/ui/app.js", httplib::Headers{{"If-None-Match", value}});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200) << value;
  }
  EXPECT_NE(get("/ui/app.css").header("ETag"), etag);
}

TEST_F(UiRoutesTest, UnknownFilesAndMethods) {
  Reply r = get("/ui/nope.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error_code"], 404);
  EXPECT_EQ(get("/ui/..%2Fapp.js").status, 404);
  EXPECT_EQ(get("/ui/app.js/x").status, 404);
  EXPECT_EQ(post("/ui").status, 405);
  auto head = client_->Head("/ui/app.js");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

TEST_F(UiRoutesTest, FollowsRestSecurity) {
  RestOptions o;
  o.security.basic_users = {"alice:admin:s3cret", "bob:read:bobpass"};
  start(std::move(o));
  Reply r = get("/ui");
  EXPECT_EQ(r.status, 401);  // not public by default: the browser asks for the password
  EXPECT_NE(r.header("WWW-Authenticate").find("Basic"), std::string::npos);
  EXPECT_EQ(get("/ui/app.js").status, 401);
  // A read credential may see the dashboard (it is a GET that changes nothing).
  httplib::Headers bob{{"Authorization", "Basic " + base64_encode("bob:bobpass")}};
  auto page = client_->Get("/ui", bob);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto wrong = client_->Get("/ui", {{"Authorization", "Basic " + base64_encode("bob:x")}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
}

}  // namespace
}  // namespace rmqc::rest::testing
