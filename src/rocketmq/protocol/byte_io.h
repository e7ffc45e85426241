#pragma once

// Big-endian integer access for the wire formats. Everything RocketMQ puts on the wire is
// big-endian two's complement; these helpers go through memcpy so unaligned buffers are fine.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace rmqc::rocketmq::byte_io {

template <typename U>
inline U byteswap(U v) {
  if constexpr (sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return __builtin_bswap16(v);
  } else if constexpr (sizeof(U) == 4) {
    return __builtin_bswap32(v);
  } else {
    static_assert(sizeof(U) == 8);
    return __builtin_bswap64(v);
  }
}

template <typename T>
requires std::is_integral_v<T>
inline T load_be(const char* p) {
  std::make_unsigned_t<T> v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
    v = byteswap(v);
  }
  return static_cast<T>(v);
}

template <typename T>
requires std::is_integral_v<T>
inline void store_be(char* p, T value) {
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
    v = byteswap(v);
  }
  std::memcpy(p, &v, sizeof(v));
}

template <typename T>
requires std::is_integral_v<T>
inline void append_be(std::string& out, T value) {
  char tmp[sizeof(T)];
  store_be(tmp, value);
  out.append(tmp, sizeof(T));
}

// Bounds-checked cursor over untrusted bytes: every read reports failure instead of reading past
// the end, so decoders can turn truncation into an error.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  template <typename T>
  bool read(T& out) {
    if (remaining() < sizeof(T)) return false;
    out = load_be<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }

  bool read_bytes(size_t n, std::string_view& out) {
    if (remaining() < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace rmqc::rocketmq::byte_io
