#include "jdbc/common/values.h"

#include "rmqc/api/logical.h"

#include <absl/time/civil_time.h>

#include <charconv>
#include <cstdlib>
#include <limits>
#include <string>

namespace rmqc::connectors::jdbc {
namespace {

Error bad(std::string_view what, std::string_view text) {
  return Error(ErrorCode::kParseError,
               "not a valid " + std::string(what) + ": '" + std::string(text) + "'");
}

// Reads exactly n digits at text[pos]; advances pos.
bool digits(std::string_view text, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  out = v;
  return true;
}

// "[-]YYYY-MM-DD" at pos (years of 4+ digits).
bool read_date(std::string_view text, std::size_t& pos, absl::CivilDay& out) {
  bool negative = pos < text.size() && text[pos] == '-';
  if (negative) ++pos;
  std::size_t start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos - start < 4) return false;
  std::int64_t year = 0;
  std::from_chars(text.data() + start, text.data() + pos, year);
  if (negative) year = -year;
  int month = 0;
  int day = 0;
  if (pos >= text.size() || text[pos] != '-') return false;
  ++pos;
  if (!digits(text, pos, 2, month)) return false;
  if (pos >= text.size() || text[pos] != '-') return false;
  ++pos;
  if (!digits(text, pos, 2, day)) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  out = absl::CivilDay(year, month, day);
  // CivilDay normalises 2023-02-30 to March: reject instead.
  return out.month() == month && out.day() == day;
}

// "HH:MM:SS[.fraction]" at pos -> milliseconds (fraction truncated to ms). Hours may exceed 23
// (MySQL TIME spans +-838 hours); the caller decides what is allowed.
bool read_time(std::string_view text, std::size_t& pos, std::int64_t& millis) {
  std::size_t start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos - start < 2) return false;
  std::int64_t hours = 0;
  std::from_chars(text.data() + start, text.data() + pos, hours);
  int minutes = 0;
  int seconds = 0;
  if (pos >= text.size() || text[pos] != ':') return false;
  ++pos;
  if (!digits(text, pos, 2, minutes)) return false;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!digits(text, pos, 2, seconds)) return false;
  }
  if (minutes > 59 || seconds > 60) return false;
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    std::size_t frac_start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == frac_start) return false;
  }
  millis = ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms;
  return true;
}

// "+08", "+0800", "+08:00", "-05:30", "Z" at pos -> offset seconds.
bool read_offset(std::string_view text, std::size_t& pos, int& seconds) {
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
    seconds = 0;
    return true;
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return false;
  int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int h = 0;
  int m = 0;
  int s = 0;
  if (!digits(text, pos, 2, h)) return false;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (!digits(text, pos, 2, m)) return false;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && !digits(text, pos, 2, s)) {
      return false;
    }
  }
  if (h > 18 || m > 59 || s > 59) return false;
  seconds = sign * (h * 3600 + m * 60 + s);
  return true;
}

void append_padded(std::string& out, std::int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (v < 0) out.push_back('-');
  for (int i = static_cast<int>(s.size()); i < width; ++i) out.push_back('0');
  out += s;
}

std::string format_civil_second(const absl::CivilSecond& cs, int millis) {
  std::string out;
  out.reserve(23);
  append_padded(out, cs.year(), 4);
  out.push_back('-');
  append_padded(out, cs.month(), 2);
  out.push_back('-');
  append_padded(out, cs.day(), 2);
  out.push_back(' ');
  append_padded(out, cs.hour(), 2);
  out.push_back(':');
  append_padded(out, cs.minute(), 2);
  out.push_back(':');
  append_padded(out, cs.second(), 2);
  out.push_back('.');
  append_padded(out, millis, 3);
  return out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

const absl::CivilDay kEpochDay(1970, 1, 1);

}  // namespace

Result<TimeZone> TimeZone::load(std::string_view name) {
  TimeZone tz;
  std::string trimmed(name);
  if (trimmed.empty() || trimmed == "UTC" || trimmed == "Z" || trimmed == "GMT" ||
      trimmed == "Etc/UTC") {
    return tz;
  }
  // Fixed offsets: "+08:00", "UTC+8", "GMT-05:30".
  std::string_view offset_text = trimmed;
  if (offset_text.starts_with("UTC") || offset_text.starts_with("GMT")) {
    offset_text.remove_prefix(3);
  }
  if (!offset_text.empty() && (offset_text[0] == '+' || offset_text[0] == '-')) {
    std::string normalised(offset_text);
    // "+8" -> "+08"
    if (normalised.size() == 2 || (normalised.size() > 2 && normalised[2] == ':')) {
      normalised.insert(1, "0");
    }
    std::size_t pos = 0;
    int seconds = 0;
    if (!read_offset(normalised, pos, seconds) || pos != normalised.size()) {
      return Error(ErrorCode::kInvalidConfig, "unknown time zone '" + trimmed + "'");
    }
    tz.zone_ = absl::FixedTimeZone(seconds);
    tz.name_ = seconds == 0 ? "UTC" : trimmed;
    return tz;
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(trimmed, &zone)) {
    return Error(ErrorCode::kInvalidConfig,
                 "unknown time zone '" + trimmed +
                     "' (expected an IANA name such as Asia/Shanghai, UTC or an offset such as "
                     "+08:00)");
  }
  tz.zone_ = zone;
  tz.name_ = trimmed;
  return tz;
}

