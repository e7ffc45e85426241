// libFuzzer target: stored-message records (pull bodies), batch bodies, properties, message ids
// and compressed bodies. Invariants: no crash/UB/leak; decoded records re-encode to the same
// bytes (the layout is canonical once decoded).

#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace rmqc::rocketmq;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  StoredMessageReader reader(input);
  std::size_t decoded_bytes = 0;
  while (true) {
    auto next = reader.next();
    if (!next.ok() || !*next) break;
    const StoredMessageView& m = **next;
    const std::size_t record_size = reader.position() - decoded_bytes;
    std::string again;
    // Re-encoding recomputes BODYCRC and derives the magic from the topic length, so compare
    // only when those agree with the input.
    const bool canonical = m.body_crc == body_crc32(m.body) &&
                           (m.magic == kMessageMagicV2) == (m.topic.size() > kMaxTopicLengthV1);
    if (append_stored_message(m, again).ok() && canonical) {
      check(again == input.substr(decoded_bytes, record_size));
    }
    (void)parse_properties(m.properties);
    (void)m.offset_msg_id();
    (void)decode_body(m.body, m.sys_flag, 1u << 20);
    decoded_bytes = reader.position();
  }

  auto batch = decode_batch_body(input);
  if (batch.ok()) {
    auto again = encode_batch_body(*batch);
    check(again.ok() && again->size() == input.size());
  }

  auto props = parse_properties(input);
  for (const auto& [name, value] : props) {
    check(!name.empty() && !value.empty());
  }
  std::string_view value;
  (void)find_property(input, "TAGS", &value);
  (void)decode_offset_msg_id(input);
  (void)decode_uniq_key(input);
  (void)SocketAddress::parse(input);
  auto inflated = uncompress_body(input, 1u << 20);
  if (inflated.ok()) check(inflated->size() <= (1u << 20));
  return 0;
}
