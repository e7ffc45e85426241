#include "rmqc/api/key_value.h"

#include "rmqc/api/errors.h"

#include <charconv>
#include <cstdlib>

namespace rmqc {
namespace {

[[noreturn]] void bad_value(std::string_view key, const std::string& value, const char* type) {
  throw DataException("config '" + std::string(key) + "': '" + value + "' is not a valid " + type);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

KeyValue& KeyValue::put(std::string key, std::string value) {
  map_.insert_or_assign(std::move(key), std::move(value));
  return *this;
}
KeyValue& KeyValue::put(std::string key, std::int64_t value) {
  return put(std::move(key), std::to_string(value));
}
KeyValue& KeyValue::put(std::string key, double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return put(std::move(key), std::string(buf, end));
}
KeyValue& KeyValue::put(std::string key, bool value) {
  return put(std::move(key), std::string(value ? "true" : "false"));
}

bool KeyValue::erase(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  map_.erase(it);
  return true;
}

const std::string* KeyValue::find(std::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

std::string KeyValue::get_string(std::string_view key, std::string_view fallback) const {
  const std::string* v = find(key);
  return v ? *v : std::string(fallback);
}

std::int64_t KeyValue::get_long(std::string_view key, std::int64_t fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  auto t = trim(*v);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) bad_value(key, *v, "long");
  return out;
}

std::int32_t KeyValue::get_int(std::string_view key, std::int32_t fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  auto t = trim(*v);
  std::int32_t out = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) bad_value(key, *v, "int");
  return out;
}

double KeyValue::get_double(std::string_view key, double fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  auto t = trim(*v);
  double out = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) bad_value(key, *v, "double");
  return out;
}

bool KeyValue::get_bool(std::string_view key, bool fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  auto t = trim(*v);
  if (t == "true" || t == "TRUE" || t == "True") return true;
  if (t == "false" || t == "FALSE" || t == "False") return false;
  bad_value(key, *v, "boolean");
}

KeyValue KeyValue::with_prefix_stripped(std::string_view prefix) const {
  KeyValue out;
  for (auto it = map_.lower_bound(prefix); it != map_.end() && it->first.starts_with(prefix);
       ++it) {
    if (it->first.size() > prefix.size()) out.put(it->first.substr(prefix.size()), it->second);
  }
  return out;
}

}  // namespace rmqc
