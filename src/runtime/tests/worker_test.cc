// StandaloneWorker in-process against the embedded broker: lifecycle edge cases that need a
// misbehaving plugin (a real connector cannot be made to hang on demand).
#include "runtime/worker.h"

#include "rmqc/api/source_task.h"

#include "broker/server/embedded_broker.h"
#include "converters/builtin_converters.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A source whose task's start() blocks well past the worker's start timeout.
class HangingTask : public SourceTask {
 public:
  void start(const KeyValue&) override { std::this_thread::sleep_for(3s); }
  void stop() override {}
  std::vector<ConnectRecord> poll() override { return {}; }
};

class HangingConnector : public SourceConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {KeyValue{}}; }
  std::string task_class() const override { return "HangingTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<HangingTask>(); }
};

TEST(StandaloneWorkerTest, TaskWhoseStartHangsIsReportedFailed) {
  fs::path dir = fs::temp_directory_path() / ("rmqc_worker_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  broker::EmbeddedBrokerOptions bo;
  bo.store.dir = (dir / "broker").string();
  bo.store.commit_log_segment_bytes = 8 << 20;
  bo.namesrv_port = 0;
  bo.broker_port = 0;
  bo.vip_port = false;
  auto b = broker::EmbeddedBroker::start(bo);
  ASSERT_TRUE(b.ok()) << b.error().to_string();

  plugins::PluginRegistry registry;
  converters::register_builtin_converters(registry);
  registry.add_source_connector<HangingConnector>({"HangingConnector", {}, "1", ""});
  auto config = config::parse_worker_config(KeyValue{{"storePathRootDir", (dir / "w").string()},
                                                     {"maxStartTimeoutMills", "500"},
                                                     {"maxStopTimeoutMills", "200"}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  StandaloneWorker::Options wo;
  wo.config = *config;
  wo.registry = &registry;
  wo.namesrv_addr = (*b)->namesrv_addr();
  auto w = StandaloneWorker::start(wo);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  auto created = (*w)->put_connector(
      "hang", KeyValue{{"connector.class", "HangingConnector"}, {"connect.topicname", "t"}}, false);
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  // The REST API keeps answering meanwhile, and the task ends up FAILED with the reason.
  std::optional<TaskState> task;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    auto t = (*w)->task_state("hang", 0);
    ASSERT_TRUE(t.ok());
    if (t->state == RunState::kFailed) {
      task = *t;
      break;
    }
  }
  ASSERT_TRUE(task.has_value()) << "the hung task was never reported FAILED";
  ASSERT_TRUE(task->trace.has_value());
  EXPECT_NE(task->trace->find("maxStartTimeoutMills"), std::string::npos) << *task->trace;
  (*w)->stop();
  (*b)->stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rmqc::runtime
