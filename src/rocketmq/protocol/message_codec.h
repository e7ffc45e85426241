#pragma once

// The stored message record (spec §3): what the broker appends to its commit log and what PULL,
// VIEW_MESSAGE_BY_ID and QUERY_MESSAGE bodies are made of; the SEND_BATCH_MESSAGE body (§2.3.3);
// body CRC and zlib compression (§3.5).
//
// Encoding writes straight into a caller-provided buffer so a store can lay a record down in its
// commit-log mapping and patch QUEUEOFFSET / PHYSICALOFFSET / STORETIMESTAMP in place afterwards.
// Decoding returns views into the input buffer; nothing is copied.

#include "rmqc/base/result.h"

#include "rocketmq/protocol/message_id.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::rocketmq {

inline constexpr std::int32_t kMessageMagicV1 = static_cast<std::int32_t>(0xDAA320A7);
inline constexpr std::int32_t kMessageMagicV2 = static_cast<std::int32_t>(0xDAA320AB);
// End-of-file filler in commit-log files; never a message.
inline constexpr std::int32_t kBlankMagic = static_cast<std::int32_t>(0xCBD43194);

// Message SYSFLAG bits (spec §3.3), RocketMQ's MessageSysFlag.
namespace sysflag {
inline constexpr std::int32_t COMPRESSED_FLAG = 0x1;
inline constexpr std::int32_t MULTI_TAGS_FLAG = 0x2;
inline constexpr std::int32_t TRANSACTION_NOT_TYPE = 0x0;
inline constexpr std::int32_t TRANSACTION_PREPARED_TYPE = 0x4;
inline constexpr std::int32_t TRANSACTION_COMMIT_TYPE = 0x8;
inline constexpr std::int32_t TRANSACTION_ROLLBACK_TYPE = 0xC;
inline constexpr std::int32_t TRANSACTION_MASK = 0xC;
inline constexpr std::int32_t BORNHOST_V6_FLAG = 0x10;
inline constexpr std::int32_t STOREHOSTADDRESS_V6_FLAG = 0x20;
inline constexpr std::int32_t NEED_UNWRAP_FLAG = 0x40;
inline constexpr std::int32_t INNER_BATCH_FLAG = 0x80;
inline constexpr std::int32_t COMPRESSION_TYPE_MASK = 0x700;
inline constexpr std::int32_t COMPRESSION_LZ4 = 0x100;
inline constexpr std::int32_t COMPRESSION_ZSTD = 0x200;
inline constexpr std::int32_t COMPRESSION_ZLIB = 0x300;

constexpr std::int32_t transaction_value(std::int32_t flag) {
  return flag & TRANSACTION_MASK;
}
}  // namespace sysflag

// Byte offsets of the fixed fields of a stored record. Everything up to BORNHOST is at a fixed
// place; STORETIMESTAMP and later move by 12 bytes per IPv6 host (use the functions).
namespace stored_layout {
inline constexpr std::size_t kTotalSizeOffset = 0;
inline constexpr std::size_t kMagicOffset = 4;
inline constexpr std::size_t kBodyCrcOffset = 8;
inline constexpr std::size_t kQueueIdOffset = 12;
inline constexpr std::size_t kFlagOffset = 16;
inline constexpr std::size_t kQueueOffsetOffset = 20;
inline constexpr std::size_t kPhysicalOffsetOffset = 28;
inline constexpr std::size_t kSysFlagOffset = 36;
inline constexpr std::size_t kBornTimestampOffset = 40;
inline constexpr std::size_t kBornHostOffset = 48;

constexpr std::size_t born_host_size(std::int32_t sys_flag) {
  return (sys_flag & sysflag::BORNHOST_V6_FLAG) ? 20 : 8;
}
constexpr std::size_t store_host_size(std::int32_t sys_flag) {
  return (sys_flag & sysflag::STOREHOSTADDRESS_V6_FLAG) ? 20 : 8;
}
constexpr std::size_t store_timestamp_offset(std::int32_t sys_flag) {
  return kBornHostOffset + born_host_size(sys_flag);
}
constexpr std::size_t store_host_offset(std::int32_t sys_flag) {
  return store_timestamp_offset(sys_flag) + 8;
}
constexpr std::size_t reconsume_times_offset(std::int32_t sys_flag) {
  return store_host_offset(sys_flag) + store_host_size(sys_flag);
}
constexpr std::size_t prepared_transaction_offset_offset(std::int32_t sys_flag) {
  return reconsume_times_offset(sys_flag) + 4;
}
constexpr std::size_t body_length_offset(std::int32_t sys_flag) {
  return prepared_transaction_offset_offset(sys_flag) + 8;
}
// Smallest possible record: IPv4 hosts, empty body/topic/properties (V1).
inline constexpr std::size_t kMinRecordSize = 84 + 4 + 1 + 2;
}  // namespace stored_layout

