#include "rocketmq/remoting/remoting_client.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/protocol/byte_io.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace rmqc::remoting {
namespace {

using rocketmq::RemotingCommand;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxGather = 64;

thread_local const void* tls_io_owner = nullptr;

Error unavailable(const std::string& address, std::string_view why) {
  return Error::retriable(ErrorCode::kUnavailable,
                          "connection to " + address + " " + std::string(why));
}

}  // namespace

class Channel;

struct RemotingClient::Impl : std::enable_shared_from_this<RemotingClient::Impl> {
  explicit Impl(RemotingClientOptions o) : options(std::move(o)), scan_timer(io) {}

  struct Backoff {
    int failures = 0;
    Clock::time_point next_attempt{};
  };

  RemotingClientOptions options;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // Fails requests at their deadline. Armed for the earliest deadline of any pending request and
  // idle while none is pending, so a client whose only requests are held long polls sleeps.
  std::mutex scan_mutex;  // scan_timer, scan_at
  asio::steady_timer scan_timer;
  std::atomic<Clock::rep> scan_at{Clock::time_point::max().time_since_epoch().count()};
  std::vector<std::thread> threads;
  ServerRequestHandler server_handler;
  RpcHook rpc_hook;
  std::atomic<std::int32_t> next_opaque{1};
  std::atomic<bool> stopped{false};

  mutable std::mutex mutex;  // channels + backoff
  std::unordered_map<std::string, std::shared_ptr<Channel>> channels;
  std::unordered_map<std::string, Backoff> backoff;

  void start();
  Result<std::shared_ptr<Channel>> channel_for(const std::string& address);
  void connect_failed(const std::string& address, const std::shared_ptr<Channel>& channel);
  void connect_succeeded(const std::string& address);
  // Makes sure the scan timer fires by `deadline`.
  void arm_scan(Clock::time_point deadline);
  void scan(asio::error_code ec);
  Result<std::string> encode(RemotingCommand& request, std::string_view body);
};

