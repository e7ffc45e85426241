#pragma once

#include "rmqc/base/result.h"

#include "rocketmq/protocol/frame_codec.h"
#include "rocketmq/protocol/remoting_command.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace rmqc::remoting {

// A synchronous remoting connection: one request at a time, for control-plane calls (a broker
// registering with a remote name server, command-line tools, tests). Requests the server sends
// on its own (NOTIFY_CONSUMER_IDS_CHANGED) while waiting are kept for take_server_request().
// Not thread-safe.
class BlockingClient {
 public:
  BlockingClient() = default;
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // address = "host:port".
  Result<void> connect(std::string_view address, std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  void close();

  // Sends request (its opaque is assigned here) and waits for the reply with the same opaque.
  Result<rocketmq::RemotingCommand> invoke(rocketmq::RemotingCommand request,
                                           std::chrono::milliseconds timeout);
  // Sends a oneway request (flag RPC_ONEWAY set here).
  Result<void> invoke_oneway(rocketmq::RemotingCommand request);
  // Writes raw bytes (tests of malformed input).
  Result<void> send_raw(std::string_view bytes);

  // A request the server pushed, waiting up to timeout for one if none is queued.
  Result<rocketmq::RemotingCommand> take_server_request(std::chrono::milliseconds timeout);

 private:
  Result<void> write_all(std::string_view bytes);
  // Reads until one command is decoded or the deadline passes.
  Result<rocketmq::RemotingCommand> read_one(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::int32_t next_opaque_ = 1;
  rocketmq::FrameDecoder decoder_;
  std::deque<rocketmq::RemotingCommand> server_requests_;
};

}  // namespace rmqc::remoting
