#include "rocketmq/protocol/message_properties.h"

namespace rmqc::rocketmq {

MessageProperties parse_properties(std::string_view text) {
  MessageProperties out;
  for_each_property(text, [&](std::string_view name, std::string_view value) {
    out.insert_or_assign(std::string(name), std::string(value));
  });
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> parse_properties_view(
    std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for_each_property(
      text, [&](std::string_view name, std::string_view value) { out.emplace_back(name, value); });
  return out;
}

bool find_property(std::string_view text, std::string_view name, std::string_view* value) {
  bool found = false;
  for_each_property(text, [&](std::string_view n, std::string_view v) {
    if (n == name) {
      *value = v;
      found = true;
    }
  });
  return found;
}

void append_property(std::string& out, std::string_view name, std::string_view value) {
  if (name.empty() || value.empty()) return;
  if (!out.empty()) out.push_back(kPropertySeparator);
  out.append(name);
  out.push_back(kNameValueSeparator);
  out.append(value);
}

std::string encode_properties(const MessageProperties& properties) {
  std::string out;
  for (const auto& [name, value] : properties) append_property(out, name, value);
  return out;
}

}  // namespace rmqc::rocketmq
