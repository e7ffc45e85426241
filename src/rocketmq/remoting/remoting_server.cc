#include "rocketmq/remoting/remoting_server.h"

#include "base/logging.h"

#include <asio.hpp>
#include <atomic>
#include <future>
#include <mutex>
#include <unordered_map>

namespace rmqc::remoting {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// An output buffer keeps its capacity between writes up to this size (a large PULL reply's
// buffer is given back).
constexpr std::size_t kKeptOutputCapacity = 1 << 20;

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

class ServerImpl;

class ConnectionImpl final : public Connection,
                             public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(asio::ip::tcp::socket socket, ServerImpl& server, std::uint64_t id);

  void start();
  void send(const rocketmq::RemotingCommand& command) override;
  void close() override;
  bool is_open() const override { return open_.load(std::memory_order_acquire); }
  const std::string& remote_address() const override { return remote_; }
  const std::string& local_address() const override { return local_; }
  std::uint64_t id() const override { return id_; }

 private:
  void read_more();
  void on_read(std::size_t n);
  void write_more();
  void queue_frame(const rocketmq::RemotingCommand& command);
  void arm_idle_timer();
  void do_close();

  asio::ip::tcp::socket socket_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer idle_timer_;
  ServerImpl& server_;
  std::uint64_t id_;
  std::string remote_;
  std::string local_;
  rocketmq::FrameDecoder decoder_;
  // Strand only. Replies are encoded straight into outbox_; the frames answering the requests of
  // one read go out in one write after the last of them (dispatching_ is set meanwhile). Whatever
  // the socket does not take at once moves to writing_ for an async_write.
  std::string outbox_;
  std::string writing_;
  bool writing_async_ = false;
  bool dispatching_ = false;
  std::atomic<bool> open_{true};
  bool closed_notified_ = false;
  std::chrono::steady_clock::time_point last_activity_;
};

class ServerImpl final : public RemotingServer {
 public:
  ServerImpl(asio::io_context& io, ServerOptions options, RequestHandler& handler)
      : io_(io), options_(std::move(options)), handler_(handler), acceptor_(io) {}

  Result<void> listen() {
    asio::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument, "bad listen address '" + options_.host + "'");
    }
    asio::ip::tcp::endpoint ep(address, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable, options_.name + ": cannot listen on " + options_.host +
                                                ":" + std::to_string(options_.port) + ": " +
                                                ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    return {};
  }

  std::uint16_t port() const override { return port_; }

  void stop() override {
    // Close the listening socket on the I/O threads (asio objects are not thread-safe) and wait
    // for it, so a stopped server refuses connections at once; if the loop is not running,
    // close it here.
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(io_, [this, closed] {
      asio::error_code ec;
      acceptor_.close(ec);
      closed->set_value();
    });
    if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      asio::error_code ec;
      acceptor_.close(ec);
    }
    std::vector<std::shared_ptr<ConnectionImpl>> all;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, weak] : connections_) {
        if (auto c = weak.lock()) all.push_back(std::move(c));
      }
    }
    for (auto& c : all) c->close();
  }

  ~ServerImpl() override {
    asio::error_code ec;
    acceptor_.close(ec);
  }

  const ServerOptions& options() const { return options_; }
  RequestHandler& handler() { return handler_; }
  void forget(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          logger(options_.name)->warn("accept failed: {}", ec.message());
          accept();
        }
        return;
      }
      asio::error_code opt_ec;
      socket.set_option(asio::ip::tcp::no_delay(true), opt_ec);
      auto conn = std::make_shared<ConnectionImpl>(std::move(socket), *this, ++next_id_);
      {
        std::lock_guard lock(mutex_);
        connections_[conn->id()] = conn;
      }
      conn->start();
      accept();
    });
  }

  asio::io_context& io_;
  ServerOptions options_;
  RequestHandler& handler_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> next_id_{0};
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<ConnectionImpl>> connections_;
};

ConnectionImpl::ConnectionImpl(asio::ip::tcp::socket socket, ServerImpl& server, std::uint64_t id)
    : socket_(std::move(socket)),
      strand_(asio::make_strand(static_cast<asio::io_context&>(socket_.get_executor().context()))),
      idle_timer_(strand_),
      server_(server),
      id_(id),
      decoder_(server.options().max_frame_size),
      last_activity_(std::chrono::steady_clock::now()) {
  asio::error_code ec;
  auto r = socket_.remote_endpoint(ec);
  remote_ = ec ? "unknown" : endpoint_text(r);
  auto l = socket_.local_endpoint(ec);
  local_ = ec ? "unknown" : endpoint_text(l);
}

void ConnectionImpl::start() {
  // Replies are first written synchronously (write_more): never block the I/O thread for it.
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  asio::post(strand_, [self = shared_from_this()] {
    self->arm_idle_timer();
    self->read_more();
  });
}

