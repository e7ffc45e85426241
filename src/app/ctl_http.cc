#include "app/ctl_http.h"

#include "base/logging.h"

#include <charconv>
#include <httplib.h>

namespace rmqc::app::ctl {
namespace {

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed (refused, or no route to the host)";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer (the connection closed or the read timed out)";
    case httplib::Error::Write:
      return "the request could not be sent";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed (is the worker serving https?)";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates (--cacert)";
    case httplib::Error::SSLServerVerification:
      return "the worker's certificate is not trusted or does not name the host (--cacert FILE, "
             "or --insecure)";
    default:
      return "request failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace

std::string Endpoint::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + base_path;
}

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  Endpoint e;
  std::string_view rest = url;
  bool scheme = false;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    std::string_view s = rest.substr(0, p);
    if (s == "https") {
      e.tls = true;
    } else if (s != "http") {
      error = "unsupported scheme '" + std::string(s) + "' in '" + std::string(url) +
              "' (http or https)";
      return std::nullopt;
    }
    scheme = true;
    rest.remove_prefix(p + 3);
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.size() < rest.size()) {
    std::string_view path = rest.substr(authority.size());
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    e.base_path = std::string(path);
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unbalanced '[' in '" + std::string(url) + "'";
      return std::nullopt;
    }
    e.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after ']' in '" + std::string(url) + "'";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    e.host = std::string(authority.substr(0, colon));
    port_text = authority.substr(colon + 1);
  } else {
    e.host = std::string(authority);
  }
  if (e.host.empty()) {
    error = "no host in '" + std::string(url) + "'";
    return std::nullopt;
  }
  if (!port_text.empty() || authority.back() == ':') {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      error = "bad port '" + std::string(port_text) + "' in '" + std::string(url) + "'";
      return std::nullopt;
    }
    e.port = static_cast<std::uint16_t>(port);
  } else if (scheme) {
    e.port = e.tls ? 443 : 80;
  }
  return e;
}

std::string encode_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

struct Client::Impl {
  std::unique_ptr<httplib::ClientImpl> http;
};

Client::Client(Connection connection)
    : connection_(std::move(connection)), impl_(std::make_unique<Impl>()) {
  const Endpoint& e = connection_.endpoint;
  if (e.tls) {
    auto ssl = std::make_unique<httplib::SSLClient>(e.host, e.port);
    if (!connection_.cacert.empty()) ssl->set_ca_cert_path(connection_.cacert);
    ssl->enable_server_certificate_verification(!connection_.insecure);
    impl_->http = std::move(ssl);
  } else {
    impl_->http = std::make_unique<httplib::ClientImpl>(e.host, e.port);
  }
  auto& http = *impl_->http;
  http.set_connection_timeout(connection_.timeout_seconds, 0);
  http.set_read_timeout(connection_.timeout_seconds, 0);
  http.set_write_timeout(connection_.timeout_seconds, 0);
  http.set_keep_alive(false);
  if (!connection_.token.empty()) {
    http.set_bearer_token_auth(connection_.token);
  } else if (!connection_.user.empty()) {
    http.set_basic_auth(connection_.user, connection_.password);
  }
}

Client::~Client() = default;

Answer Client::request(std::string_view method, const std::string& path,
                       const std::optional<std::string>& body) {
  httplib::Request req;
  req.method = std::string(method);
  req.path = connection_.endpoint.base_path + path;
  req.set_header("Accept", "application/json");
  req.set_header("User-Agent", "rmq-connect-ctl/" + std::string(kVersion));
  if (body) {
    req.body = *body;
    req.set_header("Content-Type", "application/json");
  }
  Answer answer;
  httplib::Result result = impl_->http->send(req);
  if (!result) {
    answer.transport_error = describe(result.error());
    if (!connection_.endpoint.tls && result.error() == httplib::Error::Read) {
      answer.transport_error += "; if the worker serves https, give an https:// --url";
    }
    return answer;
  }
  answer.status = result->status;
  answer.body = std::move(result->body);
  return answer;
}

}  // namespace rmqc::app::ctl