// One TCP connection. Socket state lives on the strand; the pending table has its own mutex
// because requests are registered from caller threads.
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  struct Pending {
    Clock::time_point deadline;
    ResponseCallback callback;
  };

  Channel(RemotingClient::Impl& owner, std::string address)
      : owner_(owner),
        address_(std::move(address)),
        socket_(owner.io),
        strand_(asio::make_strand(owner.io)),
        connect_timer_(strand_),
        decoder_(owner.options.max_frame_size) {}

  const std::string& address() const { return address_; }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  bool open() const { return connected_.load(std::memory_order_acquire) && !closed(); }

  void connect() {
    auto colon = address_.rfind(':');
    if (colon == std::string::npos) {
      fail_connect("has no port");
      return;
    }
    std::string host = address_.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    std::string port = address_.substr(colon + 1);
    asio::error_code ec;
    asio::ip::tcp::resolver resolver(owner_.io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) {
      fail_connect("cannot resolve: " + ec.message());
      return;
    }
    auto self = shared_from_this();
    asio::post(strand_, [self, endpoints] {
      self->connect_timer_.expires_after(self->owner_.options.connect_timeout);
      self->connect_timer_.async_wait([self](asio::error_code ec) {
        if (!ec && !self->connected_.load()) {
          asio::error_code ignored;
          self->socket_.close(ignored);  // completes async_connect with an error
        }
      });
      asio::async_connect(
          self->socket_, endpoints,
          asio::bind_executor(self->strand_,
                              [self](asio::error_code ec, const asio::ip::tcp::endpoint&) {
                                self->connect_timer_.cancel();
                                if (ec || self->closed()) {
                                  self->fail_connect(ec ? ec.message() : "closed");
                                  return;
                                }
                                asio::error_code opt;
                                self->socket_.set_option(asio::ip::tcp::no_delay(true), opt);
                                self->socket_.native_non_blocking(true, opt);
                                self->owner_.connect_succeeded(self->address_);
                                self->read_more();
                                std::lock_guard lock(self->write_mutex_);
                                self->fd_ = self->socket_.native_handle();
                                self->connected_.store(true, std::memory_order_release);
                                self->flush_locked();
                              }));
    });
  }

  // Registers the pending reply (unless callback is empty) and queues the frame.
  void send(std::int32_t opaque, std::string frame, Clock::time_point deadline,
            ResponseCallback callback) {
    bool registered = false;
    if (callback) {
      std::lock_guard lock(pending_mutex_);
      if (closed()) {
        // Raced with a close: fail outside the lock below.
      } else {
        pending_.emplace(opaque, Pending{deadline, std::move(callback)});
        callback = nullptr;
        registered = true;
      }
    }
    if (callback) {
      callback(unavailable(address_, "is closed"));
      return;
    }
    if (registered) owner_.arm_scan(deadline);
    enqueue(std::move(frame));
  }

  void close(Error why) {
    asio::post(strand_, [self = shared_from_this(), why = std::move(why)]() mutable {
      self->do_close(std::move(why));
    });
  }

  // Fails requests whose deadline passed; returns the earliest deadline still pending (max when
  // none is).
  Clock::time_point expire(Clock::time_point now) {
    std::vector<ResponseCallback> expired;
    auto next = Clock::time_point::max();
    {
      std::lock_guard lock(pending_mutex_);
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          expired.push_back(std::move(it->second.callback));
          it = pending_.erase(it);
        } else {
          next = std::min(next, it->second.deadline);
          ++it;
        }
      }
    }
    for (auto& cb : expired) {
      cb(Error::retriable(ErrorCode::kTimeout, "request to " + address_ + " timed out"));
    }
    return next;
  }

  std::size_t pending_count() {
    std::lock_guard lock(pending_mutex_);
    return pending_.size();
  }

 private:
  void fail_connect(const std::string& why) {
    logger(owner_.options.name)->debug("cannot connect to {}: {}", address_, why);
    owner_.connect_failed(address_, shared_from_this());
    close(unavailable(address_, "failed: " + why));
  }

  void read_more() {
    auto buffer = decoder_.prepare(kReadChunk);
    socket_.async_read_some(
        asio::buffer(buffer.data(), buffer.size()),
        asio::bind_executor(
            strand_, [self = shared_from_this()](asio::error_code ec, std::size_t n) {
              if (ec) {
                self->decoder_.commit(0);
                self->do_close(unavailable(self->address_, ec == asio::error::eof
                                                               ? "closed by peer"
                                                               : "lost: " + ec.message()));
                return;
              }
              self->on_read(n);
            }));
  }

  void on_read(std::size_t n) {
    decoder_.commit(n);
    while (!closed()) {
      auto next = decoder_.next();
      if (!next.ok()) {
        logger(owner_.options.name)
            ->warn("closing connection to {}: {}", address_, next.error().message());
        do_close(unavailable(address_, "broken: " + next.error().message()));
        return;
      }
      if (!next->has_value()) break;
      RemotingCommand cmd = std::move(**next);
      if (cmd.is_response()) {
        on_response(std::move(cmd));
      } else {
        on_server_request(std::move(cmd));
      }
    }
    if (!closed()) read_more();
  }

  void on_response(RemotingCommand cmd) {
    ResponseCallback cb;
    {
      std::lock_guard lock(pending_mutex_);
      auto it = pending_.find(cmd.opaque);
      if (it == pending_.end()) return;  // timed out already: drop, as Java does
      cb = std::move(it->second.callback);
      pending_.erase(it);
    }
    cb(std::move(cmd));
  }

  void on_server_request(RemotingCommand cmd) {
    std::optional<RemotingCommand> reply;
    const bool oneway = cmd.is_oneway();
    const auto opaque = cmd.opaque;
    const auto type = cmd.serialize_type;
    const auto code = cmd.code;
    if (owner_.server_handler) {
      reply = owner_.server_handler(address_, std::move(cmd));
    } else if (!oneway) {
      reply = RemotingCommand{};
      reply->code = 3;  // REQUEST_CODE_NOT_SUPPORTED
      reply->remark = " request type " + std::to_string(code) + " not supported";
    }
    if (!reply || oneway) return;
    reply->opaque = opaque;
    reply->serialize_type = type;
    reply->flag = rocketmq::RPC_TYPE;
    reply->language = owner_.options.language;
    reply->version = owner_.options.version;
    std::string frame;
    if (rocketmq::append_frame(*reply, frame, owner_.options.max_frame_size).ok()) {
      enqueue(std::move(frame));
    }
  }

  // Writes go straight from the calling thread to the non-blocking socket (sendmsg on the file
  // descriptor, under write_mutex_), so a request costs no hand-off to an I/O thread; only when
  // the socket buffer is full does an I/O thread wait for writability and continue.
  void enqueue(std::string frame) {
    std::lock_guard lock(write_mutex_);
    if (closed()) return;
    outbox_.push_back(std::move(frame));
    if (connected_.load(std::memory_order_acquire) && !waiting_writable_) flush_locked();
  }

  void flush_locked() {
    while (!outbox_.empty() && fd_ >= 0) {
      iovec iov[kMaxGather];
      std::size_t n = 0;
      for (auto it = outbox_.begin(); it != outbox_.end() && n < kMaxGather; ++it, ++n) {
        std::size_t skip = n == 0 ? head_written_ : 0;
        iov[n].iov_base = it->data() + skip;
        iov[n].iov_len = it->size() - skip;
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = n;
      ssize_t written = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (written < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          waiting_writable_ = true;
          asio::post(strand_, [self = shared_from_this()] { self->wait_writable(); });
          return;
        }
        std::string why = std::strerror(errno);
        outbox_.clear();
        close(unavailable(address_, "lost: " + why));
        return;
      }
      auto left = static_cast<std::size_t>(written);
      while (left > 0) {
        std::size_t rest = outbox_.front().size() - head_written_;
        if (left >= rest) {
          left -= rest;
          outbox_.pop_front();
          head_written_ = 0;
        } else {
          head_written_ += left;
          left = 0;
        }
      }
    }
  }

  void wait_writable() {
    if (closed()) return;
    socket_.async_wait(
        asio::socket_base::wait_write,
        asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
          std::lock_guard lock(self->write_mutex_);
          self->waiting_writable_ = false;
          if (ec || self->closed()) return;
          self->flush_locked();
        }));
  }

  void do_close(Error why) {
    {
      // Writers use the descriptor under this lock: it must not be closed (and its number
      // reused) under them.
      std::lock_guard lock(write_mutex_);
      closed_.store(true);
      fd_ = -1;
      outbox_.clear();
      asio::error_code ec;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }
    connect_timer_.cancel();
    std::unordered_map<std::int32_t, Pending> pending;
    {
      std::lock_guard lock(pending_mutex_);
      pending.swap(pending_);
    }
    for (auto& [opaque, p] : pending) p.callback(why);
  }

  RemotingClient::Impl& owner_;
  std::string address_;
  asio::ip::tcp::socket socket_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer connect_timer_;
  rocketmq::FrameDecoder decoder_;
  std::mutex write_mutex_;  // outbox_, head_written_, waiting_writable_, fd_
  std::deque<std::string> outbox_;
  std::size_t head_written_ = 0;  // bytes of outbox_.front() already sent
  bool waiting_writable_ = false;
  int fd_ = -1;
  std::atomic<bool> connected_{false};
  std::atomic<bool> closed_{false};
  std::mutex pending_mutex_;
  std::unordered_map<std::int32_t, Pending> pending_;
};