Result<std::int32_t> parse_date(std::string_view text) {
  std::size_t pos = 0;
  absl::CivilDay day;
  if (!read_date(text, pos, day) || pos != text.size()) return bad("date", text);
  return static_cast<std::int32_t>(day - kEpochDay);
}

Result<std::int32_t> parse_time(std::string_view text) {
  std::size_t pos = 0;
  bool negative = !text.empty() && text[0] == '-';
  if (negative) ++pos;
  std::int64_t millis = 0;
  if (!read_time(text, pos, millis) || pos != text.size()) return bad("time", text);
  if (negative) millis = -millis;
  return static_cast<std::int32_t>(millis);
}

Result<std::int64_t> parse_timestamp(std::string_view text, const TimeZone& zone) {
  std::size_t pos = 0;
  absl::CivilDay day;
  if (!read_date(text, pos, day)) return bad("timestamp", text);
  std::int64_t millis = 0;
  if (pos < text.size()) {
    if (text[pos] != ' ' && text[pos] != 'T') {
      // A date with an offset only is not a timestamp.
      return bad("timestamp", text);
    }
    ++pos;
    if (!read_time(text, pos, millis) || millis >= logical::kMillisPerDay) {
      return bad("timestamp", text);
    }
  }
  const std::int64_t seconds_of_day = millis / 1000;
  const absl::CivilSecond civil(
      day.year(), day.month(), day.day(), static_cast<int>(seconds_of_day / 3600),
      static_cast<int>(seconds_of_day / 60 % 60), static_cast<int>(seconds_of_day % 60));
  absl::Time instant;
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos < text.size()) {
    int offset = 0;
    if (!read_offset(text, pos, offset) || pos != text.size()) return bad("timestamp", text);
    instant = absl::FromCivil(civil, absl::FixedTimeZone(offset));
  } else {
    instant = absl::FromCivil(civil, zone.zone());
  }
  return absl::ToUnixMillis(instant) + millis % 1000;
}

std::string format_date(std::int32_t days) {
  const absl::CivilDay day = kEpochDay + days;
  std::string out;
  append_padded(out, day.year(), 4);
  out.push_back('-');
  append_padded(out, day.month(), 2);
  out.push_back('-');
  append_padded(out, day.day(), 2);
  return out;
}

std::string format_time(std::int32_t millis) {
  std::string out;
  std::int64_t v = millis;
  if (v < 0) {
    out.push_back('-');
    v = -v;
  }
  append_padded(out, v / 3'600'000, 2);
  out.push_back(':');
  append_padded(out, v / 60'000 % 60, 2);
  out.push_back(':');
  append_padded(out, v / 1000 % 60, 2);
  out.push_back('.');
  append_padded(out, v % 1000, 3);
  return out;
}

std::string format_timestamp(std::int64_t epoch_millis, const TimeZone& zone) {
  const std::int64_t seconds = floor_div(epoch_millis, 1000);
  const int millis = static_cast<int>(epoch_millis - seconds * 1000);
  const absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(seconds), zone.zone());
  return format_civil_second(cs, millis);
}

Result<Decimal> parse_decimal(std::string_view text, std::int32_t scale) {
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string digits_text;
  digits_text.reserve(t.size() + static_cast<std::size_t>(scale > 0 ? scale : 0) + 1);
  std::size_t pos = 0;
  if (pos < t.size() && (t[pos] == '-' || t[pos] == '+')) {
    if (t[pos] == '-') digits_text.push_back('-');
    ++pos;
  }
  std::size_t int_digits = 0;
  while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
    digits_text.push_back(t[pos++]);
    ++int_digits;
  }
  std::int32_t frac = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (frac >= scale) {
        if (t[pos] != '0') {
          return Error(ErrorCode::kSchemaMismatch, "decimal '" + std::string(text) +
                                                       "' has more than " + std::to_string(scale) +
                                                       " fractional digits");
        }
      } else {
        digits_text.push_back(t[pos]);
        ++frac;
      }
      ++pos;
    }
  }
  if (pos != t.size() || (int_digits == 0 && frac == 0)) return bad("decimal", text);
  for (; frac < scale; ++frac) digits_text.push_back('0');
  if (scale > 0) digits_text.insert(digits_text.size() - static_cast<std::size_t>(scale), ".");
  Decimal out;
  if (!Decimal::parse(digits_text, out)) return bad("decimal", text);
  if (out.scale != scale) return bad("decimal", text);
  return out;
}

Result<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return bad("integer", text);
  return v;
}

Result<double> parse_double(std::string_view text) {
  if (text == "Infinity" || text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity" || text == "-inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN" || text == "nan") return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return bad("number", text);
  return v;
}

std::string to_hex(const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return bad("hex string", hex.substr(0, 64));
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad("hex string", hex.substr(0, 64));
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace rmqc::connectors::jdbc
