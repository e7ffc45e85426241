// The HTTP side: binding, limits, malformed input, unknown routes, shutdown.
#include "rest/tests/rest_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>
#include <unistd.h>

namespace rmqc::rest::testing {
namespace {

class ServerTest : public RestTest {};

// Sends raw bytes and returns whatever comes back before the server closes or 2 s pass.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, bool half_close = true) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(ServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  Reply missing = get("/no/such/thing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], 404);
  Reply wrong = del("/connectors/list");  // DELETE /connectors/:name exists: deletes "list"
  EXPECT_EQ(wrong.status, 404);           // ... which does not exist
  Reply put_root = put("/", "{}");
  EXPECT_EQ(put_root.status, 405);
  EXPECT_EQ(put_root.header("Allow"), "GET");
  EXPECT_EQ(put_root.body["error_code"], 405);
  Reply patch = convert(client_->Patch("/connectors", "{}", "application/json"));
  EXPECT_EQ(patch.status, 405);
  EXPECT_EQ(patch.header("Allow"), "GET, POST");
}

// No Content-Length and no Transfer-Encoding = no body (curl -X PUT without -d); httplib alone
// would wait for EOF until the read timeout.
TEST_F(ServerTest, BodilessPutIsAnsweredAtOnce) {
  create("c", source_config());
  auto begin = std::chrono::steady_clock::now();
  std::string reply =
      raw_exchange(server_->port(), "PUT /connectors/c/pause HTTP/1.1\r\nHost: x\r\n\r\n", false);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(1));
  EXPECT_EQ(reply.rfind("HTTP/1.1 202", 0), 0u) << reply;
  EXPECT_EQ(fake_.connector_info("c")->target_state, runtime::TargetState::kPaused);
  reply = raw_exchange(server_->port(), "POST /connectors HTTP/1.1\r\nHost: x\r\n\r\n", false);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
}

TEST_F(ServerTest, HeadIsServedByGet) {
  auto r = client_->Head("/connectors");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // ... but never a mutating GET alias.
  create("c", source_config());
  auto pause = client_->Head("/connectors/c/pause");
  ASSERT_TRUE(pause);
  EXPECT_EQ(pause->status, 405);
  auto create_head = client_->Head("/connectors/d?config=%7B%7D");
  ASSERT_TRUE(create_head);
  EXPECT_EQ(create_head->status, 405);
  EXPECT_EQ(fake_.connector_state("c")->state, runtime::RunState::kRunning);
  EXPECT_FALSE(fake_.connector_info("d").ok());
}

TEST_F(ServerTest, OversizedBodyIs413) {
  std::string big = "{\"connector.class\":\"" + std::string(2 << 20, 'x') + "\"}";
  Reply r = post("/connectors/c", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["error_code"], 413);
  EXPECT_TRUE(fake_.connector_names().empty());
  // A smaller limit applies too, and the server keeps serving.
  RestOptions options;
  options.max_body_bytes = 64;
  start(options);
  EXPECT_EQ(post("/connectors/c", R"({"connector.class":")" + std::string(100, 'y') + "\"}").status,
            413);
  EXPECT_EQ(post("/connectors/c", R"({"connector.class":"X"})").status, 200);
}

TEST_F(ServerTest, MalformedRequestsNeverCrashTheServer) {
  std::uint16_t port = server_->port();
  raw_exchange(port, "garbage\r\n\r\n");
  raw_exchange(port, std::string(100000, '\0'));
  raw_exchange(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_exchange(port, "POST /connectors HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{");
  raw_exchange(port, "POST /connectors HTTP/1.1\r\nContent-Length: 10\r\n\r\n{");  // short body
  raw_exchange(port, "POST /connectors HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  std::string chunked = "POST /connectors/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i) chunked += "8000\r\n" + std::string(0x8000, 'a') + "\r\n";
  chunked += "0\r\n\r\n";
  raw_exchange(port, chunked);  // over the limit: refused (the reply may race the reset)
  EXPECT_TRUE(fake_.connector_names().empty());
  // Deep nesting and invalid UTF-8 in a body.
  EXPECT_EQ(post("/connectors/c", std::string(100000, '[')).status, 400);
  Reply utf = post("/connectors/c", "{\"connector.class\":\"X\",\"k\":\"\xff\xfe\"}");
  EXPECT_EQ(utf.status, 400);
  EXPECT_TRUE(utf.body.is_object());
  // Odd paths and queries.
  EXPECT_EQ(get("/connectors/%ZZ").status, 400);
  EXPECT_EQ(get("/connectors/c?config=%").status, 400);
  EXPECT_EQ(get("/" + std::string(6000, '/')).status, 200);  // "/" after collapsing
  EXPECT_EQ(get("/connectors/" + std::string(5000, 'n')).status, 404);
  // Still alive.
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(ServerTest, InvalidUtf8InStoredValuesIsReplacedNotThrown) {
  create("c", KeyValue{{"connector.class", "X"}, {"bad", "\xff\xfe"}});
  Reply r = get("/connectors/c");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.is_object());
}

// 8 clients at once: more than httplib's default listen backlog of 5.
TEST_F(ServerTest, ConcurrentClients) {
  create("c", source_config());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", server_->port());
      for (int i = 0; i < 25; ++i) {
        auto r = client.Get("/connectors/c/status");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(ServerTest, SecondServerOnTheSamePortFailsToBind) {
  RestOptions options;
  options.port = server_->port();
  auto second = RestServer::start(options, fake_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kIoError);
  EXPECT_NE(second.error().message().find(std::to_string(server_->port())), std::string::npos);
  RestOptions bad_host;
  bad_host.host = "256.1.1.1";
  EXPECT_FALSE(RestServer::start(bad_host, fake_).ok());
}

TEST_F(ServerTest, StartsFastAndStopsCleanly) {
  auto begin = std::chrono::steady_clock::now();
  auto s = RestServer::start(RestOptions{}, fake_);
  ASSERT_TRUE(s.ok());
  // Served right away, no retry needed.
  httplib::Client client("127.0.0.1", (*s)->port());
  auto r = client.Get("/health");
  auto elapsed = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Generous (sanitizers, loaded CI); the bench measures the real number.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  (*s)->stop();
  (*s)->stop();  // idempotent
  auto after = client.Get("/health");
  EXPECT_FALSE(after);
}

TEST_F(ServerTest, StopWithAnIdleKeepAliveConnection) {
  httplib::Client client("127.0.0.1", server_->port());
  client.set_keep_alive(true);
  ASSERT_TRUE(client.Get("/health"));
  auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(1));
}

TEST_F(ServerTest, CustomRedactPatterns) {
  RestOptions options;
  options.redact_patterns = {"USER"};
  start(options);
  create("c",
         KeyValue{
             {"connector.class", "X"}, {"connection.user", "bob"}, {"connection.password", "pw"}});
  Reply r = get("/connectors/c");
  EXPECT_EQ(r.body["config"]["connection.user"], "******");
  EXPECT_EQ(r.body["config"]["connection.password"], "pw");  // patterns replace the default
}

}  // namespace
}  // namespace rmqc::rest::testing
