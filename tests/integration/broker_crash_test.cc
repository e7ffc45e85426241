// Durability of the whole broker process: `rmq-connect broker --flush sync` is killed with
// SIGKILL while a producer is sending; after a restart every acknowledged message must be there,
// in order, uncorrupted.
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <thread>
#include <unistd.h>

namespace rmqc {
namespace {

namespace fs = std::filesystem;
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
using namespace std::chrono_literals;

struct Child {
  pid_t pid = -1;
  std::string broker_addr;
};

// Starts the broker and reads its "broker ready: ..." line for the addresses.
Child start_broker(const std::string& bin, const std::string& store) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDERR_FILENO);
    execl(bin.c_str(), bin.c_str(), "broker", "--store", store.c_str(), "--namesrv-port", "0",
          "--broker-port", "0", "--flush", "sync", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  Child child;
  child.pid = pid;
  auto at = line.find("broker=");
  EXPECT_NE(at, std::string::npos) << "unexpected output: " << line;
  if (at != std::string::npos) child.broker_addr = line.substr(at + 7);
  return child;
}

rocketmq::RemotingCommand send_request(int i) {
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = "crash";
  h.topic = "crash-topic";
  h.queue_id = i % 2;
  h.born_timestamp = 1;
  auto cmd = rocketmq::RemotingCommand::request(rc::SEND_MESSAGE_V2, h.to_v2_ext_fields());
  cmd.body = "message-" + std::to_string(i) + std::string(200, 'x');
  return cmd;
}

TEST(BrokerCrashTest, AcknowledgedMessagesSurviveSigkill) {
  const char* bin = std::getenv("RMQ_CONNECT_BIN");
  ASSERT_NE(bin, nullptr) << "RMQ_CONNECT_BIN must point at the rmq-connect binary";
  fs::path store = fs::temp_directory_path() / ("rmqc_crash_" + std::to_string(getpid()));
  fs::remove_all(store);

  Child child = start_broker(bin, store.string());
  ASSERT_GT(child.pid, 0);
  remoting::BlockingClient producer;
  ASSERT_TRUE(producer.connect(child.broker_addr, 2s).ok());

  // Acknowledged (queue, offset) -> index of the message.
  std::map<std::pair<int, std::int64_t>, int> acked;
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    std::this_thread::sleep_for(400ms);
    kill(child.pid, SIGKILL);
    killed = true;
  });
  for (int i = 0; i < 100000; ++i) {
    auto reply = producer.invoke(send_request(i), 2s);
    if (!reply.ok()) break;  // the broker died mid-stream
    ASSERT_EQ(reply->code, rsp::SUCCESS) << reply->remark;
    acked[{i % 2, std::stoll(*reply->ext("queueOffset"))}] = i;
  }
  killer.join();
  int status = 0;
  waitpid(child.pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GT(acked.size(), 10u) << "too few messages were acknowledged before the kill";

  Child again = start_broker(bin, store.string());
  remoting::BlockingClient consumer;
  ASSERT_TRUE(consumer.connect(again.broker_addr, 2s).ok());
  std::size_t found = 0;
  for (int queue = 0; queue < 2; ++queue) {
    std::int64_t offset = 0;
    while (true) {
      rocketmq::PullMessageRequestHeader h;
      h.consumer_group = "check";
      h.topic = "crash-topic";
      h.queue_id = queue;
      h.queue_offset = offset;
      h.max_msg_nums = 32;
      h.sys_flag = rocketmq::pull_sysflag::FLAG_SUBSCRIPTION;
      h.subscription = "*";
      auto reply = consumer.invoke(
          rocketmq::RemotingCommand::request(rc::PULL_MESSAGE, h.to_ext_fields()), 5s);
      ASSERT_TRUE(reply.ok()) << reply.error().to_string();
      if (reply->code != rsp::SUCCESS) break;
      auto records = rocketmq::decode_stored_messages(reply->body);
      ASSERT_TRUE(records.ok()) << "corrupt record: " << records.error().message();
      for (const auto& r : *records) {
        auto it = acked.find({queue, r.queue_offset});
        if (it != acked.end()) {
          EXPECT_EQ(r.body.substr(0, r.body.find('x')), "message-" + std::to_string(it->second));
          ++found;
        }
        // Within a queue, offsets are dense and in order.
        EXPECT_EQ(r.queue_offset, offset);
        ++offset;
      }
    }
  }
  EXPECT_EQ(found, acked.size()) << "acknowledged messages lost after SIGKILL";
  std::printf("%zu messages acknowledged before SIGKILL, %zu found after restart\n", acked.size(),
              found);
  kill(again.pid, SIGTERM);
  waitpid(again.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove_all(store);
}

}  // namespace
}  // namespace rmqc