void RemotingClient::Impl::start() {
  work.emplace(io.get_executor());
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    // The thread keeps the Impl alive: shutdown() may run on an I/O thread (a callback that
    // destroys the client), in which case that thread is detached and must not outlive it.
    threads.emplace_back([self = shared_from_this(), i] {
      set_thread_name(self->options.io_threads > 1
                          ? fit_thread_name(self->options.thread_name, "", "-" + std::to_string(i))
                          : self->options.thread_name);
      tls_io_owner = self.get();
      self->io.run();
    });
  }
}

void RemotingClient::Impl::arm_scan(Clock::time_point deadline) {
  // Fast path: the timer already fires by then (the usual case: later requests, later deadlines).
  if (deadline.time_since_epoch().count() >= scan_at.load(std::memory_order_acquire)) return;
  std::lock_guard lock(scan_mutex);
  if (stopped.load() || deadline.time_since_epoch().count() >= scan_at.load()) return;
  scan_at.store(deadline.time_since_epoch().count(), std::memory_order_release);
  // Replaces (cancels) the wait armed for a later deadline; timer calls are serialized by
  // scan_mutex, here and in the handler.
  scan_timer.expires_at(deadline);
  scan_timer.async_wait([this](asio::error_code ec) { scan(ec); });
}

void RemotingClient::Impl::scan(asio::error_code ec) {
  if (ec || stopped.load()) return;  // re-armed for an earlier deadline, or shut down
  {
    std::lock_guard lock(scan_mutex);
    // Requests registered from here on arm the timer themselves.
    scan_at.store(Clock::time_point::max().time_since_epoch().count(), std::memory_order_release);
  }
  std::vector<std::shared_ptr<Channel>> all;
  {
    std::lock_guard lock(mutex);
    all.reserve(channels.size());
    for (auto& [addr, ch] : channels) all.push_back(ch);
  }
  auto now = Clock::now();
  auto next = Clock::time_point::max();
  for (auto& ch : all) next = std::min(next, ch->expire(now));
  if (next != Clock::time_point::max()) arm_scan(next);
}

