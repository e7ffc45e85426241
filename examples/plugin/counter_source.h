#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/source_task.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// Plugin code lives in its own namespace, never in rmqc: the worker exports rmqc:: symbols and
// they would take precedence over a plugin's own definitions of the same names.
namespace example {

// Emits 0, 1, 2, ... as INT64 values, batch.size per poll every poll.interval.ms, up to max.count
// (0 = forever). Position {"count": next} in partition {"counter": <connector name>}, so a
// restarted task continues where the last committed position left it.
class CounterSourceConnector final : public rmqc::SourceConnector {
 public:
  void start(const rmqc::KeyValue& config) override { config_ = config; }
  void stop() override {}
  rmqc::ConfigDef config_def() const override;
  std::vector<rmqc::KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override { return "example.CounterSourceTask"; }
  std::unique_ptr<rmqc::Task> create_task() const override;

 private:
  rmqc::KeyValue config_;
};

class CounterSourceTask final : public rmqc::SourceTask {
 public:
  void start(const rmqc::KeyValue& config) override;
  void stop() override {}
  std::vector<rmqc::ConnectRecord> poll() override;

 private:
  rmqc::RecordPartition partition_;
  std::string topic_;
  std::int64_t next_ = 0;
  std::int64_t max_count_ = 0;
  std::int64_t batch_size_ = 1;
  std::chrono::milliseconds interval_{100};
  std::chrono::steady_clock::time_point next_poll_{};
};

}  // namespace example
