#include "rocketmq/protocol/message_codec.h"

#include "rocketmq/protocol/byte_io.h"

#include <cstring>
#include <libdeflate.h>
#include <limits>
#include <zlib.h>

namespace rmqc::rocketmq {

namespace {

using byte_io::Reader;

Error protocol_error(std::string message) {
  return Error(ErrorCode::kProtocolError, std::move(message));
}

std::int32_t effective_sys_flag(const StoredMessageView& m) {
  std::int32_t flag = m.sys_flag & ~(sysflag::BORNHOST_V6_FLAG | sysflag::STOREHOSTADDRESS_V6_FLAG);
  if (m.born_host.v6) flag |= sysflag::BORNHOST_V6_FLAG;
  if (m.store_host.v6) flag |= sysflag::STOREHOSTADDRESS_V6_FLAG;
  return flag;
}

char* put_host(char* p, const SocketAddress& host) {
  std::memcpy(p, host.ip.data(), host.ip_size());
  p += host.ip_size();
  byte_io::store_be<std::int32_t>(p, host.port);
  return p + 4;
}

bool read_host(Reader& r, bool v6, SocketAddress& host) {
  host.v6 = v6;
  std::string_view ip;
  if (!r.read_bytes(host.ip_size(), ip)) return false;
  std::memcpy(host.ip.data(), ip.data(), ip.size());
  return r.read(host.port);
}

}  // namespace

std::uint32_t body_crc32(std::string_view body) {
  // libdeflate's CRC-32 is zlib's (IEEE polynomial, same initial value and final xor), folded
  // with PCLMULQDQ where the CPU has it: several times the speed of zlib 1.2's crc32_z.
  return libdeflate_crc32(0, body.data(), body.size()) & 0x7FFFFFFFu;
}

Result<std::size_t> stored_message_size(const StoredMessageView& m) {
  if (m.topic.size() > kMaxTopicLengthV2) {
    return Error(ErrorCode::kInvalidArgument,
                 "topic of " + std::to_string(m.topic.size()) + " bytes is too long");
  }
  if (m.properties.size() > kMaxPropertiesLength) {
    return Error(ErrorCode::kResourceExhausted, "properties of " +
                                                    std::to_string(m.properties.size()) +
                                                    " bytes exceed the 32767-byte limit");
  }
  const std::size_t topic_len_size = m.topic.size() > kMaxTopicLengthV1 ? 2 : 1;
  const std::size_t size = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + m.born_host.stored_size() + 8 +
                           m.store_host.stored_size() + 4 + 8 + 4 + m.body.size() + topic_len_size +
                           m.topic.size() + 2 + m.properties.size();
  if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    return Error(ErrorCode::kResourceExhausted, "message record exceeds 2 GiB");
  }
  return size;
}

