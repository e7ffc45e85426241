#include "transforms/time_format.h"

#include <array>
#include <cctype>

namespace rmqc::transforms {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kWeekdays = {
    "Thursday", "Friday",  "Saturday", "Sunday",
    "Monday",   "Tuesday", "Wednesday"};  // from 1970-01-01

bool is_numeric_letter(char c) {
  return c == 'y' || c == 'M' || c == 'd' || c == 'H' || c == 'h' || c == 'm' || c == 's' ||
         c == 'S';
}

void append_padded(std::string& out, std::int64_t v, int width) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  if (v < 0) out += '-';
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out += '0';
  out += digits;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::optional<TimeFormat> TimeFormat::compile(std::string_view pattern, std::string& error) {
  TimeFormat f;
  for (std::size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      // 'text' is literal; '' is a quote.
      std::string lit;
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '\'') {
        lit = "'";
        i = j + 1;
      } else {
        for (; j < pattern.size(); ++j) {
          if (pattern[j] == '\'') {
            if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
              lit += '\'';
              ++j;
              continue;
            }
            break;
          }
          lit += pattern[j];
        }
        if (j >= pattern.size()) {
          error = "unterminated quote in date format '" + std::string(pattern) + "'";
          return std::nullopt;
        }
        i = j + 1;
      }
      f.tokens_.push_back(Token{0, 0, std::move(lit)});
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < pattern.size() && pattern[j] == c) ++j;
      if (std::string_view("yMdHhamsSEZX").find(c) == std::string_view::npos) {
        error = "unsupported letter '" + std::string(1, c) + "' in date format '" +
                std::string(pattern) + "' (supported: y M d H h a m s S E Z X)";
        return std::nullopt;
      }
      f.tokens_.push_back(Token{c, static_cast<int>(j - i), {}});
      i = j;
      continue;
    }
    if (!f.tokens_.empty() && f.tokens_.back().letter == 0) {
      f.tokens_.back().literal += c;
    } else {
      f.tokens_.push_back(Token{0, 0, std::string(1, c)});
    }
    ++i;
  }
  return f;
}

std::string TimeFormat::format(std::int64_t epoch_millis) const {
  std::string out;
  format_to(epoch_millis, out);
  return out;
}

