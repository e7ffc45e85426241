#pragma once

#include <cstdint>
#include <string_view>

namespace rmqc::broker {

// Java String.hashCode() of a UTF-8 string: s[0]*31^(n-1) + ... over UTF-16 code units, int32
// wrap-around. RocketMQ stores it (sign-extended to int64) as the consume-queue tags code and
// compares it with the hash codes of a subscription's tags. Invalid UTF-8 bytes count as one
// code unit each (U+FFFD would differ from Java only for input Java could not have produced).
inline int32_t java_string_hash(std::string_view s) {
  uint32_t h = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    uint32_t cp = *p;
    int extra = cp < 0x80           ? 0
                : (cp >> 5) == 0x6  ? 1
                : (cp >> 4) == 0xE  ? 2
                : (cp >> 3) == 0x1E ? 3
                                    : -1;
    if (extra < 0 || end - p <= extra) {
      h = h * 31 + 0xFFFD;
      ++p;
      continue;
    }
    if (extra > 0) {
      cp &= (0x3F >> extra);
      for (int i = 1; i <= extra; ++i) cp = (cp << 6) | (p[i] & 0x3F);
    }
    p += extra + 1;
    if (cp >= 0x10000) {  // surrogate pair
      cp -= 0x10000;
      h = h * 31 + (0xD800 + (cp >> 10));
      h = h * 31 + (0xDC00 + (cp & 0x3FF));
    } else {
      h = h * 31 + cp;
    }
  }
  return static_cast<int32_t>(h);
}

// Consume-queue tags code of a message with tag `tag` (empty: 0, as RocketMQ stores untagged).
inline int64_t tags_code(std::string_view tag) {
  return tag.empty() ? 0 : static_cast<int64_t>(java_string_hash(tag));
}

}  // namespace rmqc::broker
