// REST security: credentials and roles (401/403/200), public paths, the admin listener, CORS and
// TLS with a self-signed certificate made by `openssl req`.
#include "rest/security.h"

#include "base/base64.h"
#include "rest/tests/rest_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace rmqc::rest::testing {
namespace {

constexpr const char* kAdminPassword = "s3cret-admin";
constexpr const char* kReaderToken = "reader-token-123";

SecurityOptions auth_options() {
  SecurityOptions s;
  s.basic_users = {"alice:admin:sha256:" + sha256_hex(kAdminPassword), "bob:read:bobpass"};
  s.bearer_tokens = {std::string("dash:read:") + kReaderToken,
                     "ci:admin:sha256:" + sha256_hex("ci-token")};
  return s;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

TEST(AuthenticatorTest, RejectsMalformedEntriesWithoutQuotingSecrets) {
  for (const char* bad : {"alice", "alice:admin", "alice:root:pw", ":admin:pw", "alice:admin:",
                          "alice:admin:sha256:abc", "alice:admin:sha256:" /* empty */}) {
    SecurityOptions s;
    s.basic_users = {bad};
    auto a = Authenticator::create(s);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.error().code(), ErrorCode::kInvalidConfig);
  }
  SecurityOptions s;
  s.basic_users = {"alice:root:topsecretvalue"};
  auto a = Authenticator::create(s);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message().find("topsecretvalue"), std::string::npos);
}

TEST(AuthenticatorTest, RolesAndSchemes) {
  auto a = Authenticator::create(auth_options());
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_TRUE(a->enabled());
  EXPECT_EQ(a->challenges().size(), 2u);
  EXPECT_EQ(a->check("", false).status, 401);
  EXPECT_EQ(a->check("Basic !!!", false).status, 401);
  EXPECT_EQ(a->check(basic("alice", "wrong"), false).status, 401);
  EXPECT_EQ(a->check(basic("alice", kAdminPassword), true).status, 0);
  EXPECT_EQ(a->check(basic("alice", kAdminPassword), true).principal, "alice");
  EXPECT_EQ(a->check(basic("bob", "bobpass"), false).status, 0);
  EXPECT_EQ(a->check(basic("bob", "bobpass"), true).status, 403);
  EXPECT_EQ(a->check(std::string("Bearer ") + kReaderToken, false).status, 0);
  EXPECT_EQ(a->check(std::string("bearer ") + kReaderToken, true).status, 403);
  EXPECT_EQ(a->check("Bearer ci-token", true).status, 0);
  EXPECT_EQ(a->check("Bearer nope", false).status, 401);
  // A user name is not a token, nor a token a password.
  EXPECT_EQ(a->check("Bearer bobpass", false).status, 401);
  EXPECT_EQ(a->check(basic("dash", kReaderToken), false).status, 401);
  // Nothing configured: everything allowed.
  auto open = Authenticator::create(SecurityOptions{});
  ASSERT_TRUE(open.ok());
  EXPECT_FALSE(open->enabled());
  EXPECT_EQ(open->check("", true).status, 0);
}

TEST(AuthenticatorTest, Sha256Hex) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CorsPolicyTest, Origins) {
  CorsPolicy off({});
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.allows("https://a.example"));
  CorsPolicy some({"https://a.example/", " https://b.example"});
  EXPECT_TRUE(some.allows("https://a.example"));
  EXPECT_TRUE(some.allows("https://B.example"));
  EXPECT_FALSE(some.allows("https://c.example"));
  EXPECT_EQ(some.allow_origin("https://a.example"), "https://a.example");
  CorsPolicy any({"*"});
  EXPECT_TRUE(any.allows("http://x"));
  EXPECT_EQ(any.allow_origin("http://x"), "*");
}

