#include "rest/rest_server.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rest/routes.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <httplib.h>
#include <mutex>
#include <thread>
#include <vector>

#ifndef RMQC_REST_COMMIT
#define RMQC_REST_COMMIT "unknown"
#endif

namespace rmqc::rest {

// One bound socket: the main listener, or the admin one.
struct Listener {
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::uint16_t port = 0;
  bool admin = false;
};

struct RestServer::Impl {
  Impl(RestOptions opts, runtime::ConnectController& controller, Authenticator auth)
      : ctx{controller, Redactor(opts.redact_patterns), opts,
            opts.commit.empty() ? std::string(RMQC_REST_COMMIT) : opts.commit},
        auth(std::move(auth)),
        cors(opts.security.cors_allowed_origins) {}

  void handle(const httplib::Request& req, httplib::Response& res, bool admin_side) const;
  // Preflight, authentication, roles and the admin listener's routes, then the router.
  RestResponse guard_and_dispatch(RestRequest& request, const httplib::Request& req,
                                  bool admin_side, bool cors_origin) const;

  RouteContext ctx;
  Authenticator auth;
  CorsPolicy cors;
  Router router;
  std::vector<std::unique_ptr<Listener>> listeners;  // [0] main, [1] admin (if configured)
  std::mutex stop_mutex;
  bool stopped = false;
};

RestResponse RestServer::Impl::guard_and_dispatch(RestRequest& request, const httplib::Request& req,
                                                  bool admin_side, bool cors_origin) const {
  const RestOptions& opts = ctx.options;
  // CORS preflight: answered before authentication (browsers send no credentials with it).
  if (request.method == "OPTIONS" && cors.enabled() && req.has_header("Origin") &&
      req.has_header("Access-Control-Request-Method")) {
    if (!cors_origin) return error_response(ResponseStyle::kKafka, 403, "origin not allowed");
    RestResponse res = empty_response(204);
    res.headers.emplace_back("Access-Control-Allow-Methods",
                             "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.headers.emplace_back("Access-Control-Max-Age", "600");
    return res;
  }
  const bool mutating = router.mutates(request);
  if (auth.enabled()) {
    std::string_view path = std::string_view(request.target)
                                .substr(0, std::string_view(request.target).find_first_of("?#"));
    const auto& open = opts.security.public_paths;
    bool is_public = !mutating && std::find(open.begin(), open.end(), path) != open.end();
    if (!is_public) {
      AuthDecision d = auth.check(req.get_header_value("Authorization"), mutating);
      if (d.status != 0) {
        RestResponse res = error_response(ResponseStyle::kKafka, d.status, d.message);
        if (d.status == 401) {
          for (auto& c : auth.challenges()) res.headers.emplace_back("WWW-Authenticate", c);
        }
        return res;
      }
    }
  }
  if (mutating && opts.admin_listener && !admin_side) {
    return error_response(ResponseStyle::kKafka, 403,
                          "this request changes state: send it to the admin listener");
  }
  return router.dispatch(request);
}

void RestServer::Impl::handle(const httplib::Request& req, httplib::Response& res,
                              bool admin_side) const {
  RestRequest request;
  // httplib hands HEAD to the GET handlers and drops the body itself; the router knows which
  // GETs are safe to run for it.
  request.method = req.method;
  request.target = req.target;
  request.query.insert(req.params.begin(), req.params.end());
  request.body = req.body;
  if (req.has_header("If-None-Match"))
    request.if_none_match = req.get_header_value("If-None-Match");
  bool cors_origin = false;
  std::string origin;
  if (cors.enabled() && req.has_header("Origin")) {
    origin = req.get_header_value("Origin");
    cors_origin = cors.allows(origin);
  }
  RestResponse out = guard_and_dispatch(request, req, admin_side, cors_origin);
  res.status = out.status;
  for (auto& [key, value] : out.headers) res.set_header(key, value);
  if (cors_origin) {
    res.set_header("Access-Control-Allow-Origin", cors.allow_origin(origin));
    res.set_header("Access-Control-Expose-Headers", "Location, WWW-Authenticate");
    res.set_header("Vary", "Origin");
  }
  if (!out.content_type.empty()) res.set_content(std::move(out.body), out.content_type.c_str());
}

namespace {

// httplib's ThreadPool, with threads named "rest-<n>" (httplib's own cannot name its threads).
class NamedThreadPool final : public httplib::TaskQueue {
 public:
  explicit NamedThreadPool(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, i] {
        set_thread_name("rest-" + std::to_string(i));
        work();
      });
    }
  }
  ~NamedThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (shutdown_) return;
      shutdown_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shut down, nothing left to run
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

std::string error_json(int status, std::string_view message) {
  return error_response(ResponseStyle::kKafka, status, message).body;
}

std::string_view default_message(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such endpoint";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    default:
      return "request failed";
  }
}

}  // namespace

namespace {

// Creates, configures and binds one listener; its thread serves once started.
Result<std::unique_ptr<Listener>> bind_listener(RestServer::Impl* self, const std::string& host,
                                                std::uint16_t wanted_port, bool admin);

}  // namespace