Result<std::size_t> encode_stored_message(const StoredMessageView& m, std::span<char> out) {
  RMQC_ASSIGN_OR_RETURN(std::size_t size, stored_message_size(m));
  if (out.size() < size) {
    return Error(ErrorCode::kInvalidArgument, "output buffer too small for message record");
  }
  const bool v2 = m.topic.size() > kMaxTopicLengthV1;
  const std::int32_t sys_flag = effective_sys_flag(m);
  char* p = out.data();
  byte_io::store_be<std::int32_t>(p, static_cast<std::int32_t>(size));
  byte_io::store_be<std::int32_t>(p + 4, v2 ? kMessageMagicV2 : kMessageMagicV1);
  byte_io::store_be<std::uint32_t>(p + 8, body_crc32(m.body));
  byte_io::store_be<std::int32_t>(p + 12, m.queue_id);
  byte_io::store_be<std::int32_t>(p + 16, m.flag);
  byte_io::store_be<std::int64_t>(p + 20, m.queue_offset);
  byte_io::store_be<std::int64_t>(p + 28, m.physical_offset);
  byte_io::store_be<std::int32_t>(p + 36, sys_flag);
  byte_io::store_be<std::int64_t>(p + 40, m.born_timestamp);
  p = put_host(p + 48, m.born_host);
  byte_io::store_be<std::int64_t>(p, m.store_timestamp);
  p = put_host(p + 8, m.store_host);
  byte_io::store_be<std::int32_t>(p, m.reconsume_times);
  byte_io::store_be<std::int64_t>(p + 4, m.prepared_transaction_offset);
  byte_io::store_be<std::int32_t>(p + 12, static_cast<std::int32_t>(m.body.size()));
  p += 16;
  if (!m.body.empty()) std::memcpy(p, m.body.data(), m.body.size());
  p += m.body.size();
  if (v2) {
    byte_io::store_be<std::int16_t>(p, static_cast<std::int16_t>(m.topic.size()));
    p += 2;
  } else {
    *p++ = static_cast<char>(m.topic.size());
  }
  if (!m.topic.empty()) std::memcpy(p, m.topic.data(), m.topic.size());
  p += m.topic.size();
  byte_io::store_be<std::int16_t>(p, static_cast<std::int16_t>(m.properties.size()));
  p += 2;
  if (!m.properties.empty()) std::memcpy(p, m.properties.data(), m.properties.size());
  p += m.properties.size();
  return static_cast<std::size_t>(p - out.data());
}

Result<void> append_stored_message(const StoredMessageView& m, std::string& out) {
  RMQC_ASSIGN_OR_RETURN(std::size_t size, stored_message_size(m));
  const std::size_t start = out.size();
  out.resize(start + size);
  auto written = encode_stored_message(m, std::span<char>(out.data() + start, size));
  if (!written.ok()) {
    out.resize(start);
    return std::move(written).error();
  }
  return ok_result();
}

void patch_queue_offset(std::span<char> record, std::int64_t queue_offset) {
  byte_io::store_be<std::int64_t>(record.data() + stored_layout::kQueueOffsetOffset, queue_offset);
}

void patch_physical_offset(std::span<char> record, std::int64_t physical_offset) {
  byte_io::store_be<std::int64_t>(record.data() + stored_layout::kPhysicalOffsetOffset,
                                  physical_offset);
}

void patch_store_timestamp(std::span<char> record, std::int64_t store_timestamp) {
  const auto sys_flag =
      byte_io::load_be<std::int32_t>(record.data() + stored_layout::kSysFlagOffset);
  byte_io::store_be<std::int64_t>(record.data() + stored_layout::store_timestamp_offset(sys_flag),
                                  store_timestamp);
}

