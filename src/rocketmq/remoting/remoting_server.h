#pragma once

#include "rmqc/base/result.h"

#include "rocketmq/protocol/frame_codec.h"
#include "rocketmq/protocol/remoting_command.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace asio {
class io_context;
}

namespace rmqc::remoting {

// One accepted TCP connection. send() and close() are safe from any thread; responses and
// broker-initiated requests (NOTIFY_CONSUMER_IDS_CHANGED) are written in the order queued.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void send(const rocketmq::RemotingCommand& command) = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // "ip:port" of the peer, and of our end.
  virtual const std::string& remote_address() const = 0;
  virtual const std::string& local_address() const = 0;
  virtual std::uint64_t id() const = 0;
};
using ConnectionPtr = std::shared_ptr<Connection>;

// Called on the connection's I/O strand: requests of one connection are handled one at a time,
// in arrival order; different connections run concurrently on the io_context's threads.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void on_request(const ConnectionPtr& connection, rocketmq::RemotingCommand request) = 0;
  virtual void on_close(const ConnectionPtr& connection) { (void)connection; }
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = pick a free port; see RemotingServer::port()
  std::size_t max_frame_size = rocketmq::kDefaultMaxFrameSize;
  // A connection silent in both directions this long is closed (RocketMQ: 120 s).
  std::chrono::milliseconds idle_timeout{120'000};
  std::string name = "remoting";  // for logs
};

// A TCP server speaking remoting frames. Malformed input closes that connection only.
class RemotingServer {
 public:
  static Result<std::unique_ptr<RemotingServer>> start(asio::io_context& io, ServerOptions options,
                                                       RequestHandler& handler);
  virtual ~RemotingServer() = default;
  virtual std::uint16_t port() const = 0;
  // Stops accepting and closes every connection.
  virtual void stop() = 0;
};

}  // namespace rmqc::remoting
