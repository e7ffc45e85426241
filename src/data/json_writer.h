#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rmqc::json {

template <typename T>
inline void write_integer(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// Shortest round-trip form. NaN and infinities are not JSON numbers: written as the strings
// "NaN", "Infinity", "-Infinity" (what Jackson does for the Java converters).
template <typename T>
inline void write_floating(std::string& out, T v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
  }
}

// Appends to a std::string through a raw cursor: the string is resized while writing (to its
// capacity, but by at most kStartRoom: a reused buffer that once held a large body must not cost
// a memset of all of it per write) and cut to what was written when the Out goes away, so each
// piece written costs one capacity check and a copy instead of push_back's bookkeeping.
class Out {
 public:
  explicit Out(std::string& s) : s_(s) {
    const std::size_t used = s.size();
    s.resize(std::max(used + kMinRoom, std::min(s.capacity(), used + kStartRoom)));
    p_ = s.data() + used;
    end_ = s.data() + s.size();
  }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() { s_.resize(static_cast<std::size_t>(p_ - s_.data())); }

  // Room for n more characters at cursor(); write them, then advance(n) (or set_cursor).
  char* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
    return p_;
  }
  char* cursor() const { return p_; }
  void set_cursor(char* p) { p_ = p; }
  void advance(std::size_t n) { p_ += n; }

  void put(char c) {
    *room(1) = c;
    ++p_;
  }
  void append(const char* data, std::size_t n) {
    std::memcpy(room(n), data, n);
    p_ += n;
  }
  void append(std::string_view text) { append(text.data(), text.size()); }
  // A string literal: its length is known at compile time.
  template <std::size_t N>
  void literal(const char (&text)[N]) {
    append(text, N - 1);
  }

 private:
  static constexpr std::size_t kMinRoom = 64;
  static constexpr std::size_t kStartRoom = 4096;

  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(p_ - s_.data());
    s_.resize(std::max(s_.size() * 2, used + n + kMinRoom));
    p_ = s_.data() + used;
    end_ = s_.data() + s_.size();
  }

  std::string& s_;
  char* p_;
  char* end_;
};

namespace detail {
inline bool byte_is_plain(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\';
}

// The length of the longest prefix of s that needs no escaping in a JSON string (no byte below
// 0x20, no '"' or '\\'): 16 bytes at a time with SSE2, else 8 at a time in a 64-bit word.
inline std::size_t plain_prefix(const char* s, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1f);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // A byte b <= 0x1f (unsigned) is the one where min(b, 0x1f) == b.
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                     _mm_cmpeq_epi8(_mm_min_epu8(v, control_max), v));
    if (const int mask = _mm_movemask_epi8(hit); mask != 0) {
      return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
  }
#endif
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    const std::uint64_t quote_bits = w ^ (kOnes * '"');
    const std::uint64_t slash_bits = w ^ (kOnes * '\\');
    const std::uint64_t flagged = ((w - kOnes * 0x20) & ~w) | ((quote_bits - kOnes) & ~quote_bits) |
                                  ((slash_bits - kOnes) & ~slash_bits);
    if ((flagged & kHigh) != 0) break;  // the byte loop below finds which
  }
  while (i < n && byte_is_plain(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Writes the escape sequence of c (one that is not plain) at p; returns the end.
inline char* write_escape(char* p, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '\\';
  switch (c) {
    case '"':
      *p++ = '"';
      break;
    case '\\':
      *p++ = '\\';
      break;
    case '\n':
      *p++ = 'n';
      break;
    case '\r':
      *p++ = 'r';
      break;
    case '\t':
      *p++ = 't';
      break;
    case '\b':
      *p++ = 'b';
      break;
    case '\f':
      *p++ = 'f';
      break;
    default:
      std::memcpy(p, "u00", 3);
      p[3] = kHex[c >> 4];
      p[4] = kHex[c & 0xf];
      p += 5;
  }
  return p;
}
}  // namespace detail

// Writes s as a JSON string literal. UTF-8 passes through; quotes, backslashes and control
// characters are escaped.
inline void write_string(Out& out, std::string_view s) {
  const std::size_t n = s.size();
  std::size_t i = detail::plain_prefix(s.data(), n);
  if (i == n) {  // nothing to escape (the usual case): one copy
    char* p = out.room(n + 2);
    *p = '"';
    std::memcpy(p + 1, s.data(), n);
    p[n + 1] = '"';
    out.advance(n + 2);
    return;
  }
  // Room for the worst case: every remaining byte written as \u00XX.
  char* p = out.room(i + 6 * (n - i) + 2);
  *p++ = '"';
  std::memcpy(p, s.data(), i);
  p += i;
  while (i < n) {
    p = detail::write_escape(p, static_cast<unsigned char>(s[i]));
    ++i;
    const std::size_t run = detail::plain_prefix(s.data() + i, n - i);
    std::memcpy(p, s.data() + i, run);
    p += run;
    i += run;
  }
  *p++ = '"';
  out.set_cursor(p);
}

// The same, appended to a std::string.
inline void write_string(std::string& out, std::string_view s) {
  Out o(out);
  write_string(o, s);
}

template <typename T>
inline void write_integer(Out& out, T v) {
  char* p = out.room(24);
  out.set_cursor(std::to_chars(p, p + 24, v).ptr);
}

template <typename T>
inline void write_floating(Out& out, T v) {
  if (std::isnan(v)) {
    out.literal("\"NaN\"");
  } else if (std::isinf(v)) {
    if (v > 0) {
      out.literal("\"Infinity\"");
    } else {
      out.literal("\"-Infinity\"");
    }
  } else {
    char* p = out.room(32);
    out.set_cursor(std::to_chars(p, p + 32, v).ptr);
  }
}

}  // namespace rmqc::json
