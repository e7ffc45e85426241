#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc::app::ctl {

// Where a worker's REST API is: `--url` parsed. `http://host[:port][/prefix]`,
// `https://...`, or `host[:port]` (http). Without a port: 8082 when no scheme was given, else
// the scheme's own (80, 443).
struct Endpoint {
  bool tls = false;
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 8082;
  std::string base_path;  // "" or "/prefix" (no trailing '/')

  std::string to_string() const;
};

// Parses `url`; on failure returns nullopt and sets `error`.
std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error);

// Percent-encodes one path segment (a connector name, a plugin class): everything but RFC 3986
// unreserved characters.
std::string encode_segment(std::string_view segment);

struct Connection {
  Endpoint endpoint;
  std::string user;  // basic auth when non-empty
  std::string password;
  std::string token;   // bearer auth when non-empty
  std::string cacert;  // PEM file of trusted CAs (https); empty: the system's
  bool insecure = false;
  int timeout_seconds = 10;
};

// One answer. status 0: no HTTP answer at all (`transport_error` says why).
struct Answer {
  int status = 0;
  std::string body;
  std::string transport_error;
};

// A REST client of one worker; one request per connection, as the worker serves them.
class Client {
 public:
  explicit Client(Connection connection);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `path` starts with '/', already encoded; `body` (JSON) is sent with its Content-Type.
  Answer request(std::string_view method, const std::string& path,
                 const std::optional<std::string>& body = std::nullopt);

  const Connection& connection() const { return connection_; }

 private:
  struct Impl;
  Connection connection_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmqc::app::ctl
