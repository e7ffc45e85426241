// Helper of crash_test.cc: appends records with SYNC flush and prints one line per acknowledged
// record ("<index> <queueId> <queueOffset> <physicalOffset>"), so the test can SIGKILL it at any
// point and check that everything it printed survived.
//
//   store_crash_writer <dir> <first-index> <count>
#include "broker/store/message_store.h"
#include "broker/store/tests/store_test_util.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <dir> <first-index> <count>\n", argv[0]);
    return 2;
  }
  using namespace rmqc::broker;
  auto config = testing::small_config(argv[1]);
  config.flush_mode = FlushMode::kSync;
  auto store = MessageStore::open(config);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  const long first = std::atol(argv[2]);
  const long count = std::atol(argv[3]);
  for (long i = first; i < first + count; ++i) {
    const auto queue_id = static_cast<int32_t>(i % 4);
    std::string body = "crash-" + std::to_string(i) + "-" + std::string(50 + i % 700, 'p');
    auto r = testing::put(**store, "Crash", queue_id, body, i % 2 ? "odd" : "even");
    if (!r.ok()) {
      std::fprintf(stderr, "put: %s\n", r.error().to_string().c_str());
      return 1;
    }
    std::printf("%ld %d %lld %lld\n", i, queue_id, static_cast<long long>(r->queue_offset),
                static_cast<long long>(r->physical_offset));
    std::fflush(stdout);
  }
  return 0;
}
