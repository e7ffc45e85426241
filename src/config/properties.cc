#include "config/properties.h"

#include "base/file_util.h"

#include <cctype>

namespace rmqc::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Java escapes: \t \n \r \f, \uXXXX; any other escaped char stands for itself.
Result<std::string> unescape(std::string_view s, int line) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        if (i + 4 >= s.size()) {
          return Error(ErrorCode::kParseError, "line " + std::to_string(line) + ": bad \\u escape");
        }
        unsigned cp = 0;
        for (int k = 1; k <= 4; ++k) {
          char h = s[i + k];
          cp <<= 4;
          if (h >= '0' && h <= '9')
            cp |= h - '0';
          else if (h >= 'a' && h <= 'f')
            cp |= h - 'a' + 10;
          else if (h >= 'A' && h <= 'F')
            cp |= h - 'A' + 10;
          else
            return Error(ErrorCode::kParseError,
                         "line " + std::to_string(line) + ": bad \\u escape");
        }
        append_utf8(out, cp);
        i += 4;
        break;
      }
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

Result<KeyValue> parse_properties(std::string_view text) {
  KeyValue out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos <= text.size()) {
    // Gather one logical line (continuations end with an odd number of backslashes).
    std::string logical;
    int first_line = line_no + 1;
    bool more = true;
    while (more && pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view raw = text.substr(pos, end - pos);
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      pos = end + 1;
      ++line_no;
      std::string_view piece = trim(raw);
      std::size_t slashes = 0;
      while (slashes < piece.size() && piece[piece.size() - 1 - slashes] == '\\') ++slashes;
      more = slashes % 2 == 1;
      if (more) piece.remove_suffix(1);
      logical.append(piece);
    }
    std::string_view line = trim(logical);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    // The key ends at the first unescaped '=', ':' or blank.
    std::size_t k = 0;
    while (k < line.size()) {
      char c = line[k];
      if (c == '\\') {
        k += 2;
        continue;
      }
      if (c == '=' || c == ':' || std::isspace(static_cast<unsigned char>(c))) break;
      ++k;
    }
    std::string_view key = line.substr(0, std::min(k, line.size()));
    std::string_view rest = k < line.size() ? line.substr(k) : std::string_view();
    rest = trim(rest);
    if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest = trim(rest.substr(1));
    RMQC_ASSIGN_OR_RETURN(std::string ukey, unescape(key, first_line));
    RMQC_ASSIGN_OR_RETURN(std::string uvalue, unescape(rest, first_line));
    out.put(std::move(ukey), std::move(uvalue));
  }
  return out;
}

Result<KeyValue> load_properties_file(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return std::move(text).error().with_context("worker config");
  auto parsed = parse_properties(*text);
  if (!parsed.ok()) return std::move(parsed).error().with_context(path);
  return parsed;
}

}  // namespace rmqc::config
