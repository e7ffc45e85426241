#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::transforms {

// A java.text.SimpleDateFormat pattern, compiled once, always in UTC (as Kafka's
// TimestampConverter and TimestampRouter use it). Supported letters: y M d H h a m s S E Z X
// and 'quoted text'; anything else is rejected by compile().
class TimeFormat {
 public:
  // nullopt and a reason in error when the pattern uses an unsupported letter.
  static std::optional<TimeFormat> compile(std::string_view pattern, std::string& error);

  std::string format(std::int64_t epoch_millis) const;
  void format_to(std::int64_t epoch_millis, std::string& out) const;
  // Epoch milliseconds, or nullopt when text does not match the pattern.
  std::optional<std::int64_t> parse(std::string_view text) const;

 private:
  struct Token {
    char letter = 0;  // 0: literal
    int count = 0;
    std::string literal;
  };
  std::vector<Token> tokens_;
};

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

// Floor division and modulo for negative epoch values.
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  return a - floor_div(a, b) * b;
}

}  // namespace rmqc::transforms
