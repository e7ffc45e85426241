#include "rocketmq/protocol/frame_codec.h"

#include "rocketmq/protocol/bodies.h"
#include "rocketmq/protocol/byte_io.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstring>
#include <limits>

namespace rmqc::rocketmq {

namespace {

using byte_io::Reader;

Error protocol_error(std::string message) {
  return Error(ErrorCode::kProtocolError, std::move(message));
}

// ---------------------------------------------------------------------------------------------
// JSON header writer. Hand-written because the output must be exactly what Java's fastjson
// produces (alphabetical keys, strings only in extFields, \u00XX escapes) and this is the hot
// path of every request; parsing goes through a fast path for the usual shape, nlohmann below for
// everything else.

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('"');
  std::size_t run = 0;  // start of the characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_json_header(const RemotingCommand& cmd, std::string& out) {
  out += "{\"code\":";
  out += std::to_string(cmd.code);
  if (cmd.ext_fields_present || !cmd.ext_fields.empty()) {
    out += ",\"extFields\":{";
    bool first = true;
    for (const auto& [key, value] : cmd.ext_fields) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(out, key);
      out.push_back(':');
      append_json_string(out, value);
    }
    out.push_back('}');
  }
  out += ",\"flag\":";
  out += std::to_string(cmd.flag);
  out += ",\"language\":\"";
  out += language_name(cmd.language);
  out += "\",\"opaque\":";
  out += std::to_string(cmd.opaque);
  if (!cmd.remark.empty()) {
    out += ",\"remark\":";
    append_json_string(out, cmd.remark);
  }
  out += ",\"serializeTypeCurrentRPC\":\"";
  out += cmd.serialize_type == SerializeType::ROCKETMQ ? "ROCKETMQ" : "JSON";
  out += "\",\"version\":";
  out += std::to_string(cmd.version);
  out.push_back('}');
}

// ---------------------------------------------------------------------------------------------
// JSON header reader: a SAX handler, so a hostile header (deep nesting, huge arrays) costs no
// more memory than its scalars of interest. Tolerates what real peers send (spec §1.3): keys in
// any order, unknown keys, numbers/booleans in extFields (ali-ons), language as a name or a
// number, null remark/extFields.

class HeaderSax {
 public:
  using json = nlohmann::json;

  explicit HeaderSax(RemotingCommand& cmd) : cmd_(cmd) {}

