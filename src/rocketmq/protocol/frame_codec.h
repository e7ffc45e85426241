#pragma once

// Remoting frames (spec §1.2): length | serialize type + header length | header | body, with the
// JSON (§1.3) and ROCKETMQ binary (§1.4) header forms.

#include "rmqc/base/result.h"

#include "rocketmq/protocol/remoting_command.h"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rmqc::rocketmq {

// com.rocketmq.remoting.frameMaxLength: 16 MiB counted including the 4-byte length prefix, so
// the largest accepted length field is 16777212 (verified against a real server).
inline constexpr std::size_t kDefaultMaxFrameSize = 16u << 20;
inline constexpr std::size_t kFramePrefixSize = 8;  // length + serialize type/header length

// Encodes the header alone in cmd.serialize_type. JSON is written as Java does: keys in
// alphabetical order, extFields values as strings, control characters escaped.
Result<std::string> encode_header(const RemotingCommand& cmd);

// Appends a whole frame (length prefix included) to `out`. Fails with kInvalidArgument if the
// frame would exceed max_frame_size or a binary header field does not fit (code > 32767, ...).
Result<void> append_frame(const RemotingCommand& cmd, std::string& out,
                          std::size_t max_frame_size = kDefaultMaxFrameSize);
Result<std::string> encode_frame(const RemotingCommand& cmd,
                                 std::size_t max_frame_size = kDefaultMaxFrameSize);

// Decodes a header of the given type (the bytes between the prefix and the body).
Result<RemotingCommand> decode_header(SerializeType type, std::string_view header);

// Decodes one frame. `frame` must be exactly one frame, length prefix included.
Result<RemotingCommand> decode_frame(std::string_view frame,
                                     std::size_t max_frame_size = kDefaultMaxFrameSize);

// Incremental decoder for a byte stream (one per TCP connection). Feed whatever arrived, then
// call next() until it reports "need more". Any error is sticky: the stream cannot be
// resynchronised and the connection should be closed, as Java does. The buffer only ever holds
// bytes actually received, so a hostile length prefix never causes a large allocation; it is
// rejected as soon as its 4 bytes arrive.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_size = kDefaultMaxFrameSize)
      : max_frame_size_(max_frame_size) {}

  void feed(std::string_view bytes);
  // Zero-copy feeding for socket reads: write up to n bytes into prepare(n), then commit(k)
  // before calling next() again.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n);

  // A complete command, std::nullopt if more bytes are needed, or the (sticky) error.
  Result<std::optional<RemotingCommand>> next();

  std::size_t buffered() const { return buffer_.size() - prepared_ - read_pos_; }
  bool failed() const { return error_.has_value(); }

 private:
  Result<void> check_prefix(std::size_t available) const;
  Result<std::optional<RemotingCommand>> fail(Error error);

  std::size_t max_frame_size_;
  std::string buffer_;        // a slab reused across reads (see frame_codec.cc)
  std::size_t read_pos_ = 0;  // start of the bytes not decoded yet
  std::size_t prepared_ = 0;  // free bytes at the end of buffer_
  std::optional<Error> error_;
};

}  // namespace rmqc::rocketmq
