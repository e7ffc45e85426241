#include "cdc/postgres/pgoutput.h"

#include <cstdio>

namespace rmqc::connectors::cdc::postgres {
namespace {

// A bounds-checked big-endian reader over one message.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  std::uint64_t uint(int bytes) {
    if (!need(static_cast<std::size_t>(bytes))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v = (v << 8) | static_cast<std::uint8_t>(data_[pos_++]);
    }
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
  std::int16_t i16() { return static_cast<std::int16_t>(uint(2)); }
  std::int32_t i32() { return static_cast<std::int32_t>(uint(4)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
  std::int64_t i64() { return static_cast<std::int64_t>(uint(8)); }
  std::uint64_t u64() { return uint(8); }
  // A NUL-terminated string.
  std::string cstr() {
    if (!ok_) return {};
    const std::size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) {
      ok_ = false;
      return {};
    }
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string_view bytes(std::size_t n) {
    if (!need(n)) return {};
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  bool need(std::size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

Error malformed(std::string_view what) {
  return Error(ErrorCode::kParseError, "undecodable pgoutput message: " + std::string(what));
}

bool read_tuple(Reader& r, Tuple& out) {
  const int n = r.i16();
  if (!r.ok() || n < 0) return false;
  out.resize(static_cast<std::size_t>(n));
  for (auto& v : out) {
    const char kind = static_cast<char>(r.u8());
    switch (kind) {
      case 'n':
        v.kind = TupleValue::Kind::kNull;
        v.text = {};
        break;
      case 'u':
        v.kind = TupleValue::Kind::kUnchangedToast;
        v.text = {};
        break;
      case 't': {
        const std::int32_t len = r.i32();
        if (len < 0) return false;
        v.kind = TupleValue::Kind::kText;
        v.text = r.bytes(static_cast<std::size_t>(len));
        break;
      }
      default:
        return false;  // 'b' (binary) needs proto_version 2 with binary true: never asked for
    }
    if (!r.ok()) return false;
  }
  return r.ok();
}

}  // namespace

std::string format_lsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffU));
  return buf;
}

Result<Lsn> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) {
    return Error(ErrorCode::kParseError, "not an LSN: '" + std::string(text) + "'");
  }
  auto hex = [](std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 8) return false;
    out = 0;
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return false;
      }
      out = out * 16 + static_cast<std::uint64_t>(d);
    }
    return true;
  };
  std::uint64_t hi = 0, lo = 0;
  if (!hex(text.substr(0, slash), hi) || !hex(text.substr(slash + 1), lo)) {
    return Error(ErrorCode::kParseError, "not an LSN: '" + std::string(text) + "'");
  }
  return (hi << 32) | lo;
}

Result<CopyMessage> decode_copy_message(std::string_view data) {
  Reader r(data);
  CopyMessage m;
  const char kind = static_cast<char>(r.u8());
  if (kind == 'w') {
    m.kind = CopyMessage::Kind::kXLogData;
    m.xlog.data_start = r.u64();
    m.xlog.wal_end = r.u64();
    m.xlog.send_time = r.i64();
    if (!r.ok()) return malformed("short XLogData header");
    m.xlog.payload = data.substr(25);
    return m;
  }
  if (kind == 'k') {
    m.kind = CopyMessage::Kind::kKeepalive;
    m.keepalive.wal_end = r.u64();
    m.keepalive.send_time = r.i64();
    m.keepalive.reply_requested = r.u8() != 0;
    if (!r.ok()) return malformed("short keepalive");
    return m;
  }
  return malformed(std::string("unknown CopyData message '") + kind + "'");
}