class SecurityTest : public RestTest {
 protected:
  void SetUp() override {
    RestOptions o;
    o.security = auth_options();
    start(std::move(o));
    create("src", source_config());
  }
  Reply as(const std::string& method, const std::string& path, const std::string& authorization,
           const std::string& body = "") {
    httplib::Headers h;
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    if (method == "GET") return convert(client_->Get(path, h));
    if (method == "PUT") return convert(client_->Put(path, h, body, "application/json"));
    if (method == "POST") return convert(client_->Post(path, h, body, "application/json"));
    return convert(client_->Delete(path, h));
  }
};

TEST_F(SecurityTest, WithoutCredentials401WithChallenge) {
  Reply r = get("/connectors");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error_code"], 401);
  std::string challenges;
  for (auto [it, end] = r.headers.equal_range("WWW-Authenticate"); it != end; ++it) {
    challenges += it->second + "|";
  }
  EXPECT_NE(challenges.find("Basic realm=\"rmq-connect\""), std::string::npos) << challenges;
  EXPECT_NE(challenges.find("Bearer realm=\"rmq-connect\""), std::string::npos) << challenges;
  // Unknown paths too: no route information without credentials.
  EXPECT_EQ(get("/no/such/path").status, 401);
  EXPECT_EQ(as("GET", "/connectors", basic("alice", "wrong")).status, 401);
}

TEST_F(SecurityTest, ReadRoleReadsOnly) {
  const std::string bob = basic("bob", "bobpass");
  EXPECT_EQ(as("GET", "/connectors", bob).status, 200);
  EXPECT_EQ(as("GET", "/connectors/src/status", bob).status, 200);
  Reply r = as("PUT", "/connectors/src/pause", bob);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error_code"], 403);
  EXPECT_EQ(as("DELETE", "/connectors/src", bob).status, 403);
  // The seeds' mutating GETs and the GET create need admin too.
  EXPECT_EQ(as("GET", "/connectors/src/pause", bob).status, 403);
  EXPECT_EQ(as("GET", "/connectors/x?config=%7B%7D", bob).status, 403);
  EXPECT_EQ(as("GET", "/connectors/src/pause", std::string("Bearer ") + kReaderToken).status, 403);
  EXPECT_EQ(fake_.connector_state("src")->state, runtime::RunState::kRunning);
}

TEST_F(SecurityTest, AdminRoleDoesEverything) {
  EXPECT_EQ(as("PUT", "/connectors/src/pause", basic("alice", kAdminPassword)).status, 202);
  EXPECT_EQ(as("PUT", "/connectors/src/resume", "Bearer ci-token").status, 202);
  EXPECT_EQ(as("DELETE", "/connectors/src", "Bearer ci-token").status, 204);
}

TEST_F(SecurityTest, PublicPathsNeedNoCredentials) {
  EXPECT_EQ(get("/health").status, 200);
  EXPECT_NE(get("/ready").status, 401);
  EXPECT_EQ(get("/metrics").status, 401);  // not public unless configured
  RestOptions o;
  o.security = auth_options();
  o.security.public_paths = {"/metrics"};
  start(std::move(o));
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_EQ(get("/health").status, 401);
}

TEST_F(RestTest, AdminListenerServesMutations) {
  RestOptions o;
  o.admin_listener = true;
  start(std::move(o));
  ASSERT_NE(server_->admin_port(), 0);
  ASSERT_NE(server_->admin_port(), server_->port());
  create("src", source_config());
  Reply r = put("/connectors/src/pause");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body["message"].get<std::string>().find("admin listener"), std::string::npos);
  EXPECT_EQ(get("/connectors/src/pause").status, 403);  // mutating GET alias
  EXPECT_EQ(get("/connectors").status, 200);
  httplib::Client admin("127.0.0.1", server_->admin_port());
  auto a = admin.Put("/connectors/src/pause", "", "application/json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 202);
  auto g = admin.Get("/connectors/src/status?format=kafka");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);
}

