#include "rocketmq/protocol/headers.h"

#include "rocketmq/protocol/request_code.h"

#include <array>
#include <charconv>
#include <strings.h>
#include <utility>

namespace rmqc::rocketmq {

namespace {

using Rename = std::string_view (*)(std::string_view);
std::string_view same_name(std::string_view name) {
  return name;
}

// SEND_MESSAGE_V2 short names (spec §2.3.3).
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kSendV2Names = {{
    {"producerGroup", "a"},
    {"topic", "b"},
    {"defaultTopic", "c"},
    {"defaultTopicQueueNums", "d"},
    {"queueId", "e"},
    {"sysFlag", "f"},
    {"bornTimestamp", "g"},
    {"flag", "h"},
    {"properties", "i"},
    {"reconsumeTimes", "j"},
    {"unitMode", "k"},
    {"maxReconsumeTimes", "l"},
    {"batch", "m"},
    {"bname", "n"},
}};

std::string_view send_v2_name(std::string_view name) {
  for (const auto& [long_name, short_name] : kSendV2Names) {
    if (long_name == name) return short_name;
  }
  return name;
}

std::string to_text(const std::string& v) {
  return v;
}
std::string to_text(bool v) {
  return v ? "true" : "false";
}
template <typename T>
requires std::is_integral_v<T> std::string to_text(T v) {
  return std::to_string(v);
}

bool from_text(std::string_view text, std::string& out) {
  out.assign(text);
  return true;
}
// Java's Boolean.parseBoolean: "true" in any case is true, anything else false.
bool from_text(std::string_view text, bool& out) {
  out = text.size() == 4 && strncasecmp(text.data(), "true", 4) == 0;
  return true;
}
template <typename T>
requires std::is_integral_v<T>
bool from_text(std::string_view text, T& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

template <typename T>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "boolean";
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return "int32";
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return "int64";
  } else {
    return "string";
  }
}

class Writer {
 public:
  explicit Writer(Rename rename) : rename_(rename) {}

  template <typename T>
  void operator()(std::string_view name, const T& value) {
    out_.insert_or_assign(std::string(rename_(name)), to_text(value));
  }
  template <typename T>
  void opt(std::string_view name, const std::optional<T>& value) {
    if (value) (*this)(name, *value);
  }
  void opt(std::string_view name, const std::string& value) {
    if (!value.empty()) (*this)(name, value);
  }
  template <typename T>
  void opt(std::string_view name, const T& value) {
    (*this)(name, value);
  }

  ExtFields take() { return std::move(out_); }

 private:
  Rename rename_;
  ExtFields out_;
};

class Reader {
 public:
  Reader(const ExtFields& fields, Rename rename) : fields_(fields), rename_(rename) {}

  template <typename T>
  void operator()(std::string_view name, T& out) {
    if (error_) return;
    const std::string_view wire = rename_(name);
    auto it = fields_.find(wire);
    if (it == fields_.end()) {
      error_ = Error(ErrorCode::kProtocolError,
                     "missing required header field '" + std::string(wire) + "'");
      return;
    }
    if (!from_text(it->second, out)) {
      error_ = Error(ErrorCode::kProtocolError, "header field '" + std::string(wire) + "' = '" +
                                                    it->second + "' is not a valid " +
                                                    std::string(type_name<T>()));
    }
  }
  template <typename T>
  void opt(std::string_view name, std::optional<T>& out) {
    auto it = fields_.find(rename_(name));
    if (it == fields_.end()) return;
    T value{};
    if (from_text(it->second, value)) out = std::move(value);
  }
  template <typename T>
  void opt(std::string_view name, T& out) {
    auto it = fields_.find(rename_(name));
    if (it == fields_.end()) return;
    T value{};
    if (from_text(it->second, value)) out = std::move(value);
  }

  std::optional<Error>& error() { return error_; }

 private:
  const ExtFields& fields_;
  Rename rename_;
  std::optional<Error> error_;
};

template <typename H>
ExtFields write_header(const H& header, Rename rename = same_name) {
  Writer w(rename);
  H::fields(header, w);
  return w.take();
}

template <typename H>
Result<H> read_header(const ExtFields& fields, Rename rename = same_name) {
  H header;
  Reader r(fields, rename);
  H::fields(header, r);
  if (r.error()) return std::move(*r.error());
  return header;
}

}  // namespace

#define RMQC_DEFINE_EXT_HEADER(Type)                            \
  ExtFields Type::to_ext_fields() const {                       \
    return write_header(*this);                                 \
  }                                                             \
  Result<Type> Type::from_ext_fields(const ExtFields& fields) { \
    return read_header<Type>(fields);                           \
  }

RMQC_DEFINE_EXT_HEADER(SendMessageRequestHeader)
RMQC_DEFINE_EXT_HEADER(SendMessageResponseHeader)
RMQC_DEFINE_EXT_HEADER(PullMessageRequestHeader)
RMQC_DEFINE_EXT_HEADER(PullMessageResponseHeader)
RMQC_DEFINE_EXT_HEADER(QueryConsumerOffsetRequestHeader)
RMQC_DEFINE_EXT_HEADER(OffsetResponseHeader)
RMQC_DEFINE_EXT_HEADER(UpdateConsumerOffsetRequestHeader)
RMQC_DEFINE_EXT_HEADER(QueueRequestHeader)
RMQC_DEFINE_EXT_HEADER(SearchOffsetRequestHeader)
RMQC_DEFINE_EXT_HEADER(GetEarliestMsgStoretimeResponseHeader)
RMQC_DEFINE_EXT_HEADER(GetRouteInfoRequestHeader)
RMQC_DEFINE_EXT_HEADER(RegisterBrokerRequestHeader)
RMQC_DEFINE_EXT_HEADER(RegisterBrokerResponseHeader)
RMQC_DEFINE_EXT_HEADER(UnregisterBrokerRequestHeader)
RMQC_DEFINE_EXT_HEADER(QueryDataVersionResponseHeader)
RMQC_DEFINE_EXT_HEADER(GetTopicsByClusterRequestHeader)
RMQC_DEFINE_EXT_HEADER(ConsumerGroupRequestHeader)
RMQC_DEFINE_EXT_HEADER(UnregisterClientRequestHeader)
RMQC_DEFINE_EXT_HEADER(ConsumerSendMsgBackRequestHeader)
RMQC_DEFINE_EXT_HEADER(EndTransactionRequestHeader)
RMQC_DEFINE_EXT_HEADER(CheckTransactionStateRequestHeader)
RMQC_DEFINE_EXT_HEADER(CreateTopicRequestHeader)
RMQC_DEFINE_EXT_HEADER(DeleteTopicRequestHeader)
RMQC_DEFINE_EXT_HEADER(ViewMessageRequestHeader)
RMQC_DEFINE_EXT_HEADER(QueryMessageRequestHeader)
RMQC_DEFINE_EXT_HEADER(QueryMessageResponseHeader)

#undef RMQC_DEFINE_EXT_HEADER

ExtFields SendMessageRequestHeader::to_v2_ext_fields() const {
  return write_header(*this, send_v2_name);
}

Result<SendMessageRequestHeader> SendMessageRequestHeader::from_v2_ext_fields(
    const ExtFields& fields) {
  return read_header<SendMessageRequestHeader>(fields, send_v2_name);
}

Result<SendMessageRequestHeader> SendMessageRequestHeader::from_command(
    const RemotingCommand& cmd) {
  return cmd.code == request_code::SEND_MESSAGE ? from_ext_fields(cmd.ext_fields)
                                                : from_v2_ext_fields(cmd.ext_fields);
}

}  // namespace rmqc::rocketmq