Result<std::shared_ptr<Channel>> RemotingClient::Impl::channel_for(const std::string& address) {
  if (stopped.load()) return Error(ErrorCode::kCancelled, "remoting client is shut down");
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex);
    auto it = channels.find(address);
    if (it != channels.end() && !it->second->closed()) return it->second;
    auto b = backoff.find(address);
    if (b != backoff.end() && b->second.failures > 0 && Clock::now() < b->second.next_attempt) {
      return unavailable(address, "failed recently; reconnecting after backoff");
    }
    channel = std::make_shared<Channel>(*this, address);
    channels[address] = channel;
  }
  channel->connect();
  return channel;
}

void RemotingClient::Impl::connect_failed(const std::string& address,
                                          const std::shared_ptr<Channel>& channel) {
  std::lock_guard lock(mutex);
  auto& b = backoff[address];
  b.failures = std::min(b.failures + 1, 16);
  auto delay = options.min_reconnect_backoff * (1 << std::min(b.failures - 1, 10));
  delay = std::min(delay, options.max_reconnect_backoff);
  b.next_attempt = Clock::now() + delay;
  auto it = channels.find(address);
  if (it != channels.end() && it->second == channel) channels.erase(it);
}

void RemotingClient::Impl::connect_succeeded(const std::string& address) {
  std::lock_guard lock(mutex);
  backoff.erase(address);
}

Result<std::string> RemotingClient::Impl::encode(RemotingCommand& request, std::string_view body) {
  request.opaque = next_opaque.fetch_add(1, std::memory_order_relaxed) & 0x7FFFFFFF;
  request.flag &= ~rocketmq::RPC_TYPE;
  request.language = options.language;
  request.version = options.version;
  request.serialize_type = options.serialize_type;
  if (rpc_hook) rpc_hook(request, body);
  request.body.clear();
  std::string frame;
  frame.reserve(256 + body.size());
  RMQC_RETURN_IF_ERROR(rocketmq::append_frame(request, frame, options.max_frame_size));
  if (frame.size() + body.size() > options.max_frame_size) {
    return Error(ErrorCode::kResourceExhausted,
                 "frame of " + std::to_string(frame.size() + body.size()) +
                     " bytes exceeds the maximum " + std::to_string(options.max_frame_size));
  }
  // append_frame wrote the length for an empty body; add the body behind it.
  auto length = static_cast<std::int32_t>(frame.size() - 4 + body.size());
  rocketmq::byte_io::store_be<std::int32_t>(frame.data(), length);
  frame.append(body);
  return frame;
}

