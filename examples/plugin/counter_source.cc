#include "counter_source.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/schema.h"

#include <thread>

namespace example {

rmqc::ConfigDef CounterSourceConnector::config_def() const {
  using rmqc::ConfigDef;
  ConfigDef def;
  def.define("connect.topicname", ConfigDef::Type::kString, "", ConfigDef::Importance::kHigh,
             "Topic the numbers go to");
  def.define("batch.size", ConfigDef::Type::kLong, "10", ConfigDef::Importance::kMedium,
             "Numbers per poll", rmqc::validators::at_least(1));
  def.define("poll.interval.ms", ConfigDef::Type::kLong, "100", ConfigDef::Importance::kLow,
             "Pause between polls", rmqc::validators::between(0, 60'000));
  def.define("max.count", ConfigDef::Type::kLong, "0", ConfigDef::Importance::kLow,
             "Stop after this many numbers (0 = never)", rmqc::validators::at_least(0));
  return def;
}

std::vector<rmqc::KeyValue> CounterSourceConnector::task_configs(int /*max_tasks*/) {
  // One counter: more tasks would emit the same numbers.
  rmqc::KeyValue task = config_;
  if (context() != nullptr) task.put("counter.name", std::string(context()->connector_name()));
  return {task};
}

std::unique_ptr<rmqc::Task> CounterSourceConnector::create_task() const {
  return std::make_unique<CounterSourceTask>();
}

void CounterSourceTask::start(const rmqc::KeyValue& config) {
  partition_ = rmqc::RecordPartition{{"counter", config.get_string("counter.name", "counter")}};
  topic_ = config.get_string("connect.topicname");
  batch_size_ = config.get_long("batch.size", 10);
  max_count_ = config.get_long("max.count", 0);
  interval_ = std::chrono::milliseconds(config.get_long("poll.interval.ms", 100));
  if (batch_size_ < 1) throw rmqc::ConnectException("batch.size must be at least 1");
  next_ = 0;
  if (context() != nullptr) {
    if (auto offset = context()->offset_storage_reader().read_offset(partition_)) {
      if (const auto* count = offset->find("count")) count->to_int64(next_);
    }
  }
}

std::vector<rmqc::ConnectRecord> CounterSourceTask::poll() {
  if (max_count_ > 0 && next_ >= max_count_) {
    std::this_thread::sleep_for(std::min(interval_, std::chrono::milliseconds(100)));
    return {};
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_poll_) {
    // Bounded sleep: the worker's task thread must stay responsive to stop().
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        next_poll_ - now, std::chrono::milliseconds(100)));
    return {};
  }
  next_poll_ = now + interval_;
  std::vector<rmqc::ConnectRecord> records;
  for (std::int64_t i = 0; i < batch_size_ && (max_count_ == 0 || next_ < max_count_); ++i) {
    const std::int64_t n = next_++;
    rmqc::ConnectRecord record(partition_, rmqc::RecordOffset{{"count", next_}}, std::nullopt,
                               rmqc::schemas::of(rmqc::FieldType::kInt64), rmqc::Value(n));
    if (!topic_.empty()) record.set_topic(topic_);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace example