Result<StoredMessageView> decode_stored_message(std::string_view data) {
  if (data.size() < 8) return protocol_error("stored message truncated before MAGICCODE");
  const auto total = byte_io::load_be<std::int32_t>(data.data());
  if (total < static_cast<std::int32_t>(stored_layout::kMinRecordSize)) {
    return protocol_error("stored message TOTALSIZE " + std::to_string(total) + " is too small");
  }
  if (static_cast<std::size_t>(total) > data.size()) {
    return protocol_error("stored message TOTALSIZE " + std::to_string(total) + " exceeds the " +
                          std::to_string(data.size()) + " bytes available");
  }
  Reader r(data.substr(0, static_cast<std::size_t>(total)));
  StoredMessageView m;
  std::int32_t total_again = 0;
  r.read(total_again);
  r.read(m.magic);
  if (m.magic != kMessageMagicV1 && m.magic != kMessageMagicV2) {
    return protocol_error("stored message has unknown MAGICCODE " + hex_upper(data.substr(4, 4)));
  }
  bool ok = r.read(m.body_crc) && r.read(m.queue_id) && r.read(m.flag) && r.read(m.queue_offset) &&
            r.read(m.physical_offset) && r.read(m.sys_flag) && r.read(m.born_timestamp) &&
            read_host(r, (m.sys_flag & sysflag::BORNHOST_V6_FLAG) != 0, m.born_host) &&
            r.read(m.store_timestamp) &&
            read_host(r, (m.sys_flag & sysflag::STOREHOSTADDRESS_V6_FLAG) != 0, m.store_host) &&
            r.read(m.reconsume_times) && r.read(m.prepared_transaction_offset);
  if (!ok) return protocol_error("stored message truncated in its fixed fields");
  std::int32_t body_len = 0;
  if (!r.read(body_len) || body_len < 0 ||
      !r.read_bytes(static_cast<std::size_t>(body_len), m.body)) {
    return protocol_error("stored message BODY length " + std::to_string(body_len) +
                          " is negative or exceeds TOTALSIZE");
  }
  std::size_t topic_len = 0;
  if (m.magic == kMessageMagicV1) {
    std::uint8_t len = 0;
    ok = r.read(len);
    topic_len = len;
  } else {
    std::uint16_t len = 0;
    ok = r.read(len);
    topic_len = len;
  }
  if (!ok || !r.read_bytes(topic_len, m.topic)) {
    return protocol_error("stored message TOPIC exceeds TOTALSIZE");
  }
  std::int16_t props_len = 0;
  if (!r.read(props_len) || props_len < 0 ||
      !r.read_bytes(static_cast<std::size_t>(props_len), m.properties)) {
    return protocol_error("stored message PROPERTIES exceed TOTALSIZE");
  }
  if (!r.at_end()) {
    return protocol_error("stored message TOTALSIZE " + std::to_string(total) + " leaves " +
                          std::to_string(r.remaining()) + " bytes unaccounted for");
  }
  return m;
}

Result<std::optional<StoredMessageView>> StoredMessageReader::next() {
  if (pos_ >= data_.size()) return std::optional<StoredMessageView>();
  auto message = decode_stored_message(data_.substr(pos_));
  if (!message.ok()) {
    return std::move(message).error().with_context("record at byte " + std::to_string(pos_));
  }
  pos_ += static_cast<std::size_t>(
      byte_io::load_be<std::int32_t>(data_.data() + pos_ + stored_layout::kTotalSizeOffset));
  return std::optional<StoredMessageView>(*message);
}

Result<std::vector<StoredMessageView>> decode_stored_messages(std::string_view data) {
  std::vector<StoredMessageView> out;
  StoredMessageReader reader(data);
  while (true) {
    RMQC_ASSIGN_OR_RETURN(auto next, reader.next());
    if (!next) break;
    out.push_back(*next);
  }
  return out;
}

std::size_t batch_message_size(const BatchMessageView& m) {
  return 20 + m.body.size() + 2 + m.properties.size();
}

Result<void> append_batch_message(const BatchMessageView& m, std::string& out) {
  if (m.properties.size() > kMaxPropertiesLength) {
    return Error(ErrorCode::kResourceExhausted, "batch message properties exceed 32767 bytes");
  }
  const std::size_t size = batch_message_size(m);
  if (size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    return Error(ErrorCode::kResourceExhausted, "batch message exceeds 2 GiB");
  }
  byte_io::append_be<std::int32_t>(out, static_cast<std::int32_t>(size));
  byte_io::append_be<std::int32_t>(out, 0);  // MAGICCODE: ignored by the broker
  byte_io::append_be<std::int32_t>(out, 0);  // BODYCRC: the broker computes it
  byte_io::append_be<std::int32_t>(out, m.flag);
  byte_io::append_be<std::int32_t>(out, static_cast<std::int32_t>(m.body.size()));
  out.append(m.body);
  byte_io::append_be<std::int16_t>(out, static_cast<std::int16_t>(m.properties.size()));
  out.append(m.properties);
  return ok_result();
}

Result<std::string> encode_batch_body(std::span<const BatchMessageView> messages) {
  std::string out;
  std::size_t total = 0;
  for (const auto& m : messages) total += batch_message_size(m);
  out.reserve(total);
  for (const auto& m : messages) RMQC_RETURN_IF_ERROR(append_batch_message(m, out));
  return out;
}