RemotingClient::RemotingClient(RemotingClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {
  impl_->start();
}

RemotingClient::~RemotingClient() {
  shutdown();
}

void RemotingClient::set_server_request_handler(ServerRequestHandler handler) {
  impl_->server_handler = std::move(handler);
}

void RemotingClient::set_rpc_hook(RpcHook hook) {
  impl_->rpc_hook = std::move(hook);
}

bool RemotingClient::in_io_thread() const {
  return tls_io_owner == impl_.get();
}

void RemotingClient::invoke_async(const std::string& address, RemotingCommand request,
                                  std::chrono::milliseconds timeout, ResponseCallback callback) {
  std::string body = std::move(request.body);
  invoke_async(address, std::move(request), body, timeout, std::move(callback));
}

void RemotingClient::invoke_async(const std::string& address, RemotingCommand request,
                                  std::string_view body, std::chrono::milliseconds timeout,
                                  ResponseCallback callback) {
  auto frame = impl_->encode(request, body);
  if (!frame.ok()) {
    callback(std::move(frame).error());
    return;
  }
  auto channel = impl_->channel_for(address);
  if (!channel.ok()) {
    callback(std::move(channel).error());
    return;
  }
  (*channel)->send(request.opaque, std::move(frame).value(), Clock::now() + timeout,
                   std::move(callback));
}

Result<RemotingCommand> RemotingClient::invoke(const std::string& address, RemotingCommand request,
                                               std::chrono::milliseconds timeout) {
  std::string body = std::move(request.body);
  return invoke(address, std::move(request), body, timeout);
}

Result<RemotingCommand> RemotingClient::invoke(const std::string& address, RemotingCommand request,
                                               std::string_view body,
                                               std::chrono::milliseconds timeout) {
  if (in_io_thread()) {
    return Error(ErrorCode::kInternal, "blocking invoke on a remoting I/O thread would deadlock");
  }
  auto promise = std::make_shared<std::promise<Result<RemotingCommand>>>();
  auto future = promise->get_future();
  invoke_async(address, std::move(request), body, timeout,
               [promise](Result<RemotingCommand> r) { promise->set_value(std::move(r)); });
  // The scan timer fails the request at its deadline; the extra wait only covers shutdown races.
  if (future.wait_for(timeout + std::chrono::seconds(5)) != std::future_status::ready) {
    return Error::retriable(ErrorCode::kTimeout, "request to " + address + " timed out");
  }
  return future.get();
}

Result<void> RemotingClient::invoke_oneway(const std::string& address, RemotingCommand request,
                                           std::string_view body) {
  if (body.empty() && !request.body.empty()) {
    std::string owned = std::move(request.body);
    return invoke_oneway(address, std::move(request), owned);
  }
  request.flag |= rocketmq::RPC_ONEWAY;
  RMQC_ASSIGN_OR_RETURN(std::string frame, impl_->encode(request, body));
  RMQC_ASSIGN_OR_RETURN(auto channel, impl_->channel_for(address));
  channel->send(request.opaque, std::move(frame), Clock::now(), nullptr);
  return {};
}

void RemotingClient::close_connection(const std::string& address) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->channels.find(address);
    if (it == impl_->channels.end()) return;
    channel = std::move(it->second);
    impl_->channels.erase(it);
  }
  channel->close(unavailable(address, "closed by the client"));
}

bool RemotingClient::is_connected(const std::string& address) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->channels.find(address);
  return it != impl_->channels.end() && it->second->open();
}

void RemotingClient::shutdown() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  std::vector<std::shared_ptr<Channel>> all;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [addr, ch] : impl_->channels) all.push_back(ch);
    impl_->channels.clear();
  }
  for (auto& ch : all) ch->close(Error(ErrorCode::kCancelled, "remoting client shut down"));
  {
    std::lock_guard lock(impl_->scan_mutex);
    impl_->scan_timer.cancel();
  }
  impl_->work.reset();
  for (auto& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // shut down from a callback: the thread exits when run() returns
    } else {
      t.join();
    }
  }
  impl_->threads.clear();
}

}  // namespace rmqc::remoting