Result<std::unique_ptr<RestServer>> RestServer::start(RestOptions options,
                                                      runtime::ConnectController& controller) {
  const SecurityOptions& sec = options.security;
  if (sec.tls_cert_file.empty() != sec.tls_key_file.empty()) {
    return Error(ErrorCode::kInvalidConfig,
                 "TLS needs both rest.tls.cert.file and rest.tls.key.file");
  }
  RMQC_ASSIGN_OR_RETURN(Authenticator auth, Authenticator::create(sec));
  auto impl = std::make_unique<Impl>(std::move(options), controller, std::move(auth));
  const RestOptions& opts = impl->ctx.options;
  add_seed_routes(impl->router, impl->ctx);
  add_ops_routes(impl->router, impl->ctx);
  add_kafka_routes(impl->router, impl->ctx);
  add_operation_routes(impl->router, impl->ctx);
  add_ui_routes(impl->router, impl->ctx);

  RMQC_ASSIGN_OR_RETURN(auto main, bind_listener(impl.get(), opts.host, opts.port, false));
  impl->listeners.push_back(std::move(main));
  if (opts.admin_listener) {
    auto admin = bind_listener(impl.get(), opts.admin_host, opts.admin_port, true);
    if (!admin.ok()) {
      impl->listeners.clear();  // never started
      return std::move(admin).error().with_context("admin listener");
    }
    impl->listeners.push_back(std::move(admin).value());
  }
  for (auto& l : impl->listeners) {
    Listener* listener = l.get();
    listener->thread = std::thread([listener] {
      set_thread_name(listener->admin ? "rest-admin" : "rest-listen");
      listener->server->listen_after_bind();
      listener->listen_returned = true;
    });
  }
  // The sockets already listen (connections queue); wait only until stop() can end the loops.
  for (auto& l : impl->listeners) {
    while (!l->server->is_running() && !l->listen_returned) std::this_thread::yield();
  }
  const char* scheme = opts.security.tls_cert_file.empty() ? "http" : "https";
  std::string auth_text = impl->auth.enabled() ? ", authentication on" : "";
  logger("rest")->info("REST API listening on {}://{}:{} ({} routes{})", scheme, opts.host,
                       impl->listeners[0]->port, impl->router.size(), auth_text);
  if (opts.admin_listener) {
    logger("rest")->info("REST admin listener on {}://{}:{}", scheme, opts.admin_host,
                         impl->listeners[1]->port);
  }
  return std::unique_ptr<RestServer>(new RestServer(std::move(impl)));
}

namespace {

Result<std::unique_ptr<Listener>> bind_listener(RestServer::Impl* self, const std::string& host,
                                                std::uint16_t wanted_port, bool admin) {
  const RestOptions& opts = self->ctx.options;
  auto listener = std::make_unique<Listener>();
  listener->admin = admin;
  const SecurityOptions& sec = opts.security;
  if (!sec.tls_cert_file.empty()) {
    auto ssl =
        std::make_unique<httplib::SSLServer>(sec.tls_cert_file.c_str(), sec.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Error(ErrorCode::kInvalidConfig,
                   "cannot load the TLS certificate " + sec.tls_cert_file + " and key " +
                       sec.tls_key_file + " (PEM files, the key matching the certificate)");
    }
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    listener->server = std::move(ssl);
  } else {
    listener->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *listener->server;
  std::size_t threads = opts.threads == 0 ? 1 : opts.threads;
  server.new_task_queue = [threads] { return new NamedThreadPool(threads); };
  server.set_payload_max_length(opts.max_body_bytes);
  // One request per connection: an idle keep-alive client would hold a pool thread and delay
  // stop() until its timeout; loopback connects are cheap and this is not a hot path.
  server.set_keep_alive_max_count(1);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // No SO_REUSEPORT (httplib's default): a second worker on the same port must fail to bind.
  // Remembers the listening socket: httplib listens with a backlog of 5, too short for a burst
  // of clients (dropped SYNs cost a 1 s retransmit), so it is raised after binding.
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });

  // One catch-all per method; our Router decides 404 vs 405 and never uses std::regex per route.
  auto handler = [self, admin](const httplib::Request& req, httplib::Response& res) {
    self->handle(req, res, admin);
  };
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3),
  // but httplib 0.11 reads the "body" of every POST/PUT/PATCH/DELETE up to EOF: a bodiless
  // `curl -X PUT .../pause` (no Content-Length) stalled for the read timeout and got 400. The
  // pre-routing hook runs before httplib reads any body, so such requests are answered here
  // with an empty body. Regression: tests/integration/worker_rest_test.cc (bodiless PUT).
  server.set_pre_routing_handler(
      [self, admin](const httplib::Request& req, httplib::Response& res) {
        if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding") ||
            req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        self->handle(req, res, admin);
        return httplib::Server::HandlerResponse::Handled;
      });
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Delete(".*", handler);
  server.Patch(".*", handler);
  server.Options(".*", handler);
  // Errors httplib answers itself (413, 414, 400 on a malformed request, unknown methods) get a
  // JSON body too; ours already have one.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(error_json(res.status, default_message(res.status)), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(error_json(500, "internal error"), "application/json");
      });
  // Path only: the query may carry ?config= with secrets, and bodies (and credentials) are
  // never logged.
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    static const auto log = logger("rest");
    if (res.status >= 500) {
      log->warn("{} {} -> {}", req.method, req.path, res.status);
    } else {
      log->debug("{} {} -> {}", req.method, req.path, res.status);
    }
  });

  int port = -1;
  if (wanted_port == 0) {
    port = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, wanted_port)) {
    port = wanted_port;
  }
  if (port <= 0) {
    return Error(ErrorCode::kIoError, "cannot bind the REST API to " + host + ":" +
                                          std::to_string(wanted_port) + ": " +
                                          std::strerror(errno));
  }
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  listener->port = static_cast<std::uint16_t>(port);
  return listener;
}

}  // namespace

RestServer::RestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestServer::~RestServer() {
  stop();
}

std::uint16_t RestServer::port() const {
  return impl_->listeners[0]->port;
}

std::uint16_t RestServer::admin_port() const {
  return impl_->listeners.size() > 1 ? impl_->listeners[1]->port : 0;
}

void RestServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& l : impl_->listeners) l->server->stop();
  for (auto& l : impl_->listeners) {
    if (l->thread.joinable()) l->thread.join();
  }
}

}  // namespace rmqc::rest