  bool null() { return scalar(Scalar{Kind::kNull, {}, 0}); }
  bool boolean(bool v) { return scalar(Scalar{Kind::kText, v ? "true" : "false", 0}); }
  bool number_integer(json::number_integer_t v) {
    return scalar(Scalar{Kind::kInteger, std::to_string(v), v});
  }
  bool number_unsigned(json::number_unsigned_t v) {
    bool fits = v <= static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max());
    return scalar(Scalar{fits ? Kind::kInteger : Kind::kText, std::to_string(v),
                         fits ? static_cast<std::int64_t>(v) : 0});
  }
  bool number_float(json::number_float_t, const json::string_t& raw) {
    return scalar(Scalar{Kind::kText, raw, 0});
  }
  bool string(json::string_t& v) { return scalar(Scalar{Kind::kString, std::move(v), 0}); }
  bool binary(json::binary_t&) { return true; }

  bool start_object(std::size_t) {
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    if (depth_ == 1 && key_ == "extFields") {
      in_ext_ = true;
      cmd_.ext_fields_present = true;
    }
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    if (depth_ == 1) in_ext_ = false;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return fail("JSON header is not an object");
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(json::string_t& k) {
    if (depth_ == 1 || (depth_ == 2 && in_ext_)) key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    return fail(std::string("JSON header does not parse: ") + e.what());
  }

  const std::optional<std::string>& error() const { return error_; }

 private:
  enum class Kind { kNull, kInteger, kString, kText };
  struct Scalar {
    Kind kind;
    std::string text;
    std::int64_t integer;
  };

  bool fail(std::string message) {
    if (!error_) error_ = std::move(message);
    return false;
  }

  bool scalar(Scalar v) {
    if (depth_ == 0) return fail("JSON header is not an object");
    if (depth_ == 2 && in_ext_) {
      if (v.kind != Kind::kNull) cmd_.ext_fields.insert_or_assign(key_, std::move(v.text));
      return true;
    }
    if (depth_ != 1) return true;  // inside some unknown nested member
    if (key_ == "code") return int_field(v, cmd_.code);
    if (key_ == "opaque") return int_field(v, cmd_.opaque);
    if (key_ == "flag") return int_field(v, cmd_.flag);
    if (key_ == "version") return int_field(v, cmd_.version);
    if (key_ == "remark") {
      if (v.kind != Kind::kNull) cmd_.remark = std::move(v.text);
      return true;
    }
    if (key_ == "language") {
      if (v.kind == Kind::kInteger && v.integer >= 0 && v.integer <= 255) {
        cmd_.language = static_cast<LanguageCode>(v.integer);
      } else if (v.kind == Kind::kString) {
        parse_language(v.text, &cmd_.language);  // unknown names are ignored, as Java does
      }
      return true;
    }
    return true;  // serializeTypeCurrentRPC and unknown keys
  }

  bool int_field(const Scalar& v, std::int32_t& out) {
    std::int64_t value = 0;
    if (v.kind == Kind::kNull) return true;
    if (v.kind == Kind::kInteger) {
      value = v.integer;
    } else if (v.kind == Kind::kString) {
      // fastjson also accepts numbers written as strings.
      auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), value);
      if (ec != std::errc() || end != v.text.data() + v.text.size()) {
        return fail("JSON header field '" + key_ + "' is not an integer");
      }
    } else {
      return fail("JSON header field '" + key_ + "' is not an integer");
    }
    if (value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
      return fail("JSON header field '" + key_ + "' is out of int32 range");
    }
    out = static_cast<std::int32_t>(value);
    return true;
  }

  RemotingCommand& cmd_;
  int depth_ = 0;
  bool in_ext_ = false;
  std::string key_;
  std::optional<std::string> error_;
};

// The common header shape, parsed without the general parser: one flat object whose keys are
// the known members, integers in int32 range, strings of printable ASCII without escapes, an
// extFields object of string values. Returns false at the first thing outside that shape (the
// command may then be half filled: the caller starts over with the general parser, which also
// owns every error message).
class FastHeaderParser {
 public:
  FastHeaderParser(std::string_view text, RemotingCommand& cmd)
      : p_(text.data()), end_(p_ + text.size()), cmd_(cmd) {}

