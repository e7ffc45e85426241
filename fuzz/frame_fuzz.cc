// libFuzzer target: remoting frames, both header flavours, whole-frame and incremental decoding.
// Invariants: no crash/UB/leak; whatever decodes re-encodes and decodes to the same command;
// the incremental decoder agrees with the whole-frame decoder however the bytes are split.

#include "rocketmq/protocol/frame_codec.h"
#include "rocketmq/protocol/headers.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace rmqc::rocketmq;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void exercise_headers(const RemotingCommand& cmd) {
  // Header parsers must cope with any ext fields.
  (void)SendMessageRequestHeader::from_command(cmd);
  (void)PullMessageRequestHeader::from_ext_fields(cmd.ext_fields);
  (void)PullMessageResponseHeader::from_ext_fields(cmd.ext_fields);
  (void)ConsumerSendMsgBackRequestHeader::from_ext_fields(cmd.ext_fields);
  (void)RegisterBrokerRequestHeader::from_ext_fields(cmd.ext_fields);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Small max frame so the fuzzer reaches the limit checks too.
  constexpr std::size_t kMax = 1u << 16;

  auto whole = decode_frame(input, kMax);
  if (whole.ok()) {
    exercise_headers(*whole);
    auto again = encode_frame(*whole, 2 * kMax);
    if (again.ok()) {
      auto round = decode_frame(*again, 2 * kMax);
      check(round.ok());
      check(round->code == whole->code && round->opaque == whole->opaque &&
            round->flag == whole->flag && round->body == whole->body &&
            round->remark == whole->remark && round->ext_fields == whole->ext_fields);
    }
  }

  // Incremental: split at a data-dependent point, then drain.
  FrameDecoder decoder(kMax);
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  decoder.feed(input.substr(0, split));
  int frames = 0;
  bool failed = false;
  for (int round = 0; round < 2 && !failed; ++round) {
    if (round == 1) decoder.feed(input.substr(split));
    while (true) {
      auto next = decoder.next();
      if (!next.ok()) {
        failed = true;
        break;
      }
      if (!*next) break;
      exercise_headers(**next);
      ++frames;
    }
  }
  // A single valid frame must come out of the stream decoder too.
  if (whole.ok()) check(frames == 1 && !failed);
  return 0;
}
