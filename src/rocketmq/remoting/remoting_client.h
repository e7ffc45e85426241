#pragma once

#include "rmqc/base/result.h"

#include "rocketmq/protocol/frame_codec.h"
#include "rocketmq/protocol/remoting_command.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc::remoting {

using ResponseCallback = std::function<void(Result<rocketmq::RemotingCommand>)>;

// A request the server pushed (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE ...). Runs
// on an I/O thread: keep it short. The returned reply is sent unless the request was oneway;
// std::nullopt answers nothing.
using ServerRequestHandler = std::function<std::optional<rocketmq::RemotingCommand>(
    const std::string& address, rocketmq::RemotingCommand request)>;

// Called with every outgoing request just before it is encoded (ACL signing). `body` is the
// body that will be sent.
using RpcHook = std::function<void(rocketmq::RemotingCommand& request, std::string_view body)>;

struct RemotingClientOptions {
  int io_threads = 1;
  std::chrono::milliseconds connect_timeout{3000};
  // After a failed connect, new requests to that address fail fast until the backoff (doubling
  // from min to max) has passed, so a dead broker costs callers nothing.
  std::chrono::milliseconds min_reconnect_backoff{100};
  std::chrono::milliseconds max_reconnect_backoff{5000};
  std::size_t max_frame_size = rocketmq::kDefaultMaxFrameSize;
  rocketmq::SerializeType serialize_type = rocketmq::SerializeType::JSON;
  rocketmq::LanguageCode language = rocketmq::LanguageCode::CPP;
  std::int32_t version = rocketmq::kDefaultVersion;
  std::string name = "client";  // logger name
  // Name of the I/O threads (15 bytes at most; "-<n>" is appended when there are several).
  std::string thread_name = "rmq-io";
};

// An asynchronous, multiplexing remoting client (spec §1.1): one connection per peer address,
// any number of requests in flight matched by opaque, requests pushed by the server handed to
// the ServerRequestHandler, reconnect with backoff. Thread-safe. Callbacks run on the client's
// I/O threads and must not block; the synchronous invoke() refuses to run on them.
class RemotingClient {
 public:
  explicit RemotingClient(RemotingClientOptions options = {});
  ~RemotingClient();
  RemotingClient(const RemotingClient&) = delete;
  RemotingClient& operator=(const RemotingClient&) = delete;

  // Set before the first request.
  void set_server_request_handler(ServerRequestHandler handler);
  void set_rpc_hook(RpcHook hook);

  // Sends `request` (code, ext fields ...; its body is ignored) with `body` to `address`
  // ("host:port"). The frame is encoded before this returns, so `body` only has to live until
  // then. `callback` gets the response, or kTimeout / kUnavailable (both retriable) or
  // kCancelled. Opaque, language, version and serialize type are set here.
  void invoke_async(const std::string& address, rocketmq::RemotingCommand request,
                    std::string_view body, std::chrono::milliseconds timeout,
                    ResponseCallback callback);
  void invoke_async(const std::string& address, rocketmq::RemotingCommand request,
                    std::chrono::milliseconds timeout, ResponseCallback callback);

  // Blocking form of invoke_async; kInternal when called from an I/O thread of this client.
  Result<rocketmq::RemotingCommand> invoke(const std::string& address,
                                           rocketmq::RemotingCommand request,
                                           std::chrono::milliseconds timeout);
  Result<rocketmq::RemotingCommand> invoke(const std::string& address,
                                           rocketmq::RemotingCommand request, std::string_view body,
                                           std::chrono::milliseconds timeout);

  // Sets the oneway flag and queues the frame; success means "queued", not "delivered".
  Result<void> invoke_oneway(const std::string& address, rocketmq::RemotingCommand request,
                             std::string_view body = {});

  // Closes the connection to `address` (its pending requests fail with kUnavailable); the
  // next request reconnects at once.
  void close_connection(const std::string& address);
  bool is_connected(const std::string& address) const;

  // Fails every pending request with kCancelled, closes all connections, joins the I/O
  // threads. Idempotent; also run by the destructor.
  void shutdown();

  // True on one of this client's I/O threads.
  bool in_io_thread() const;

  struct Impl;  // implementation detail (remoting_client.cc)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rmqc::remoting