Result<std::vector<BatchMessageView>> decode_batch_body(std::string_view data) {
  std::vector<BatchMessageView> out;
  std::size_t pos = 0;
  // Only a bad entry pays for its description.
  auto where = [&pos] { return "batch entry at byte " + std::to_string(pos); };
  while (pos < data.size()) {
    if (data.size() - pos < 4) return protocol_error(where() + " truncated before TOTALSIZE");
    const auto total = byte_io::load_be<std::int32_t>(data.data() + pos);
    if (total < 22 || static_cast<std::size_t>(total) > data.size() - pos) {
      return protocol_error(where() + " has bad TOTALSIZE " + std::to_string(total));
    }
    Reader r(data.substr(pos, static_cast<std::size_t>(total)));
    r.skip(12);  // TOTALSIZE, MAGICCODE, BODYCRC
    BatchMessageView m;
    std::int32_t body_len = 0;
    std::int16_t props_len = 0;
    bool ok = r.read(m.flag) && r.read(body_len) && body_len >= 0 &&
              r.read_bytes(static_cast<std::size_t>(body_len), m.body) && r.read(props_len) &&
              props_len >= 0 && r.read_bytes(static_cast<std::size_t>(props_len), m.properties);
    if (!ok) return protocol_error(where() + ": BODY or PROPERTIES exceed TOTALSIZE");
    if (!r.at_end()) return protocol_error(where() + ": TOTALSIZE does not match its fields");
    out.push_back(m);
    pos += static_cast<std::size_t>(total);
  }
  return out;
}

Result<std::string> compress_body(std::string_view body, int level) {
  if (body.size() > std::numeric_limits<uLong>::max() / 2) {
    return Error(ErrorCode::kResourceExhausted, "body too large to compress");
  }
  uLongf bound = compressBound(static_cast<uLong>(body.size()));
  std::string out(bound, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &bound,
                     reinterpret_cast<const Bytef*>(body.data()), static_cast<uLong>(body.size()),
                     level);
  if (rc != Z_OK) {
    return Error(ErrorCode::kInternal, "zlib compress2 failed with " + std::to_string(rc));
  }
  out.resize(bound);
  return out;
}

Result<std::string> uncompress_body(std::string_view compressed, std::size_t max_size) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Error(ErrorCode::kInternal, "zlib inflateInit failed");
  std::string out;
  // Grow geometrically from a guess instead of trusting any size claim in the input.
  out.resize(std::min<std::size_t>(max_size, std::max<std::size_t>(compressed.size() * 4, 256)));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  std::size_t in_left = compressed.size();
  std::size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (zs.avail_in == 0 && in_left > 0) {
      zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in_left, 1u << 30));
      in_left -= zs.avail_in;
    }
    if (produced == out.size()) {
      if (out.size() >= max_size) {
        inflateEnd(&zs);
        return Error(ErrorCode::kResourceExhausted,
                     "compressed body inflates beyond " + std::to_string(max_size) + " bytes");
      }
      out.resize(std::min(max_size, out.size() * 2));
    }
    const std::size_t room = std::min<std::size_t>(out.size() - produced, 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
      inflateEnd(&zs);
      return protocol_error("compressed body is truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&zs);
      return protocol_error(std::string("compressed body is corrupt: ") +
                            (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)));
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

Result<std::string> decode_body(std::string_view body, std::int32_t sys_flag,
                                std::size_t max_size) {
  if ((sys_flag & sysflag::COMPRESSED_FLAG) == 0) return std::string(body);
  const std::int32_t type = sys_flag & sysflag::COMPRESSION_TYPE_MASK;
  if (type == sysflag::COMPRESSION_LZ4 || type == sysflag::COMPRESSION_ZSTD) {
    return Error(ErrorCode::kUnsupported, type == sysflag::COMPRESSION_LZ4
                                              ? "LZ4-compressed bodies are not supported"
                                              : "ZSTD-compressed bodies are not supported");
  }
  return uncompress_body(body, max_size);
}

}  // namespace rmqc::rocketmq
