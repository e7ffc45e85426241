// Durability under kill -9: a child process appends with SYNC flush and reports each
// acknowledged record; the test SIGKILLs it mid-stream (three times, resuming in between), then
// reopens the store and checks every acknowledged record is present, in order, uncorrupted.
#include "broker/store/message_store.h"
#include "broker/store/tests/store_test_util.h"
#include "broker/store/tests/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <signal.h>
#include <sstream>
#include <unistd.h>

namespace rmqc::broker {
namespace {

struct Ack {
  long index;
  int32_t queue_id;
  int64_t queue_offset;
  int64_t physical_offset;
};

// Runs the writer from `first` and kills it after `kill_after` acknowledgements.
std::vector<Ack> run_and_kill(const std::string& dir, long first, int kill_after) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const std::string first_arg = std::to_string(first);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(STORE_CRASH_WRITER, STORE_CRASH_WRITER, dir.c_str(), first_arg.c_str(), "1000000",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  FILE* in = ::fdopen(fds[0], "r");
  std::vector<Ack> acks;
  char line[128];
  bool killed = false;
  while (std::fgets(line, sizeof(line), in) != nullptr) {
    Ack a{};
    long long qoff = 0, phys = 0;
    if (std::sscanf(line, "%ld %d %lld %lld", &a.index, &a.queue_id, &qoff, &phys) == 4) {
      a.queue_offset = qoff;
      a.physical_offset = phys;
      acks.push_back(a);
    }
    if (!killed && static_cast<int>(acks.size()) >= kill_after) {
      ::kill(pid, SIGKILL);
      killed = true;  // keep reading: lines already in the pipe were acknowledged too
    }
  }
  std::fclose(in);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  return acks;
}

TEST(CrashRecovery, EveryAcknowledgedRecordSurvivesSigkill) {
  testing::TempDir tmp;
  std::vector<Ack> acked;
  long first = 0;
  for (int round = 0; round < 3; ++round) {
    auto acks = run_and_kill(tmp.path(), first, 150 + 70 * round);
    ASSERT_GE(acks.size(), 150u);
    acked.insert(acked.end(), acks.begin(), acks.end());
    first = acks.back().index + 1000;  // unacknowledged records may exist: never reuse an index
  }

  auto store = MessageStore::open(testing::small_config(tmp.path()));
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  MessageStore& s = **store;
  ASSERT_GT(s.commit_log_max_offset(), 64 * 1024) << "expected several segments";

  // Every acknowledged record is where the writer was told it is, byte-exact.
  for (const auto& a : acked) {
    auto g = s.get_messages("Crash", a.queue_id, a.queue_offset, 1, 1 << 20);
    ASSERT_EQ(g->status, GetStatus::kFound) << "index " << a.index;
    auto m = rocketmq::decode_stored_message(g->messages[0].bytes);
    ASSERT_TRUE(m.ok());
    const std::string expected =
        "crash-" + std::to_string(a.index) + "-" + std::string(50 + a.index % 700, 'p');
    EXPECT_EQ(m->body, expected);
    EXPECT_EQ(m->physical_offset, a.physical_offset);
    EXPECT_EQ(m->queue_offset, a.queue_offset);
    EXPECT_EQ(rocketmq::body_crc32(m->body), m->body_crc);
  }
  // Each queue reads back densely, in append order, every record valid.
  for (int32_t q = 0; q < 4; ++q) {
    int64_t next = 0;
    long last_index = -1;
    while (next < s.max_offset("Crash", q)) {
      auto g = s.get_messages("Crash", q, next, 32, 1 << 20);
      ASSERT_EQ(g->status, GetStatus::kFound);
      for (const auto& ref : g->messages) {
        auto m = rocketmq::decode_stored_message(ref.bytes);
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(m->queue_offset, next++);
        EXPECT_EQ(rocketmq::body_crc32(m->body), m->body_crc);
        long index = std::stol(std::string(m->body.substr(6)));
        EXPECT_GT(index, last_index);
        last_index = index;
      }
    }
  }
}

}  // namespace
}  // namespace rmqc::broker
