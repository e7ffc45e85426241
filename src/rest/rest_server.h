#pragma once

#include "rmqc/base/result.h"

#include "rest/security.h"
#include "runtime/connect_controller.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rmqc::rest {

// Which body shape a GET answers with on the paths seed 002 and Kafka Connect both define with
// different bodies (/connectors/{n}/config, /status, /tasks, /tasks/{id}/status). A request can
// override it with ?format=seed|kafka.
enum class ResponseStyle { kSeed, kKafka };

struct RestOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port; see RestServer::port()
  // Values of config keys containing one of these (case-insensitive) are shown as "******".
  std::vector<std::string> redact_patterns = {"password", "secret", "token"};
  std::size_t threads = 4;
  std::size_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  // The seeds' mutating GETs (/connectors/{n}/pause, /stop ...). Off = they answer 405 and only
  // the POST/PUT/DELETE verbs mutate (a browser cannot trigger them with a link).
  bool allow_mutating_get = true;
  ResponseStyle shared_get_style = ResponseStyle::kSeed;
  std::string commit;  // reported by GET /; empty = the commit the library was configured at
  // TLS, credentials and roles, public paths, CORS (docs/operations.md#security).
  SecurityOptions security;
  // A second listener that serves every route; with it the main listener answers mutating
  // requests with 403 (their route exists, but not there).
  bool admin_listener = false;
  std::string admin_host = "127.0.0.1";
  std::uint16_t admin_port = 0;  // 0 = any free port; see RestServer::admin_port()
};

// The worker's HTTP API over a ConnectController: seed 002 routes with the {"status","body"}
// envelope, seed 001 operations, and Kafka-Connect-style verbs. See docs/rest-api.md.
class RestServer {
 public:
  // Binds, starts the accept thread and returns once requests are served. The controller must
  // outlive the server.
  static Result<std::unique_ptr<RestServer>> start(RestOptions options,
                                                   runtime::ConnectController& controller);
  ~RestServer();
  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;

  std::uint16_t port() const;
  // The admin listener's port; 0 when there is none.
  std::uint16_t admin_port() const;
  // Stops accepting, finishes in-flight requests and joins the threads. Idempotent.
  void stop();

  struct Impl;  // (rest_server.cc)

 private:
  explicit RestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmqc::rest
