#pragma once

// Socket addresses as RocketMQ stores them (4- or 16-byte IP + int32 port), the offsetMsgId
// (spec §3.4) and the client-side UNIQ_KEY (spec §3.8).

#include "rmqc/base/result.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace rmqc::rocketmq {

// An IPv4 or IPv6 address with a port, in the byte form of the stored-message layout.
struct SocketAddress {
  std::array<std::uint8_t, 16> ip{};  // network order; only the first 4 bytes used for IPv4
  bool v6 = false;
  std::int32_t port = 0;

  std::size_t ip_size() const { return v6 ? 16 : 4; }
  // Bytes this address takes in a stored message: ip + int32 port.
  std::size_t stored_size() const { return ip_size() + 4; }

  static SocketAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                            std::int32_t port);
  // "10.0.0.1:10911", "[::1]:10911" or "::1:10911" (last colon separates the port).
  static Result<SocketAddress> parse(std::string_view text);
  // "10.0.0.1:10911" / "[::1]:10911".
  std::string to_string() const;
  std::string ip_string() const;

  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

// Upper-case hex of raw bytes, and its inverse (accepts either case).
std::string hex_upper(std::string_view bytes);
Result<std::string> unhex(std::string_view hex);

// offsetMsgId = HEX(store ip || int32 port || int64 commit-log offset): 32 chars for IPv4, 56
// for IPv6.
std::string make_offset_msg_id(const SocketAddress& store_host, std::int64_t physical_offset);

struct OffsetMsgId {
  SocketAddress store_host;
  std::int64_t physical_offset = 0;
};
Result<OffsetMsgId> decode_offset_msg_id(std::string_view msg_id);

// Decoded fields of a UNIQ_KEY (spec §3.8).
struct UniqKeyInfo {
  SocketAddress ip;  // port unused
  std::uint16_t pid = 0;
  std::int32_t class_loader_hash = 0;
  std::int32_t millis_in_month = 0;  // ms since the start of the producer's local month
  std::uint16_t counter = 0;
};
Result<UniqKeyInfo> decode_uniq_key(std::string_view uniq_key);

// Generates UNIQ_KEY values like a Java producer: a fixed per-process prefix (ip, pid, random
// int) followed by the ms since the start of the current local month and a 16-bit counter.
// Thread-safe.
class UniqKeyGenerator {
 public:
  // `ip` should be the first non-loopback address of the host; `random` plays the role of Java's
  // class-loader hash.
  UniqKeyGenerator(const SocketAddress& ip, std::uint16_t pid, std::int32_t random);
  // Picks a local address (first non-loopback IPv4, else 127.0.0.1), getpid() and a random int.
  static UniqKeyGenerator for_this_process();

  std::string next() { return next(std::chrono::system_clock::now()); }
  std::string next(std::chrono::system_clock::time_point now);

  // The batch form: the month offset of `now` computed once (millis_in_month), then one key per
  // message appended to `out` (32 hex digits, 56 for an IPv6 prefix) with no allocation beyond
  // out's own growth. append_next(out, millis_in_month(t)) renders what next(t) returns.
  std::int32_t millis_in_month(std::chrono::system_clock::time_point now);
  void append_next(std::string& out, std::int32_t millis_in_month);
  // Length of every key this generator renders.
  std::size_t key_size() const { return prefix_hex_.size() + 12; }

 private:
  std::string prefix_hex_;
  std::atomic<std::uint32_t> counter_{0};
  std::mutex month_mutex_;
  std::int64_t month_start_ms_ = 0;  // cached [start, next) of the current local month
  std::int64_t next_month_start_ms_ = 0;
};

}  // namespace rmqc::rocketmq