  bool parse() {
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return at_end();
    while (true) {
      std::string_view key;
      if (!string(&key, key_scratch_)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      if (!member(key)) return false;
      skip_ws();
      if (eat(',')) {
        skip_ws();
        continue;
      }
      if (eat('}')) return at_end();
      return false;
    }
  }

 private:
  bool member(std::string_view key) {
    if (key == "code") return integer(&cmd_.code);
    if (key == "opaque") return integer(&cmd_.opaque);
    if (key == "flag") return integer(&cmd_.flag);
    if (key == "version") return integer(&cmd_.version);
    if (key == "extFields") return ext_fields();
    std::string_view text;
    if (key == "language") {
      if (!string(&text, value_scratch_)) return false;
      parse_language(text, &cmd_.language);  // unknown names are ignored, as Java does
      return true;
    }
    if (key == "remark") {
      if (!string(&text, value_scratch_)) return false;
      cmd_.remark.assign(text);
      return true;
    }
    if (key == "serializeTypeCurrentRPC") return string(&text, value_scratch_);
    return false;
  }

  bool ext_fields() {
    if (!eat('{')) return false;
    cmd_.ext_fields_present = true;
    skip_ws();
    if (eat('}')) return true;
    while (true) {
      std::string_view key;
      std::string_view value;
      if (!string(&key, key_scratch_)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      if (!string(&value, value_scratch_)) return false;
      auto it = cmd_.ext_fields.lower_bound(key);
      if (it != cmd_.ext_fields.end() && it->first == key) {
        it->second.assign(value);  // duplicates: last wins
      } else {
        cmd_.ext_fields.emplace_hint(it, std::string(key), std::string(value));
      }
      skip_ws();
      if (eat(',')) {
        skip_ws();
        continue;
      }
      return eat('}');
    }
  }

  // A string; escapes are decoded into `scratch` (\uXXXX only below 0x80: other code points,
  // surrogates and raw non-ASCII bytes are left to the general parser's UTF-8 handling).
  bool string(std::string_view* out, std::string& scratch) {
    if (!eat('"')) return false;
    const char* start = p_;
    bool escaped = false;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        if (escaped) {
          scratch.append(start, p_);
          *out = scratch;
        } else {
          *out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        }
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80) return false;
      if (c != '\\') {
        ++p_;
        continue;
      }
      if (!escaped) {
        scratch.clear();
        escaped = true;
      }
      scratch.append(start, p_);
      if (end_ - p_ < 2) return false;
      char decoded;
      switch (p_[1]) {
        case '"':
        case '\\':
        case '/':
          decoded = p_[1];
          break;
        case 'b':
          decoded = '\b';
          break;
        case 'f':
          decoded = '\f';
          break;
        case 'n':
          decoded = '\n';
          break;
        case 'r':
          decoded = '\r';
          break;
        case 't':
          decoded = '\t';
          break;
        case 'u': {
          if (end_ - p_ < 6) return false;
          unsigned value = 0;
          for (int i = 2; i < 6; ++i) {
            const char h = p_[i];
            const int digit = h >= '0' && h <= '9'   ? h - '0'
                              : h >= 'a' && h <= 'f' ? h - 'a' + 10
                              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                     : -1;
            if (digit < 0) return false;
            value = value * 16 + static_cast<unsigned>(digit);
          }
          if (value >= 0x80) return false;
          decoded = static_cast<char>(value);
          p_ += 4;
          break;
        }
        default:
          return false;
      }
      scratch.push_back(decoded);
      p_ += 2;
      start = p_;
    }
    return false;
  }

  bool integer(std::int32_t* out) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    const char* digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const auto n = p_ - digits;
    if (n == 0 || n > 10 || (n > 1 && *digits == '0')) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    std::int64_t value = 0;
    for (const char* d = digits; d != p_; ++d) value = value * 10 + (*d - '0');
    if (*start == '-') value = -value;
    if (value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
      return false;
    }
    *out = static_cast<std::int32_t>(value);
    return true;
  }

  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool at_end() {
    skip_ws();
    return p_ == end_;
  }

  const char* p_;
  const char* end_;
  RemotingCommand& cmd_;
  std::string key_scratch_;
  std::string value_scratch_;
};

Result<RemotingCommand> parse_json_header(std::string_view header) {
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::JSON;
  if (FastHeaderParser(header, cmd).parse()) return cmd;
  cmd = RemotingCommand();
  cmd.serialize_type = SerializeType::JSON;
  HeaderSax sax(cmd);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(header.data(), header.data() + header.size(), &sax);
  } catch (const std::exception& e) {
    return protocol_error(std::string("JSON header does not parse: ") + e.what());
  }
  if (!ok) return protocol_error(sax.error().value_or("JSON header does not parse"));
  return cmd;
}

