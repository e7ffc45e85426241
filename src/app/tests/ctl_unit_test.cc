// `rmq-connect ctl`'s pieces that need no worker: --url parsing, path encoding, the table
// printer, and a request to a port nobody listens on (ctl_test.sh runs every command against
// live workers).
#include "app/ctl_http.h"
#include "app/ctl_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

namespace rmqc::app::ctl {
namespace {

Endpoint parse_ok(std::string_view url) {
  std::string error;
  auto e = parse_endpoint(url, error);
  EXPECT_TRUE(e.has_value()) << url << ": " << error;
  return e.value_or(Endpoint{});
}

std::string parse_error(std::string_view url) {
  std::string error;
  auto e = parse_endpoint(url, error);
  EXPECT_FALSE(e.has_value()) << url;
  return error;
}

TEST(CtlEndpoint, SchemesPortsAndPrefixes) {
  Endpoint e = parse_ok("http://127.0.0.1:8083");
  EXPECT_FALSE(e.tls);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 8083);
  EXPECT_EQ(e.base_path, "");

  e = parse_ok("https://connect.example/api/");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.port, 443);  // the scheme's port when a scheme is given
  EXPECT_EQ(e.base_path, "/api");
  EXPECT_EQ(e.to_string(), "https://connect.example:443/api");

  EXPECT_EQ(parse_ok("http://h").port, 80);
  EXPECT_EQ(parse_ok("localhost").port, 8082);  // no scheme: the worker's default port
  EXPECT_EQ(parse_ok("localhost:9000").port, 9000);

  e = parse_ok("http://[::1]:8082");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.to_string(), "http://[::1]:8082");
}

TEST(CtlEndpoint, BadUrlsAreNamed) {
  EXPECT_NE(parse_error("ftp://h").find("unsupported scheme 'ftp'"), std::string::npos);
  EXPECT_NE(parse_error("http://h:0").find("bad port '0'"), std::string::npos);
  EXPECT_NE(parse_error("http://h:70000").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:8x").find("bad port '8x'"), std::string::npos);
  EXPECT_NE(parse_error("http://h:").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("http://").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http://:8082").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http://[::1").find("unbalanced"), std::string::npos);
  EXPECT_NE(parse_error("http://[::1]x").find("after ']'"), std::string::npos);
  EXPECT_NE(parse_error("").find("no host"), std::string::npos);
}

TEST(CtlEndpoint, SegmentsArePercentEncoded) {
  EXPECT_EQ(encode_segment("file-src_1.x~"), "file-src_1.x~");
  EXPECT_EQ(encode_segment("a/b c?d#%"), "a%2Fb%20c%3Fd%23%25");
  EXPECT_EQ(encode_segment("\xC3\xA9"), "%C3%A9");
}

TEST(CtlTable, AlignsColumnsWithoutTrailingBlanks) {
  Table t({"NAME", "STATE", "TASKS"});
  t.add_row({"file-src", "RUNNING", "1/1"});
  t.add_row({"x", "PAUSED"});  // short rows are padded
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.render(),
            "NAME      STATE    TASKS\n"
            "file-src  RUNNING  1/1\n"
            "x         PAUSED\n");
  Table u({"K", "V"});
  u.add_row({"\xC3\xA9t\xC3\xA9", "1"});  // widths count code points, not bytes
  EXPECT_EQ(u.render(2), "  K    V\n  \xC3\xA9t\xC3\xA9  1\n");
}

TEST(CtlClient, NobodyListeningIsNoAnswer) {
  // A port bound but not listening: connect() is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Connection c;
  c.endpoint.host = "127.0.0.1";
  c.endpoint.port = ntohs(addr.sin_port);
  c.timeout_seconds = 5;
  Client client(c);
  Answer a = client.request("GET", "/connectors");
  ::close(fd);
  EXPECT_EQ(a.status, 0);
  EXPECT_NE(a.transport_error.find("connection failed"), std::string::npos) << a.transport_error;
}

}  // namespace
}  // namespace rmqc::app::ctl