void TimeFormat::format_to(std::int64_t epoch_millis, std::string& out) const {
  std::int64_t days = floor_div(epoch_millis, 86'400'000);
  std::int64_t ms_of_day = floor_mod(epoch_millis, 86'400'000);
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  std::int64_t hour = ms_of_day / 3'600'000;
  for (const auto& t : tokens_) {
    switch (t.letter) {
      case 0:
        out += t.literal;
        break;
      case 'y':
        append_padded(out, t.count == 2 ? y % 100 : y, t.count);
        break;
      case 'M':
        if (t.count >= 4) {
          out += kMonths[m - 1];
        } else if (t.count == 3) {
          out += kMonths[m - 1].substr(0, 3);
        } else {
          append_padded(out, m, t.count);
        }
        break;
      case 'd':
        append_padded(out, d, t.count);
        break;
      case 'H':
        append_padded(out, hour, t.count);
        break;
      case 'h':
        append_padded(out, hour % 12 == 0 ? 12 : hour % 12, t.count);
        break;
      case 'a':
        out += hour < 12 ? "AM" : "PM";
        break;
      case 'm':
        append_padded(out, ms_of_day / 60'000 % 60, t.count);
        break;
      case 's':
        append_padded(out, ms_of_day / 1000 % 60, t.count);
        break;
      case 'S':
        append_padded(out, ms_of_day % 1000, t.count);
        break;
      case 'E': {
        auto name = kWeekdays[static_cast<std::size_t>(floor_mod(days, 7))];
        out += t.count >= 4 ? name : name.substr(0, 3);
        break;
      }
      case 'Z':
        out += "+0000";
        break;
      case 'X':
        out += 'Z';
        break;
      default:
        break;
    }
  }
}

std::optional<std::int64_t> TimeFormat::parse(std::string_view text) const {
  std::int64_t y = 1970;
  std::int64_t mon = 1;
  std::int64_t day = 1;
  std::int64_t hour = 0;
  std::int64_t minute = 0;
  std::int64_t sec = 0;
  std::int64_t milli = 0;
  std::int64_t offset_minutes = 0;
  bool pm = false;
  bool twelve_hour = false;
  std::size_t pos = 0;
  auto read_number = [&](int min_width, int max_width, std::int64_t& out) {
    std::size_t start = pos;
    bool negative = false;
    if (pos < text.size() && text[pos] == '-' && max_width > 4) {
      negative = true;
      ++pos;
      ++start;
    }
    std::int64_t v = 0;
    while (pos < text.size() && static_cast<int>(pos - start) < max_width &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      v = v * 10 + (text[pos] - '0');
      ++pos;
    }
    if (static_cast<int>(pos - start) < min_width) return false;
    out = negative ? -v : v;
    return true;
  };
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const Token& t = tokens_[i];
    if (t.letter == 0) {
      if (text.substr(pos, t.literal.size()) != t.literal) return std::nullopt;
      pos += t.literal.size();
      continue;
    }
    // Adjacent numeric fields ("yyyyMMdd") take exactly their pattern width.
    bool adjacent = i + 1 < tokens_.size() && is_numeric_letter(tokens_[i + 1].letter);
    int min_width = adjacent ? t.count : 1;
    // Bounded so the epoch arithmetic below cannot overflow (years up to 999999).
    int max_width = adjacent ? t.count : t.letter == 'y' ? 6 : 9;
    bool ok = true;
    switch (t.letter) {
      case 'y':
        ok = read_number(min_width, max_width, y);
        if (ok && t.count == 2 && y < 100) y += y < 70 ? 2000 : 1900;
        break;
      case 'M':
        if (t.count >= 3) {
          ok = false;
          for (std::size_t k = 0; k < kMonths.size() && !ok; ++k) {
            auto name = t.count == 3 ? kMonths[k].substr(0, 3) : kMonths[k];
            if (equals_ignore_case(text.substr(pos, name.size()), name)) {
              mon = static_cast<std::int64_t>(k) + 1;
              pos += name.size();
              ok = true;
            }
          }
        } else {
          ok = read_number(min_width, max_width, mon);
        }
        break;
      case 'd':
        ok = read_number(min_width, max_width, day);
        break;
      case 'H':
        ok = read_number(min_width, max_width, hour);
        break;
      case 'h':
        ok = read_number(min_width, max_width, hour);
        twelve_hour = true;
        break;
      case 'a':
        if (equals_ignore_case(text.substr(pos, 2), "PM")) {
          pm = true;
        } else if (!equals_ignore_case(text.substr(pos, 2), "AM")) {
          ok = false;
        }
        pos += 2;
        break;
      case 'm':
        ok = read_number(min_width, max_width, minute);
        break;
      case 's':
        ok = read_number(min_width, max_width, sec);
        break;
      case 'S':
        ok = read_number(min_width, max_width, milli);
        break;
      case 'E':
        ok = false;
        for (auto name : kWeekdays) {
          auto n = t.count >= 4 ? name : name.substr(0, 3);
          if (equals_ignore_case(text.substr(pos, n.size()), n)) {
            pos += n.size();
            ok = true;
            break;
          }
        }
        break;
      case 'Z':
      case 'X': {
        if (pos < text.size() && text[pos] == 'Z') {
          ++pos;
          break;
        }
        if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
          ok = false;
          break;
        }
        int sign = text[pos++] == '-' ? -1 : 1;
        std::int64_t hh = 0;
        std::int64_t mm = 0;
        ok = read_number(2, 2, hh);
        if (ok && pos < text.size() && text[pos] == ':') ++pos;
        if (ok && pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          ok = read_number(2, 2, mm);
        }
        offset_minutes = sign * (hh * 60 + mm);
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (twelve_hour) hour = hour % 12 + (pm ? 12 : 0);
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60) {
    return std::nullopt;
  }
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute - offset_minutes) * 60'000 + sec * 1000 + milli;
}

}  // namespace rmqc::transforms