std::string encode_status_update(Lsn write, Lsn flush, Lsn apply, std::int64_t unix_micros,
                                 bool reply_requested) {
  std::string out;
  out.reserve(34);
  out.push_back('r');
  auto put = [&](std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
  };
  put(write);
  put(flush);
  put(apply);
  put(static_cast<std::uint64_t>(unix_to_pg_micros(unix_micros)));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

Result<void> decode_pgoutput(std::string_view payload, PgOutputMessage& out) {
  Reader r(payload);
  const char kind = static_cast<char>(r.u8());
  if (!r.ok()) return malformed("empty message");
  switch (kind) {
    case 'B':
      out.kind = PgOutputMessage::Kind::kBegin;
      out.begin.final_lsn = r.u64();
      out.begin.commit_time = r.i64();
      out.begin.xid = r.u32();
      break;
    case 'C':
      out.kind = PgOutputMessage::Kind::kCommit;
      out.commit.flags = r.u8();
      out.commit.commit_lsn = r.u64();
      out.commit.end_lsn = r.u64();
      out.commit.commit_time = r.i64();
      break;
    case 'O':
      out.kind = PgOutputMessage::Kind::kOrigin;
      out.origin.commit_lsn = r.u64();
      out.origin.name = r.cstr();
      break;
    case 'R': {
      out.kind = PgOutputMessage::Kind::kRelation;
      auto& rel = out.relation;
      rel.oid = r.u32();
      rel.ns = r.cstr();
      rel.name = r.cstr();
      rel.replica_identity = static_cast<char>(r.u8());
      const int n = r.i16();
      if (!r.ok() || n < 0) return malformed("short relation message");
      rel.columns.clear();
      rel.columns.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n && r.ok(); ++i) {
        RelationColumn c;
        c.key = (r.u8() & 1) != 0;
        c.name = r.cstr();
        c.type_oid = r.u32();
        c.type_modifier = r.i32();
        rel.columns.push_back(std::move(c));
      }
      break;
    }
    case 'Y':
      out.kind = PgOutputMessage::Kind::kType;
      out.type.oid = r.u32();
      out.type.ns = r.cstr();
      out.type.name = r.cstr();
      break;
    case 'I': {
      out.kind = PgOutputMessage::Kind::kInsert;
      out.insert.relation = r.u32();
      if (static_cast<char>(r.u8()) != 'N' || !read_tuple(r, out.insert.new_tuple)) {
        return malformed("bad insert tuple");
      }
      break;
    }
    case 'U': {
      out.kind = PgOutputMessage::Kind::kUpdate;
      auto& u = out.update;
      u.relation = r.u32();
      u.old_kind = 0;
      u.old_tuple.clear();
      char next = static_cast<char>(r.u8());
      if (next == 'K' || next == 'O') {
        u.old_kind = next;
        if (!read_tuple(r, u.old_tuple)) return malformed("bad update old tuple");
        next = static_cast<char>(r.u8());
      }
      if (next != 'N' || !read_tuple(r, u.new_tuple)) return malformed("bad update new tuple");
      break;
    }
    case 'D': {
      out.kind = PgOutputMessage::Kind::kDelete;
      auto& d = out.del;
      d.relation = r.u32();
      d.old_kind = static_cast<char>(r.u8());
      if ((d.old_kind != 'K' && d.old_kind != 'O') || !read_tuple(r, d.old_tuple)) {
        return malformed("bad delete tuple");
      }
      break;
    }
    case 'T': {
      out.kind = PgOutputMessage::Kind::kTruncate;
      const std::int32_t n = r.i32();
      out.truncate.options = r.u8();
      if (!r.ok() || n < 0 || static_cast<std::size_t>(n) * 4 > r.remaining()) {
        return malformed("bad truncate message");
      }
      out.truncate.relations.clear();
      for (std::int32_t i = 0; i < n; ++i) out.truncate.relations.push_back(r.u32());
      break;
    }
    case 'M':
      out.kind = PgOutputMessage::Kind::kMessage;
      break;  // logical decoding messages (pg_logical_emit_message) are not captured
    default:
      return malformed(std::string("unknown message type '") + kind + "'");
  }
  if (!r.ok()) return malformed(std::string("short '") + kind + "' message");
  return ok_result();
}

}  // namespace rmqc::connectors::cdc::postgres