Result<RemotingCommand> decode_json_header(std::string_view header) {
  auto cmd = parse_json_header(header);
  if (cmd.ok()) return cmd;
  // fastjson-style bare numeric keys ({0:"x"}) are not JSON; quote them and retry. Only on the
  // failure path, so well-formed headers pay nothing.
  auto normalized = normalize_legacy_json(header);
  if (normalized.ok() && *normalized != header) {
    auto retry = parse_json_header(*normalized);
    if (retry.ok()) return retry;
  }
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// ROCKETMQ binary header.

Result<void> append_binary_header(const RemotingCommand& cmd, std::string& out) {
  auto fits16 = [](std::int32_t v) {
    return v >= std::numeric_limits<std::int16_t>::min() &&
           v <= std::numeric_limits<std::int16_t>::max();
  };
  if (!fits16(cmd.code)) {
    return Error(ErrorCode::kInvalidArgument,
                 "code " + std::to_string(cmd.code) + " does not fit the ROCKETMQ header (int16)");
  }
  if (!fits16(cmd.version)) {
    return Error(ErrorCode::kInvalidArgument, "version does not fit the ROCKETMQ header");
  }
  byte_io::append_be<std::int16_t>(out, static_cast<std::int16_t>(cmd.code));
  out.push_back(static_cast<char>(cmd.language));
  byte_io::append_be<std::int16_t>(out, static_cast<std::int16_t>(cmd.version));
  byte_io::append_be<std::int32_t>(out, cmd.opaque);
  byte_io::append_be<std::int32_t>(out, cmd.flag);
  byte_io::append_be<std::int32_t>(out, static_cast<std::int32_t>(cmd.remark.size()));
  out.append(cmd.remark);
  std::size_t ext_len = 0;
  for (const auto& [key, value] : cmd.ext_fields) {
    if (key.empty()) continue;
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
      return Error(ErrorCode::kInvalidArgument, "extFields key longer than 32767 bytes");
    }
    ext_len += 2 + key.size() + 4 + value.size();
  }
  if (ext_len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    return Error(ErrorCode::kInvalidArgument, "extFields too large");
  }
  byte_io::append_be<std::int32_t>(out, static_cast<std::int32_t>(ext_len));
  for (const auto& [key, value] : cmd.ext_fields) {
    if (key.empty()) continue;
    byte_io::append_be<std::int16_t>(out, static_cast<std::int16_t>(key.size()));
    out.append(key);
    byte_io::append_be<std::int32_t>(out, static_cast<std::int32_t>(value.size()));
    out.append(value);
  }
  return ok_result();
}

Result<RemotingCommand> decode_binary_header(std::string_view header) {
  RemotingCommand cmd;
  cmd.serialize_type = SerializeType::ROCKETMQ;
  Reader r(header);
  std::int16_t code = 0;
  std::uint8_t language = 0;
  std::int16_t version = 0;
  std::int32_t remark_len = 0;
  if (!(r.read(code) && r.read(language) && r.read(version) && r.read(cmd.opaque) &&
        r.read(cmd.flag) && r.read(remark_len))) {
    return protocol_error("ROCKETMQ header shorter than its 21-byte fixed part");
  }
  cmd.code = code;
  cmd.language = static_cast<LanguageCode>(language);
  cmd.version = version;
  std::string_view remark;
  if (remark_len < 0 || !r.read_bytes(static_cast<std::size_t>(remark_len), remark)) {
    return protocol_error("ROCKETMQ header remark length " + std::to_string(remark_len) +
                          " exceeds the header");
  }
  cmd.remark.assign(remark);
  std::int32_t ext_len = 0;
  std::string_view ext;
  if (!r.read(ext_len) || ext_len < 0 || !r.read_bytes(static_cast<std::size_t>(ext_len), ext)) {
    return protocol_error("ROCKETMQ header extFields length " + std::to_string(ext_len) +
                          " exceeds the header");
  }
  Reader er(ext);
  while (!er.at_end()) {
    std::int16_t key_len = 0;
    std::int32_t value_len = 0;
    std::string_view key;
    std::string_view value;
    if (!(er.read(key_len) && key_len >= 0 &&
          er.read_bytes(static_cast<std::size_t>(key_len), key) && er.read(value_len) &&
          value_len >= 0 && er.read_bytes(static_cast<std::size_t>(value_len), value))) {
      return protocol_error("ROCKETMQ header extFields entry exceeds the map");
    }
    // Zero-length strings decode as null and null entries are dropped; duplicates: last wins.
    if (!key.empty() && !value.empty()) cmd.ext_fields.insert_or_assign(std::string(key), value);
  }
  // Trailing bytes after the map are ignored, as Java does.
  return cmd;
}

