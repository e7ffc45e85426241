#include "rest/rest_server.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rest/routes.h"

#include <sys/socket.h>

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

struct RestServer::Impl {
  Impl(RestOptions opts, runtime::ConnectController& controller)
      : ctx{controller, Redactor(opts.redact_patterns), opts,
            opts.commit.empty() ? std::string(RMQC_REST_COMMIT) : opts.commit} {}

  void handle(const httplib::Request& req, httplib::Response& res) const;

  RouteContext ctx;
  Router router;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::uint16_t port = 0;
  std::mutex stop_mutex;
  bool stopped = false;
};

void RestServer::Impl::handle(const httplib::Request& req, httplib::Response& res) const {
  RestRequest request;
  // httplib hands HEAD to the GET handlers and drops the body itself; the router knows which
  // GETs are safe to run for it.
  request.method = req.method;
  request.target = req.target;
  request.query.insert(req.params.begin(), req.params.end());
  request.body = req.body;
  RestResponse out = router.dispatch(request);
  res.status = out.status;
  for (auto& [key, value] : out.headers) res.set_header(key, value);
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

Result<std::unique_ptr<RestServer>> RestServer::start(RestOptions options,
                                                      runtime::ConnectController& controller) {
  auto impl = std::make_unique<Impl>(std::move(options), controller);
  const RestOptions& opts = impl->ctx.options;
  add_seed_routes(impl->router, impl->ctx);
  add_ops_routes(impl->router, impl->ctx);
  add_kafka_routes(impl->router, impl->ctx);
  add_operation_routes(impl->router, impl->ctx);

  httplib::Server& server = impl->server;
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
  Impl* self = impl.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->handle(req, res);
  };
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3),
  // but httplib 0.11 reads the "body" of every POST/PUT/PATCH/DELETE up to EOF: a bodiless
  // `curl -X PUT .../pause` (no Content-Length) stalled for the read timeout and got 400. The
  // pre-routing hook runs before httplib reads any body, so such requests are answered here
  // with an empty body. Regression: tests/integration/worker_rest_test.cc (bodiless PUT).
  server.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding") ||
        req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    self->handle(req, res);
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
  // Path only: the query may carry ?config= with secrets, and bodies are never logged.
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    static const auto log = logger("rest");
    if (res.status >= 500) {
      log->warn("{} {} -> {}", req.method, req.path, res.status);
    } else {
      log->debug("{} {} -> {}", req.method, req.path, res.status);
    }
  });

  int port = -1;
  if (opts.port == 0) {
    port = server.bind_to_any_port(opts.host);
  } else if (server.bind_to_port(opts.host, opts.port)) {
    port = opts.port;
  }
  if (port <= 0) {
    return Error(ErrorCode::kIoError, "cannot bind the REST API to " + opts.host + ":" +
                                          std::to_string(opts.port) + ": " + std::strerror(errno));
  }
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl->port = static_cast<std::uint16_t>(port);
  impl->thread = std::thread([self] {
    set_thread_name("rest-listen");
    self->server.listen_after_bind();
    self->listen_returned = true;
  });
  // The socket already listens (connections queue); wait only until stop() can end the loop.
  while (!server.is_running() && !impl->listen_returned) std::this_thread::yield();
  logger("rest")->info("REST API listening on {}:{} ({} routes)", opts.host, port,
                       impl->router.size());
  return std::unique_ptr<RestServer>(new RestServer(std::move(impl)));
}

RestServer::RestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RestServer::~RestServer() {
  stop();
}

std::uint16_t RestServer::port() const {
  return impl_->port;
}

void RestServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace rmqc::rest