TEST_F(RestTest, CorsOffByDefault) {
  httplib::Headers h{{"Origin", "https://ops.example"}, {"Access-Control-Request-Method", "PUT"}};
  auto r = client_->Options("/connectors", h);
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 204);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  auto g = client_->Get("/connectors", h);
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->has_header("Access-Control-Allow-Origin"));
}

TEST_F(RestTest, CorsPreflightAndHeaders) {
  RestOptions o;
  o.security = auth_options();
  o.security.cors_allowed_origins = {"https://ops.example"};
  start(std::move(o));
  httplib::Headers pre{{"Origin", "https://ops.example"},
                       {"Access-Control-Request-Method", "PUT"},
                       {"Access-Control-Request-Headers", "authorization,content-type"}};
  auto r = client_->Options("/connectors/x/pause", pre);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);  // no credentials needed for the preflight
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://ops.example");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Methods").find("PUT"), std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_EQ(r->get_header_value("Vary"), "Origin");
  httplib::Headers other{{"Origin", "https://evil.example"},
                         {"Access-Control-Request-Method", "PUT"}};
  auto bad = client_->Options("/connectors/x/pause", other);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 403);
  EXPECT_FALSE(bad->has_header("Access-Control-Allow-Origin"));
  // A real request carries the header (even a 401, so the page can read the error).
  auto g = client_->Get("/connectors", httplib::Headers{{"Origin", "https://ops.example"},
                                                        {"Authorization", "Bearer ci-token"}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(g->get_header_value("Access-Control-Allow-Origin"), "https://ops.example");
  auto denied = client_->Get("/connectors", httplib::Headers{{"Origin", "https://ops.example"}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(denied->get_header_value("Access-Control-Allow-Origin"), "https://ops.example");
}

// A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command line.
struct SelfSigned {
  std::filesystem::path dir;
  std::string cert, key;
  SelfSigned() {
    dir = std::filesystem::temp_directory_path() /
          ("rmqc_tls_" + std::to_string(::getpid()) + "_" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  ~SelfSigned() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  bool ok = false;
};

TEST(RestTlsTest, ServesHttpsVerifiedBySelfSignedCertificate) {
  SelfSigned tls;
  ASSERT_TRUE(tls.ok) << "openssl req failed";
  FakeController fake;
  RestOptions o;
  o.security.tls_cert_file = tls.cert;
  o.security.tls_key_file = tls.key;
  o.security.bearer_tokens = {"ci:admin:ci-token"};
  auto server = RestServer::start(o, fake);
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  httplib::SSLClient client("127.0.0.1", (*server)->port());
  client.set_ca_cert_path(tls.cert.c_str());
  client.enable_server_certificate_verification(true);
  auto r = client.Get("/connectors", httplib::Headers{{"Authorization", "Bearer ci-token"}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "[]");
  auto unauth = client.Get("/connectors");
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
  // A client that does not trust the certificate fails the handshake.
  httplib::SSLClient untrusting("127.0.0.1", (*server)->port());
  untrusting.enable_server_certificate_verification(true);
  untrusting.set_ca_cert_path("/nonexistent.pem");
  EXPECT_FALSE(untrusting.Get("/connectors"));
  // Plain HTTP gets no answer.
  httplib::Client plain("127.0.0.1", (*server)->port());
  plain.set_read_timeout(2, 0);
  auto p = plain.Get("/connectors");
  EXPECT_TRUE(!p || p->status != 200);
}

TEST(RestTlsTest, BadCertificateFailsStart) {
  FakeController fake;
  RestOptions o;
  o.security.tls_cert_file = "/nonexistent/cert.pem";
  o.security.tls_key_file = "/nonexistent/key.pem";
  auto server = RestServer::start(o, fake);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code(), ErrorCode::kInvalidConfig);
  o.security.tls_key_file.clear();
  EXPECT_FALSE(RestServer::start(o, fake).ok());
}

}  // namespace
}  // namespace rmqc::rest::testing
