#include "rocketmq/protocol/message_id.h"

#include "rocketmq/protocol/byte_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <ctime>
#include <ifaddrs.h>
#include <random>
#include <unistd.h>

namespace rmqc::rocketmq {

namespace {

Error bad(std::string message) {
  return Error(ErrorCode::kParseError, std::move(message));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

SocketAddress SocketAddress::ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                  std::int32_t port) {
  SocketAddress addr;
  addr.ip = {a, b, c, d};
  addr.port = port;
  return addr;
}

Result<SocketAddress> SocketAddress::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("address '" + std::string(text) + "' has no port");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return bad("address '" + std::string(text) + "' has a bad port");
  }
  SocketAddress addr;
  addr.port = port;
  std::string host_z(host);
  if (inet_pton(AF_INET, host_z.c_str(), addr.ip.data()) == 1) {
    return addr;
  }
  if (inet_pton(AF_INET6, host_z.c_str(), addr.ip.data()) == 1) {
    addr.v6 = true;
    return addr;
  }
  return bad("address '" + std::string(text) + "' is not a numeric IPv4/IPv6 address");
}

std::string SocketAddress::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof(buf));
  return buf;
}

std::string SocketAddress::to_string() const {
  return v6 ? "[" + ip_string() + "]:" + std::to_string(port)
            : ip_string() + ":" + std::to_string(port);
}

std::string hex_upper(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xF];
  }
  return out;
}

Result<std::string> unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return bad("hex string has odd length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad("invalid hex digit");
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string make_offset_msg_id(const SocketAddress& store_host, std::int64_t physical_offset) {
  std::string raw(reinterpret_cast<const char*>(store_host.ip.data()), store_host.ip_size());
  byte_io::append_be<std::int32_t>(raw, store_host.port);
  byte_io::append_be<std::int64_t>(raw, physical_offset);
  return hex_upper(raw);
}

Result<OffsetMsgId> decode_offset_msg_id(std::string_view msg_id) {
  // 32 chars => IPv4, otherwise IPv6 (spec §3.4); anything but 56 then is malformed.
  if (msg_id.size() != 32 && msg_id.size() != 56) {
    return bad("offsetMsgId '" + std::string(msg_id) + "' must have 32 or 56 hex digits");
  }
  RMQC_ASSIGN_OR_RETURN(std::string raw, unhex(msg_id));
  OffsetMsgId id;
  id.store_host.v6 = raw.size() == 28;
  const size_t ip_len = id.store_host.ip_size();
  std::memcpy(id.store_host.ip.data(), raw.data(), ip_len);
  id.store_host.port = byte_io::load_be<std::int32_t>(raw.data() + ip_len);
  id.physical_offset = byte_io::load_be<std::int64_t>(raw.data() + ip_len + 4);
  return id;
}

Result<UniqKeyInfo> decode_uniq_key(std::string_view uniq_key) {
  if (uniq_key.size() != 32 && uniq_key.size() != 56) {
    return bad("UNIQ_KEY '" + std::string(uniq_key) + "' must have 32 or 56 hex digits");
  }
  RMQC_ASSIGN_OR_RETURN(std::string raw, unhex(uniq_key));
  UniqKeyInfo info;
  info.ip.v6 = raw.size() == 28;
  const size_t ip_len = info.ip.ip_size();
  std::memcpy(info.ip.ip.data(), raw.data(), ip_len);
  const char* p = raw.data() + ip_len;
  info.pid = byte_io::load_be<std::uint16_t>(p);
  info.class_loader_hash = byte_io::load_be<std::int32_t>(p + 2);
  info.millis_in_month = byte_io::load_be<std::int32_t>(p + 6);
  info.counter = byte_io::load_be<std::uint16_t>(p + 10);
  return info;
}

UniqKeyGenerator::UniqKeyGenerator(const SocketAddress& ip, std::uint16_t pid,
                                   std::int32_t random) {
  std::string raw(reinterpret_cast<const char*>(ip.ip.data()), ip.ip_size());
  byte_io::append_be<std::uint16_t>(raw, pid);
  byte_io::append_be<std::int32_t>(raw, random);
  prefix_hex_ = hex_upper(raw);
}

UniqKeyGenerator UniqKeyGenerator::for_this_process() {
  SocketAddress ip = SocketAddress::ipv4(127, 0, 0, 1, 0);
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
      if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
      const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      const auto* b = reinterpret_cast<const std::uint8_t*>(&sin->sin_addr);
      if (b[0] == 127) continue;
      std::memcpy(ip.ip.data(), b, 4);
      break;
    }
    freeifaddrs(list);
  }
  std::random_device rd;
  return UniqKeyGenerator(ip, static_cast<std::uint16_t>(getpid()),
                          static_cast<std::int32_t>(rd()));
}

std::int32_t UniqKeyGenerator::millis_in_month(std::chrono::system_clock::time_point now) {
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  // localtime_r is comparatively slow; recompute the month bounds only when we leave them.
  std::lock_guard lock(month_mutex_);
  if (now_ms < month_start_ms_ || now_ms >= next_month_start_ms_) {
    std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    std::tm next_tm = tm;
    month_start_ms_ = static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
    next_tm.tm_mon += 1;
    next_tm.tm_isdst = -1;
    next_month_start_ms_ = static_cast<std::int64_t>(std::mktime(&next_tm)) * 1000;
  }
  return static_cast<std::int32_t>(now_ms - month_start_ms_);
}

void UniqKeyGenerator::append_next(std::string& out, std::int32_t millis_in_month) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const auto counter = static_cast<std::uint16_t>(counter_.fetch_add(1, std::memory_order_relaxed));
  // 4 bytes of millis, 2 of counter: 12 hex digits, most significant first.
  const std::uint64_t tail =
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(millis_in_month)) << 16) | counter;
  char digits[12];
  for (int i = 0; i < 12; ++i) digits[i] = kDigits[(tail >> (44 - 4 * i)) & 0xF];
  out.append(prefix_hex_);
  out.append(digits, sizeof(digits));
}

std::string UniqKeyGenerator::next(std::chrono::system_clock::time_point now) {
  std::string out;
  out.reserve(key_size());
  append_next(out, millis_in_month(now));
  return out;
}

}  // namespace rmqc::rocketmq
