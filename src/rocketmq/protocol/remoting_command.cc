#include "rocketmq/protocol/remoting_command.h"

#include <array>

namespace rmqc::rocketmq {

namespace {
constexpr std::array<std::string_view, 13> kLanguageNames = {
    "JAVA",  "CPP",  "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO",     "PHP",    "OMS",    "RUST"};
}  // namespace

std::string_view language_name(LanguageCode language) {
  auto index = static_cast<std::size_t>(language);
  return index < kLanguageNames.size() ? kLanguageNames[index] : "OTHER";
}

bool parse_language(std::string_view name, LanguageCode* out) {
  for (std::size_t i = 0; i < kLanguageNames.size(); ++i) {
    if (kLanguageNames[i] == name) {
      *out = static_cast<LanguageCode>(i);
      return true;
    }
  }
  return false;
}

RemotingCommand RemotingCommand::request(std::int32_t code, ExtFields ext_fields) {
  RemotingCommand cmd;
  cmd.code = code;
  cmd.ext_fields = std::move(ext_fields);
  return cmd;
}

RemotingCommand RemotingCommand::response_to(const RemotingCommand& request, std::int32_t code,
                                             std::string remark) {
  RemotingCommand cmd;
  cmd.code = code;
  cmd.opaque = request.opaque;
  cmd.flag = RPC_TYPE;
  cmd.serialize_type = request.serialize_type;
  cmd.remark = std::move(remark);
  return cmd;
}

const std::string* RemotingCommand::ext(std::string_view key) const {
  auto it = ext_fields.find(key);
  return it == ext_fields.end() ? nullptr : &it->second;
}

}  // namespace rmqc::rocketmq