// Largest V1 topic (1-byte length) and properties (int16 length).
inline constexpr std::size_t kMaxTopicLengthV1 = 127;
inline constexpr std::size_t kMaxTopicLengthV2 = 32767;
inline constexpr std::size_t kMaxPropertiesLength = 32767;

// One stored record. For decoding, body/topic/properties view the input buffer. For encoding,
// the host v6 flags and SYSFLAG bits 0x10/0x20 are derived from the addresses, and the magic
// and BODYCRC are computed.
struct StoredMessageView {
  std::int32_t magic = kMessageMagicV1;
  std::uint32_t body_crc = 0;
  std::int32_t queue_id = 0;
  std::int32_t flag = 0;
  std::int64_t queue_offset = 0;
  std::int64_t physical_offset = 0;
  std::int32_t sys_flag = 0;
  std::int64_t born_timestamp = 0;
  SocketAddress born_host;
  std::int64_t store_timestamp = 0;
  SocketAddress store_host;
  std::int32_t reconsume_times = 0;
  std::int64_t prepared_transaction_offset = 0;
  std::string_view body;
  std::string_view topic;
  std::string_view properties;

  // offsetMsgId of this record (store host + physical offset).
  std::string offset_msg_id() const { return make_offset_msg_id(store_host, physical_offset); }
};

// CRC-32 (IEEE, as zlib and java.util.zip.CRC32) of the body masked with 0x7FFFFFFF, as RocketMQ
// stores in BODYCRC.
std::uint32_t body_crc32(std::string_view body);

// Size of the encoded record; fails if the topic or properties are too long. Topics above 127
// bytes get magic V2 (2-byte topic length), as RocketMQ 5.x does; shorter ones V1.
Result<std::size_t> stored_message_size(const StoredMessageView& message);

// Writes the record into `out` (must hold at least stored_message_size bytes) and returns the
// bytes written. Computes BODYCRC over the body as given (the compressed bytes if compressed).
Result<std::size_t> encode_stored_message(const StoredMessageView& message, std::span<char> out);
// Appends the record to `out`.
Result<void> append_stored_message(const StoredMessageView& message, std::string& out);

// In-place patches of a record already written (e.g. into the commit log at append time).
// `record` starts at the record's TOTALSIZE field.
void patch_queue_offset(std::span<char> record, std::int64_t queue_offset);
void patch_physical_offset(std::span<char> record, std::int64_t physical_offset);
// Reads SYSFLAG from the record to find the field; record must be a full record.
void patch_store_timestamp(std::span<char> record, std::int64_t store_timestamp);

// Decodes one record at the start of `data`. Rejects unknown magic codes, a TOTALSIZE that
// does not match the fields, and truncation (kProtocolError). Views point into `data`.
Result<StoredMessageView> decode_stored_message(std::string_view data);

// Walks a concatenation of records (a PULL body). Usage:
//   StoredMessageReader reader(body);
//   while (true) { auto next = reader.next(); if (!next.ok()) ...; if (!*next) break; ... }
class StoredMessageReader {
 public:
  explicit StoredMessageReader(std::string_view data) : data_(data) {}

  // The next record, std::nullopt at the end, or an error (the reader then stays at the bad
  // record).
  Result<std::optional<StoredMessageView>> next();
  std::size_t position() const { return pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// All records of a PULL body.
Result<std::vector<StoredMessageView>> decode_stored_messages(std::string_view data);

// One message of a SEND_BATCH_MESSAGE body (spec §2.3.3, Example 8).
struct BatchMessageView {
  std::int32_t flag = 0;
  std::string_view body;
  std::string_view properties;
};

// Size of one encoded batch entry: 20 + body + 2 + properties.
std::size_t batch_message_size(const BatchMessageView& message);
Result<void> append_batch_message(const BatchMessageView& message, std::string& out);
Result<std::string> encode_batch_body(std::span<const BatchMessageView> messages);
// Views into `data`; MAGICCODE and BODYCRC are ignored as the Java broker does.
Result<std::vector<BatchMessageView>> decode_batch_body(std::string_view data);

// Default inflated-size cap: bodies are limited to 4 MiB before compression by Java producers
// and the broker; a little headroom for other producers.
inline constexpr std::size_t kDefaultMaxUncompressedBody = 16u << 20;

// zlib stream (RFC 1950) as Java's Deflater and zlib's compress() produce. Java >= 4.9.4 uses
// level 5.
Result<std::string> compress_body(std::string_view body, int level = 5);
// Inflates a zlib stream; fails with kResourceExhausted beyond max_size (zip bombs) and
// kProtocolError on corrupt data.
Result<std::string> uncompress_body(std::string_view compressed,
                                    std::size_t max_size = kDefaultMaxUncompressedBody);
// The message body as the application sees it: inflated when SYSFLAG bit 0 is set (legacy
// compression type 0 and ZLIB alike); LZ4/ZSTD are kUnsupported.
Result<std::string> decode_body(std::string_view body, std::int32_t sys_flag,
                                std::size_t max_size = kDefaultMaxUncompressedBody);

}  // namespace rmqc::rocketmq
