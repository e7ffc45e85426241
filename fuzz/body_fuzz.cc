// libFuzzer target: JSON bodies (route data in both flavours, cluster info, heartbeats, locks,
// broker registration) and the legacy-key normaliser. Invariants: no crash/UB/leak, no
// exception escapes; a parsed route re-serialises to something that parses to the same value.

#include "rocketmq/protocol/bodies.h"

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
  (void)normalize_legacy_json(input);
  auto route = TopicRouteData::from_json(input);
  if (route.ok()) {
    // Writing is canonical: what we write parses back to something that writes the same.
    for (bool standard : {true, false}) {
      const std::string text = route->to_json(standard);
      auto back = TopicRouteData::from_json(text);
      check(back.ok());
      check(back->to_json(standard) == text);
    }
  }
  (void)ClusterInfo::from_json(input);
  (void)TopicList::from_json(input);
  (void)ConsumerListBody::from_json(input);
  auto hb = HeartbeatData::from_json(input);
  if (hb.ok()) (void)hb->to_json();
  (void)LockBatchRequestBody::from_json(input);
  (void)LockBatchResponseBody::from_json(input);
  (void)RegisterBrokerBody::from_json(input);
  (void)java_string_hash(input);
  return 0;
}