struct Prefix {
  std::int32_t length;
  SerializeType type;
  std::size_t header_length;
};

// Validates the first 4 (or 8) bytes of a frame; `available` is how many there are.
Result<void> check_length(std::int32_t length, std::size_t max_frame_size) {
  if (length < 4) {
    return protocol_error("frame length " + std::to_string(length) + " is below the minimum 4");
  }
  if (static_cast<std::size_t>(length) > max_frame_size - 4) {
    return protocol_error("frame length " + std::to_string(length) + " exceeds the maximum " +
                          std::to_string(max_frame_size - 4));
  }
  return ok_result();
}

Result<Prefix> parse_prefix(const char* p, std::size_t max_frame_size) {
  Prefix prefix{};
  prefix.length = byte_io::load_be<std::int32_t>(p);
  RMQC_RETURN_IF_ERROR(check_length(prefix.length, max_frame_size));
  const auto v = byte_io::load_be<std::uint32_t>(p + 4);
  const std::uint32_t type = v >> 24;
  prefix.header_length = v & 0x00FFFFFFu;
  if (type > 1) return protocol_error("unknown serialize type " + std::to_string(type));
  prefix.type = static_cast<SerializeType>(type);
  if (prefix.header_length > static_cast<std::size_t>(prefix.length) - 4) {
    return protocol_error("header length " + std::to_string(prefix.header_length) +
                          " exceeds frame length " + std::to_string(prefix.length) + " - 4");
  }
  return prefix;
}

Result<RemotingCommand> decode_after_prefix(const Prefix& prefix, std::string_view frame) {
  std::string_view header = frame.substr(kFramePrefixSize, prefix.header_length);
  RMQC_ASSIGN_OR_RETURN(RemotingCommand cmd, decode_header(prefix.type, header));
  cmd.body.assign(frame.substr(kFramePrefixSize + prefix.header_length));
  return cmd;
}

}  // namespace

Result<std::string> encode_header(const RemotingCommand& cmd) {
  std::string out;
  if (cmd.serialize_type == SerializeType::ROCKETMQ) {
    RMQC_RETURN_IF_ERROR(append_binary_header(cmd, out));
  } else {
    append_json_header(cmd, out);
  }
  return out;
}

Result<void> append_frame(const RemotingCommand& cmd, std::string& out,
                          std::size_t max_frame_size) {
  const std::size_t start = out.size();
  out.append(kFramePrefixSize, '\0');
  Result<void> header_ok = ok_result();
  if (cmd.serialize_type == SerializeType::ROCKETMQ) {
    header_ok = append_binary_header(cmd, out);
  } else {
    append_json_header(cmd, out);
  }
  if (!header_ok.ok()) {
    out.resize(start);
    return header_ok;
  }
  const std::size_t header_length = out.size() - start - kFramePrefixSize;
  const std::size_t frame_size = kFramePrefixSize + header_length + cmd.body.size();
  if (header_length > 0x00FFFFFFu || frame_size > max_frame_size) {
    out.resize(start);
    return Error(ErrorCode::kInvalidArgument, "frame of " + std::to_string(frame_size) +
                                                  " bytes exceeds the maximum " +
                                                  std::to_string(max_frame_size));
  }
  byte_io::store_be<std::int32_t>(out.data() + start, static_cast<std::int32_t>(frame_size - 4));
  byte_io::store_be<std::uint32_t>(out.data() + start + 4,
                                   (static_cast<std::uint32_t>(cmd.serialize_type) << 24) |
                                       static_cast<std::uint32_t>(header_length));
  out.append(cmd.body);
  return ok_result();
}