void ConnectionImpl::read_more() {
  auto buffer = decoder_.prepare(kReadChunk);
  socket_.async_read_some(
      asio::buffer(buffer.data(), buffer.size()),
      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, std::size_t n) {
        if (ec) {
          self->decoder_.commit(0);
          self->do_close();
          return;
        }
        self->on_read(n);
      }));
}

void ConnectionImpl::on_read(std::size_t n) {
  decoder_.commit(n);
  last_activity_ = std::chrono::steady_clock::now();
  auto self = shared_from_this();
  dispatching_ = true;
  while (is_open()) {
    auto next = decoder_.next();
    if (!next.ok()) {
      logger(server_.options().name)->warn("closing {}: {}", remote_, next.error().message());
      dispatching_ = false;
      do_close();
      return;
    }
    if (!next->has_value()) break;
    server_.handler().on_request(self, std::move(**next));
  }
  dispatching_ = false;
  write_more();
  if (is_open()) read_more();
}

void ConnectionImpl::queue_frame(const rocketmq::RemotingCommand& command) {
  if (auto r = rocketmq::append_frame(command, outbox_, server_.options().max_frame_size);
      !r.ok()) {
    logger(server_.options().name)
        ->error("cannot encode reply to {}: {}", remote_, r.error().message());
  }
}

void ConnectionImpl::send(const rocketmq::RemotingCommand& command) {
  if (strand_.running_in_this_thread()) {
    // A reply from the request handler (or another handler of this connection): no hop.
    if (!is_open()) return;
    queue_frame(command);
    if (!dispatching_) write_more();
    return;
  }
  std::string frame;
  if (auto r = rocketmq::append_frame(command, frame, server_.options().max_frame_size); !r.ok()) {
    logger(server_.options().name)
        ->error("cannot encode reply to {}: {}", remote_, r.error().message());
    return;
  }
  asio::post(strand_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
    if (!self->is_open()) return;
    if (self->outbox_.empty()) {
      self->outbox_.swap(frame);
    } else {
      self->outbox_.append(frame);
    }
    if (!self->dispatching_) self->write_more();
  });
}

void ConnectionImpl::write_more() {
  if (outbox_.empty() || writing_async_ || !is_open()) return;
  // Most replies fit the socket buffer: write them now, without a round through the reactor.
  asio::error_code ec;
  std::size_t n = socket_.write_some(asio::buffer(outbox_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    n = 0;
  } else if (ec) {
    do_close();
    return;
  }
  last_activity_ = std::chrono::steady_clock::now();
  if (n == outbox_.size()) {
    outbox_.clear();
    if (outbox_.capacity() > kKeptOutputCapacity) outbox_.shrink_to_fit();
    return;
  }
  writing_.swap(outbox_);  // the rest goes out asynchronously; new replies queue behind it
  outbox_.clear();
  writing_async_ = true;
  asio::async_write(
      socket_, asio::buffer(writing_.data() + n, writing_.size() - n),
      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, std::size_t) {
        self->writing_async_ = false;
        self->writing_.clear();
        if (self->writing_.capacity() > kKeptOutputCapacity) self->writing_.shrink_to_fit();
        if (ec) {
          self->do_close();
          return;
        }
        self->last_activity_ = std::chrono::steady_clock::now();
        self->write_more();
      }));
}

void ConnectionImpl::arm_idle_timer() {
  auto timeout = server_.options().idle_timeout;
  idle_timer_.expires_after(timeout);
  idle_timer_.async_wait([self = shared_from_this(), timeout](asio::error_code ec) {
    if (ec || !self->is_open()) return;
    if (std::chrono::steady_clock::now() - self->last_activity_ >= timeout) {
      logger(self->server_.options().name)->info("closing idle connection {}", self->remote_);
      self->do_close();
      return;
    }
    self->arm_idle_timer();
  });
}

void ConnectionImpl::close() {
  asio::post(strand_, [self = shared_from_this()] { self->do_close(); });
}

void ConnectionImpl::do_close() {
  open_.store(false, std::memory_order_release);
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
  outbox_.clear();
  if (!closed_notified_) {
    closed_notified_ = true;
    server_.handler().on_close(shared_from_this());
    server_.forget(id_);
  }
}

}  // namespace

Result<std::unique_ptr<RemotingServer>> RemotingServer::start(asio::io_context& io,
                                                              ServerOptions options,
                                                              RequestHandler& handler) {
  auto server = std::make_unique<ServerImpl>(io, std::move(options), handler);
  RMQC_RETURN_IF_ERROR(server->listen());
  return std::unique_ptr<RemotingServer>(std::move(server));
}

}  // namespace rmqc::remoting