Result<std::string> encode_frame(const RemotingCommand& cmd, std::size_t max_frame_size) {
  std::string out;
  RMQC_RETURN_IF_ERROR(append_frame(cmd, out, max_frame_size));
  return out;
}

Result<RemotingCommand> decode_header(SerializeType type, std::string_view header) {
  switch (type) {
    case SerializeType::JSON:
      return decode_json_header(header);
    case SerializeType::ROCKETMQ:
      return decode_binary_header(header);
  }
  return protocol_error("unknown serialize type");
}

Result<RemotingCommand> decode_frame(std::string_view frame, std::size_t max_frame_size) {
  if (frame.size() < kFramePrefixSize) return protocol_error("frame shorter than 8 bytes");
  RMQC_ASSIGN_OR_RETURN(Prefix prefix, parse_prefix(frame.data(), max_frame_size));
  if (static_cast<std::size_t>(prefix.length) != frame.size() - 4) {
    return protocol_error("frame length " + std::to_string(prefix.length) + " does not match " +
                          std::to_string(frame.size() - 4) + " bytes after the prefix");
  }
  return decode_after_prefix(prefix, frame);
}

// buffer_ is a slab: [0, read_pos_) consumed, [read_pos_, size - prepared_) received and not yet
// decoded, the last prepared_ bytes free space for the next read. The slab keeps its size between
// reads, so a read does not zero-fill its space again.
void FrameDecoder::feed(std::string_view bytes) {
  if (error_) return;
  auto space = prepare(bytes.size());
  if (!bytes.empty()) std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

std::span<char> FrameDecoder::prepare(std::size_t n) {
  if (prepared_ < n) {
    const std::size_t end = buffer_.size() - prepared_;
    if (read_pos_ > 0) {  // make room at the front first
      const std::size_t pending = end - read_pos_;
      if (pending > 0) std::memmove(buffer_.data(), buffer_.data() + read_pos_, pending);
      prepared_ = buffer_.size() - pending;
      read_pos_ = 0;
    }
    if (prepared_ < n) {
      buffer_.resize(buffer_.size() - prepared_ + n);
      prepared_ = n;
    }
  }
  return std::span<char>(buffer_.data() + buffer_.size() - prepared_, n);
}

void FrameDecoder::commit(std::size_t n) {
  if (n > prepared_) n = prepared_;
  prepared_ -= n;
}

Result<std::optional<RemotingCommand>> FrameDecoder::fail(Error error) {
  error_ = error;
  buffer_.clear();
  buffer_.shrink_to_fit();
  read_pos_ = 0;
  prepared_ = 0;
  return error;
}

Result<std::optional<RemotingCommand>> FrameDecoder::next() {
  if (error_) return *error_;
  const std::size_t available = buffer_.size() - prepared_ - read_pos_;
  const char* p = buffer_.data() + read_pos_;
  if (available < 4) return std::optional<RemotingCommand>();
  // Reject a hostile length before waiting for (or buffering) its bytes.
  const auto length = byte_io::load_be<std::int32_t>(p);
  if (auto ok = check_length(length, max_frame_size_); !ok.ok()) {
    return fail(std::move(ok).error());
  }
  if (available < kFramePrefixSize) return std::optional<RemotingCommand>();
  auto prefix = parse_prefix(p, max_frame_size_);
  if (!prefix.ok()) return fail(std::move(prefix).error());
  const std::size_t frame_size = 4 + static_cast<std::size_t>(length);
  if (available < frame_size) return std::optional<RemotingCommand>();
  auto cmd = decode_after_prefix(*prefix, std::string_view(p, frame_size));
  if (!cmd.ok()) return fail(std::move(cmd).error());
  read_pos_ += frame_size;
  // Everything decoded: the whole slab is free again (prepare() compacts a partial frame).
  if (read_pos_ == buffer_.size() - prepared_) {
    prepared_ = buffer_.size();
    read_pos_ = 0;
  }
  return std::optional<RemotingCommand>(std::move(cmd).value());
}

}  // namespace rmqc::rocketmq
