#include "runtime/worker_task.h"

#include "rmqc/api/errors.h"

#include "base/logging.h"
#include "base/thread_name.h"

#include <charconv>
#include <ctime>
#include <typeinfo>

namespace rmqc::runtime {
namespace {

constexpr auto kEmptyPollBackoff = std::chrono::milliseconds(50);
// Unacknowledged records per source task: enough to keep the producer's pipeline full (the
// end-to-end benchmark runs as fast with 1024 as with 8192) and small, since a crash re-sends
// them.
constexpr std::size_t kMaxInFlight = 1024;
constexpr auto kRetryBackoff = std::chrono::milliseconds(500);
// A sink that owns no queue yet looks again: every second while a topic has no route (its source
// has not sent anything yet), then, once every topic has queues (the group has more members than
// queues), less and less often: the periodic rebalance and the broker's notice of a membership
// change hand queues out anyway.
constexpr auto kUnassignedRetry = std::chrono::seconds(1);
constexpr auto kUnassignedRetryMax = std::chrono::seconds(30);
// Source batches: well under the broker's 4 MiB message limit. Records from 4 KiB up travel
// alone, so the producer compresses them as usual (batches are not compressed).
constexpr std::size_t kMaxBatchRecords = 128;
constexpr std::size_t kMaxBatchBytes = 512 * 1024;
constexpr std::size_t kMaxBatchedRecordBytes = 4096;
// Messages (each with buffers of up to kMaxBatchedRecordBytes) and batch vectors kept for reuse.
constexpr std::size_t kMaxSpareMessages = 2 * kMaxBatchRecords;
constexpr std::size_t kMaxSpareBatches = 8;
constexpr std::string_view kTimestampProperty = "connect.timestamp";

std::string describe_queue(const rocketmq::MessageQueue& q) {
  return q.topic + "@" + q.broker_name + ":" + std::to_string(q.queue_id);
}

}  // namespace

std::string describe_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const ConnectException& ex) {
    return std::string("ConnectException: ") + ex.what();
  } catch (const std::exception& ex) {
    return std::string(typeid(ex).name()) + ": " + ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

RecordPartition partition_of(const rocketmq::MessageQueue& queue) {
  return RecordPartition{{"topic", queue.topic},
                         {"brokerName", queue.broker_name},
                         {"queueId", std::int32_t{queue.queue_id}}};
}

std::optional<rocketmq::MessageQueue> queue_of(const RecordPartition& partition) {
  const Value* topic = partition.find("topic");
  const Value* broker = partition.find("brokerName");
  const Value* queue = partition.find("queueId");
  std::int64_t id = 0;
  if (!topic || !broker || !queue || !topic->get_if<std::string>() ||
      !broker->get_if<std::string>() || !queue->to_int64(id)) {
    return std::nullopt;
  }
  return rocketmq::MessageQueue{topic->as_string(), broker->as_string(),
                                static_cast<std::int32_t>(id)};
}

// --- WorkerTask ---

WorkerTask::WorkerTask(TaskSetup setup)
    : setup_(std::move(setup)),
      errors_(setup_.errors, setup_.connector, setup_.task_id, setup_.producer),
      done_future_(done_.get_future().share()) {
  state_.id = setup_.task_id;
  state_.worker_id = setup_.worker_id;
  state_.state = RunState::kUnassigned;
  metrics_.enabled = setup_.metrics_enabled;
}

WorkerTask::~WorkerTask() {
  if (thread_.joinable()) thread_.detach();  // only reached for abandoned tasks
}

bool WorkerTask::fail_if_start_timed_out(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(state_mutex_);
    if (state_.state != RunState::kUnassigned || stopping() ||
        started_at_ == std::chrono::steady_clock::time_point{} ||
        std::chrono::steady_clock::now() - started_at_ < timeout) {
      return false;
    }
  }
  fail("start() did not return within maxStartTimeoutMills (" + std::to_string(timeout.count()) +
       " ms)");
  return true;
}

void WorkerTask::start() {
  {
    std::lock_guard lock(state_mutex_);
    started_at_ = std::chrono::steady_clock::now();
  }
  auto self = shared_from_this();
  thread_ = std::thread([self] {
    // "t:<connector>-<id>": the connector name is shortened first, the task id stays.
    set_thread_name(
        fit_thread_name("t:", self->setup_.connector, "-" + std::to_string(self->setup_.task_id)));
    try {
      self->run();
    } catch (...) {
      self->fail(describe_exception(std::current_exception()));
    }
    self->done_.set_value();
  });
}

void WorkerTask::set_paused(bool paused) {
  paused_.store(paused);
  wake();
  if (paused) wake_plugin();
}

void WorkerTask::wake_plugin() {
  // The SDK's wakeup contract (rmqc/api/task.h): a poll() or put() blocked on the external
  // system returns soon, so pausing and stopping never wait on it.
  try {
    setup_.task->wakeup();
  } catch (...) {
    logger("worker")->warn("task {}-{} wakeup threw: {}", setup_.connector, setup_.task_id,
                           describe_exception(std::current_exception()));
  }
}

bool WorkerTask::stop(std::chrono::milliseconds timeout) {
  stopping_.store(true);
  errors_.cancel();
  wake();
  wake_plugin();
  if (!thread_.joinable()) return true;
  if (done_future_.wait_for(timeout) != std::future_status::ready) {
    logger("worker")->error("task {}-{} did not stop within {} ms; abandoning it", setup_.connector,
                            setup_.task_id, timeout.count());
    thread_.detach();
    set_state(RunState::kFailed, "did not stop within maxStopTimeoutMills");
    return false;
  }
  thread_.join();
  return true;
}

TaskState WorkerTask::state() const {
  std::lock_guard lock(state_mutex_);
  return state_;
}

TaskMetricsSnapshot WorkerTask::metrics() const {
  TaskMetricsSnapshot m = snapshot_of(metrics_, errors_.metrics());
  m.connector = setup_.connector;
  m.task = setup_.task_id;
  m.type = type();
  m.state = state().state;
  add_metrics(m);
  return m;
}

OffsetMap WorkerTask::committed_offsets() const {
  std::lock_guard lock(state_mutex_);
  return committed_;
}

Result<std::optional<std::vector<ConnectRecord>>> WorkerTask::poll_source(SourceTask& source) {
  const auto poll_started =
      metrics_.enabled ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  auto result = errors_.run(
      Stage::kTaskPoll,
      [&]() -> std::vector<ConnectRecord> {
        try {
          auto records = source.poll();
          clear_retrying(RetryCall::kPoll);
          return records;
        } catch (const RetriableException& e) {
          note_retrying(RetryCall::kPoll, e.what());
          wait_for(kRetryBackoff);
          return {};
        }
      },
      [] { return FailedRecord{}; });
  if (metrics_.enabled) {
    metrics_.batch_time.observe(std::chrono::steady_clock::now() - poll_started);
  }
  return result;
}

std::optional<OffsetMap> WorkerTask::sink_pre_commit(SinkTask& sink, const OffsetMap& current,
                                                     const char* pending, bool* failed) {
  *failed = false;
  try {
    auto flushed = sink.pre_commit(current);
    clear_retrying(RetryCall::kCommit);
    return flushed;
  } catch (const RetriableException& e) {
    add(metrics_.offset_commit_failure);
    note_retrying(RetryCall::kCommit, std::string(pending) + " not committed yet: " + e.what());
  } catch (...) {
    add(metrics_.offset_commit_failure);
    fail("flush failed: " + describe_exception(std::current_exception()));
    *failed = true;
  }
  return std::nullopt;
}

void WorkerTask::remember_committed(const OffsetMap& offsets) {
  std::lock_guard lock(state_mutex_);
  for (const auto& [p, o] : offsets) committed_[p] = o;
}

void WorkerTask::set_state(RunState state, std::optional<std::string> trace) {
  std::lock_guard lock(state_mutex_);
  if (state_.state == RunState::kFailed && state != RunState::kUnassigned) return;  // sticky
  state_.state = state;
  state_.trace = std::move(trace);
  retrying_.store(0);  // a new state starts without a retry in progress
  retry_reason_.clear();
}

void WorkerTask::note_retrying(RetryCall call, const std::string& raw_reason) {
  const std::string reason = setup_.secrets ? setup_.secrets->scrub(raw_reason) : raw_reason;
  std::lock_guard lock(state_mutex_);
  if (state_.state != RunState::kRunning) return;
  if (retrying_.load() == 0) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    retry_since_ = text;
  }
  retrying_.store(static_cast<int>(call) + 1);
  if (reason != retry_reason_) {
    logger("worker")->warn("task {}-{}: {}; retrying", setup_.connector, setup_.task_id, reason);
    retry_reason_ = reason;
  }
  state_.trace = reason + " (retrying since " + retry_since_ + ")";
}

void WorkerTask::end_retrying() {
  std::lock_guard lock(state_mutex_);
  if (retrying_.exchange(0) == 0) return;
  logger("worker")->info("task {}-{}: no longer retrying ({})", setup_.connector, setup_.task_id,
                         retry_reason_);
  retry_reason_.clear();
  if (state_.state == RunState::kRunning) state_.trace.reset();
}

void WorkerTask::fail(const std::string& raw_trace) {
  // A plugin's message may quote a resolved ${...} value: hidden before it is logged or stored.
  const std::string trace = setup_.secrets ? setup_.secrets->scrub(raw_trace) : raw_trace;
  logger("worker")->error("task {}-{} failed: {}", setup_.connector, setup_.task_id, trace);
  set_state(RunState::kFailed, trace);
}

void WorkerTask::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(wait_mutex_);
  bool was_paused = paused();
  wait_cv_.wait_for(lock, d, [&] { return stopping() || paused() != was_paused; });
}

bool WorkerTask::start_plugin(const std::function<void()>& init) {
  try {
    init();
    setup_.task->start(setup_.task_config);
  } catch (...) {
    fail("start failed: " + describe_exception(std::current_exception()));
    return false;
  }
  if (state().state == RunState::kFailed) {  // start() returned after the start timeout
    try {
      setup_.task->stop();
    } catch (...) {
    }
    return false;
  }
  set_state(RunState::kRunning);
  return true;
}

bool WorkerTask::wait_while_paused() {
  if (!paused()) return !stopping();
  set_state(RunState::kPaused);
  while (true) {
    std::unique_lock lock(wait_mutex_);
    wait_cv_.wait(lock, [&] { return stopping() || !paused() || has_pending_work(); });
    if (stopping() || !paused()) break;
    lock.unlock();
    do_pending_work();
  }
  if (!stopping()) set_state(RunState::kRunning);
  return !stopping();
}

void WorkerTask::wake() {
  { std::lock_guard lock(wait_mutex_); }
  wait_cv_.notify_all();
  interrupt();
}

// --- WorkerSourceTask ---

WorkerSourceTask::WorkerSourceTask(TaskSetup setup)
    : WorkerTask(std::move(setup)),
      task_(static_cast<SourceTask*>(setup_.task.get())),
      task_name_(setup_.connector + "-" + std::to_string(setup_.task_id)),
      default_topic_(setup_.connector_config.get_string("connect.topicname")) {
  if (!setup_.sender && setup_.producer) {
    setup_.sender = std::make_shared<RocketMqRecordSender>(setup_.producer);
  }
}

std::optional<RecordOffset> WorkerSourceTask::Reader::read_offset(
    const RecordPartition& partition) {
  return task_.setup_.store->position(task_.setup_.connector, partition);
}

OffsetMap WorkerSourceTask::Reader::read_offsets(const std::vector<RecordPartition>& partitions) {
  OffsetMap out;
  for (const auto& p : partitions) {
    if (auto o = read_offset(p)) out[p] = *o;
  }
  return out;
}

void WorkerSourceTask::run() {
  if (!start_plugin([&] { task_->init(*this); })) return;
  next_commit_ = std::chrono::steady_clock::now() + setup_.commit_interval;
  bool healthy = true;
  while (healthy && wait_while_paused()) {
    auto result = poll_source(*task_);
    if (!result.ok()) {
      if (result.error().code() == ErrorCode::kCancelled) break;  // stopped while retrying
      fail(result.error().message());
      healthy = false;
      break;
    }
    if (report_error_) {  // the task reported bad input that was not tolerated
      fail(report_error_->message());
      healthy = false;
      break;
    }
    if (result->has_value() && !(**result).empty() && metrics_.enabled) {
      add(metrics_.source_record_poll, (**result).size());
      metrics_.batch_size.observe((**result).size());
    }
    if (result->has_value() && !(**result).empty()) {
      for (auto& record : **result) {
        if (!send(std::move(record))) {
          healthy = false;
          break;
        }
        if (stopped_mid_poll_) break;  // the rest of the batch is read again after a restart
      }
      flush_batches();
    } else {
      wait_for(kEmptyPollBackoff);
    }
    if (healthy) healthy = drain_acks();
    if (healthy) commit_positions_if_due();
  }
  // Final commit: wait (bounded) for outstanding sends, then record the acknowledged prefix.
  flush_batches();
  auto deadline = std::chrono::steady_clock::now() + setup_.commit_timeout;
  {
    std::unique_lock lock(inflight_mutex_);
    inflight_cv_.wait_until(lock, deadline, [&] {
      for (auto& [p, q] : inflight_) {
        for (auto& f : q) {
          if (f->outcome.load() == 0) return false;
        }
      }
      return true;
    });
  }
  if (healthy) {
    drain_acks();
  }
  commit_positions();
  try {
    task_->stop();
  } catch (...) {
    logger("worker")->warn("task {} stop threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
  setup_.chain.stop();
  if (healthy) set_state(RunState::kUnassigned);
}

bool WorkerSourceTask::send(ConnectRecord record) {
  auto describe = [&] {
    FailedRecord f;
    f.topic = std::string(record.topic().empty() ? default_topic_ : record.topic());
    f.body = record.value.to_string();
    f.keys = record.key.is_null() ? std::string() : record.key.to_string();
    f.description = "key=" + f.keys + " value=" + f.body;
    return f;
  };
  // The target topic is known before the transforms run, so routers (RegexRouter,
  // TimestampRouter) and topic predicates see it.
  if (record.topic().empty() && !default_topic_.empty()) record.set_topic(default_topic_);
  if (!setup_.chain.empty()) {
    auto transformed = errors_.run(
        Stage::kTransformation, [&] { return setup_.chain.apply(record); }, describe);
    if (!transformed.ok()) {
      if (transformed.error().code() == ErrorCode::kCancelled) {
        stopped_mid_poll_ = true;  // no flight: the position stays before this record
        return true;
      }
      fail(transformed.error().message());
      return false;
    }
    if (!transformed->has_value() || !(**transformed).has_value()) {
      pass_without_message(std::move(record));  // dropped, or a tolerated failure
      return true;
    }
    record = std::move(***transformed);
  }
  if (record.topic().empty() && default_topic_.empty()) {
    FailedRecord f = describe();
    f.stage = Stage::kProduce;
    f.error = "record has no topic: set connect.topicname or the record's topic extension";
    f.error_class = "ConnectException";
    if (auto r = errors_.report(std::move(f)); !r.ok()) {
      fail(r.error().message());
      return false;
    }
    pass_without_message(std::move(record));
    return true;
  }
  rocketmq::Message message = take_message();
  std::string key;
  bool fatal = false;
  if (!to_message(record, message, key, &fatal)) {
    if (fatal) return false;
    pass_without_message(std::move(record));  // a tolerated conversion failure
    return true;
  }
  if (message.body.empty()) {
    // RocketMQ has no empty messages (brokers' clients refuse them). A keyed record with a null
    // value is a deletion (a tombstone) that has no RocketMQ form: an error under
    // errors.tolerance, not something to drop quietly.
    if (record.value.is_null() && !record.key.is_null()) {
      FailedRecord f = describe();
      f.stage = Stage::kProduce;
      f.error =
          "a record with a key and a null value (a tombstone) cannot become a RocketMQ "
          "message: message bodies cannot be empty";
      f.error_class = "DataException";
      if (auto r = errors_.report(std::move(f)); !r.ok()) {
        fail(r.error().message());
        return false;
      }
      pass_without_message(std::move(record));
      return true;
    }
    // Content that is simply empty (a blank line) is passed over rather than failing the task on
    // every blank line; its position still moves on.
    if (empty_skipped_++ % 10000 == 0) {
      logger("worker")->warn(
          "task {}: a record's value converts to an empty body, which RocketMQ cannot carry; "
          "skipped ({} so far)",
          task_name_, empty_skipped_);
    }
    pass_without_message(std::move(record));
    return true;
  }
  if (logging_messages()) {
    logger("worker")->info("{} -> {} keys={} body={}", task_name_, message.topic, key,
                           message.body);
  }

  auto flight = std::make_shared<InFlight>();
  flight->record = std::move(record);
  const RecordPartition& partition = flight->record.position.partition;  // no copy per record
  {
    std::unique_lock lock(inflight_mutex_);
    // Back-pressure: a bounded number of unacknowledged records. Only drain_acks(), on this
    // thread, lowers the count, so waiting for the count alone never ended: a source that
    // outran the broker by kMaxInFlight records in one poll loop hung for good (regression:
    // tests/integration/worker_crash_test.cc). Wait for an acknowledgment at the head of a
    // partition instead and drain it here.
    // Whether drain_acks() can make progress now: a head it can retire, or a retry that fell
    // due; else *next_retry says when the earliest retry falls due (waiting for an
    // acknowledgment alone would spin on a head that waits for its retry: regression).
    auto head_done = [&](std::chrono::steady_clock::time_point* next_retry) {
      const auto now = std::chrono::steady_clock::now();
      for (const auto& [p, q] : inflight_) {
        if (q.empty()) continue;
        const int head = q.front()->outcome.load();
        if (head == 1 || head == 3 || (head == 2 && !q.front()->retriable)) return true;
        for (const auto& f : q) {
          if (f->outcome.load() != 2 || !f->retriable) continue;
          if (now >= f->retry_at) return true;
          *next_retry = std::min(*next_retry, f->retry_at);
        }
      }
      return false;
    };
    while (inflight_count_ >= kMaxInFlight && !stopping()) {
      if (!batches_.empty()) {  // what is waited for must be on its way
        lock.unlock();
        flush_batches();
        lock.lock();
        continue;
      }
      auto next_retry = std::chrono::steady_clock::time_point::max();
      if (head_done(&next_retry)) {
        lock.unlock();
        if (!drain_acks()) return false;
        // A source far ahead of the broker can spend a long time here: positions are still
        // committed on schedule, which bounds what a crash re-sends to one interval.
        commit_positions_if_due();
        lock.lock();
        continue;
      }
      if (next_retry == std::chrono::steady_clock::time_point::max()) {
        inflight_cv_.wait(lock);
      } else {
        inflight_cv_.wait_until(lock, next_retry);
      }
    }
    inflight_[partition].push_back(flight);
    ++inflight_count_;
  }
  add_to_batch(flight, std::move(message), std::move(key));
  return true;
}

ErrorRecordReporter* WorkerSourceTask::error_record_reporter() {
  return setup_.errors.tolerate_all ? this : nullptr;
}

void WorkerSourceTask::report(const ConnectRecord& record, const std::string& error) {
  FailedRecord f;
  f.stage = Stage::kTaskPoll;
  f.error = error;
  f.error_class = "reported by the task";
  f.topic = std::string(record.topic().empty() ? default_topic_ : record.topic());
  if (const auto* b = record.value.get_if<Bytes>()) {
    f.body.assign(reinterpret_cast<const char*>(b->data()), b->size());
  } else if (const auto* s = record.value.get_if<std::string>()) {
    f.body = *s;
  } else {
    f.body = record.value.to_string();
  }
  f.keys = record.key.is_null() ? std::string() : record.key.to_string();
  f.description = error;
  if (auto r = errors_.report(std::move(f)); !r.ok()) {
    if (!report_error_) report_error_ = r.error();
    return;
  }
  pass_without_message(record);  // its position passes once the records before it are acked
}

void WorkerSourceTask::pass_without_message(ConnectRecord record) {
  if (record.position.partition.empty()) return;  // no position to move
  auto flight = std::make_shared<InFlight>();
  RecordPartition partition = record.position.partition;
  flight->record = std::move(record);
  flight->outcome.store(3);
  std::lock_guard lock(inflight_mutex_);
  // In line with the records before it: the position passes it once they are acknowledged.
  inflight_[partition].push_back(std::move(flight));
  ++inflight_count_;
}

void WorkerSourceTask::add_to_batch(const std::shared_ptr<InFlight>& flight,
                                    rocketmq::Message message, std::string key) {
  // What the record adds to the batch body: its body and its encoded properties (headers can be
  // large too), so a batch stays well under the broker's message size limit.
  std::size_t bytes = message.body.size() + message.keys.size() + message.tags.size() + 64;
  for (const auto& [k, v] : message.properties) bytes += k.size() + v.size() + 2;
  const bool alone = message.body.size() >= kMaxBatchedRecordBytes || bytes >= kMaxBatchBytes;
  // Keys share a batch when they pick the same queue; while the topic's queue count is unknown
  // (no route cached yet), only records of the same key do. Keyless records share one batch
  // (the producer picks its queue round robin).
  const std::size_t queues = key.empty() ? 0 : setup_.sender->queue_count(message.topic);
  const std::size_t slot = queues > 0 ? rocketmq::Producer::queue_for_key(key, queues) : 0;
  // The open keyed batches of a topic were all grouped under one queue count; when it changes
  // (the route arrived or changed) they go first, so a key never sits in two open batches.
  for (std::size_t i = 0; i < batches_.size();) {
    const OpenBatch& b = batches_[i];
    if (!key.empty() && !b.key.empty() && b.topic == message.topic && b.queues != queues) {
      flush_batch(i);
    } else {
      ++i;
    }
  }
  std::size_t index = batches_.size();
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    const OpenBatch& b = batches_[i];
    if (b.topic != message.topic || b.key.empty() != key.empty()) continue;
    if (b.key == key || (queues > 0 && b.slot == slot)) {
      index = i;
      break;
    }
  }
  if (index < batches_.size()) {
    const OpenBatch& b = batches_[index];
    // A record sent alone goes after the batch of its queue (order per key).
    if (alone || b.flights.size() >= kMaxBatchRecords || b.bytes + bytes > kMaxBatchBytes) {
      flush_batch(index);
      index = batches_.size();
    }
  }
  if (alone) {
    dispatch(flight, std::move(message), std::move(key));
    return;
  }
  if (index == batches_.size()) {
    OpenBatch& b = batches_.emplace_back();
    b.topic = message.topic;
    b.key = std::move(key);
    b.queues = queues;
    b.slot = slot;
    if (!spare_batches_.empty()) {
      b.messages = std::move(spare_batches_.back());
      spare_batches_.pop_back();
    }
    b.flights.reserve(std::max<std::size_t>(b.messages.capacity(), 8));
  }
  OpenBatch& b = batches_[index];
  b.bytes += bytes;
  b.flights.push_back(flight);
  b.messages.push_back(std::move(message));
}

void WorkerSourceTask::flush_batch(std::size_t index) {
  OpenBatch b = std::move(batches_[index]);
  batches_.erase(batches_.begin() + static_cast<std::ptrdiff_t>(index));
  if (b.flights.size() == 1) {
    dispatch(b.flights.front(), std::move(b.messages.front()), std::move(b.key));
    return;
  }
  setup_.sender->send_batch_async(
      b.messages, std::move(b.key),
      [this, flights = std::move(b.flights), self = shared_from_this(), sent_at = send_started()](
          Result<rocketmq::SendResult> r) { settle(flights, std::move(r), sent_at); });
  // The sender has read the messages: their buffers serve the next records.
  for (auto& m : b.messages) {
    if (spare_messages_.size() >= kMaxSpareMessages) break;
    spare_messages_.push_back(std::move(m));
  }
  b.messages.clear();
  if (spare_batches_.size() < kMaxSpareBatches) spare_batches_.push_back(std::move(b.messages));
}

rocketmq::Message WorkerSourceTask::take_message() {
  if (spare_messages_.empty()) return {};
  rocketmq::Message m = std::move(spare_messages_.back());
  spare_messages_.pop_back();
  return m;
}

void WorkerSourceTask::set_properties(const ConnectRecord& record, rocketmq::Message& message) {
  auto& props = message.properties;
  // Names the message will carry (extensions are a map: distinct names). When the map holds
  // exactly those, its nodes stay and only the values are assigned.
  std::size_t wanted = 0;
  bool same = true;
  bool timestamp_extension = false;
  for (const auto& [k, v] : record.extensions) {
    if (k == ConnectRecord::kTopicExtension || k == "tags" || k == "TAGS") continue;
    ++wanted;
    if (k == kTimestampProperty) timestamp_extension = true;
    if (same && props.find(k) == props.end()) same = false;
  }
  if (record.timestamp && !timestamp_extension) {
    ++wanted;
    if (same && props.find(kTimestampProperty) == props.end()) same = false;
  }
  if (!same || props.size() != wanted) props.clear();
  message.tags.clear();
  for (const auto& [k, v] : record.extensions) {
    if (k == ConnectRecord::kTopicExtension) continue;
    if (k == "tags" || k == "TAGS") {
      message.tags = v;
    } else {
      props.insert_or_assign(k, v);
    }
  }
  if (record.timestamp) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), *record.timestamp).ptr;
    const std::string_view text(digits, static_cast<std::size_t>(end - digits));
    if (auto it = props.find(kTimestampProperty); it != props.end()) {
      it->second.assign(text);
    } else {
      props.emplace(std::string(kTimestampProperty), std::string(text));
    }
  }
}

void WorkerSourceTask::flush_batches() {
  while (!batches_.empty()) flush_batch(0);
}

void WorkerSourceTask::settle(const std::vector<std::shared_ptr<InFlight>>& flights,
                              Result<rocketmq::SendResult> r,
                              std::chrono::steady_clock::time_point sent_at) {
  if (metrics_.enabled) {
    if (r.ok()) {
      metrics_.send_latency.observe(std::chrono::steady_clock::now() - sent_at);
    } else {
      add(r.error().is_retriable() ? metrics_.send_errors_retriable : metrics_.send_errors_fatal);
    }
  }
  if (r.ok()) {
    // One acknowledgment for the whole batch: consecutive queue offsets, comma-joined ids.
    auto result = std::make_shared<const rocketmq::SendResult>(std::move(r).value());
    const std::string& ids = result->msg_id;
    std::size_t at = 0;
    for (std::size_t i = 0; i < flights.size(); ++i) {
      auto& f = *flights[i];
      std::size_t end = at < ids.size() ? ids.find(',', at) : std::string::npos;
      if (end == std::string::npos) end = ids.size();
      f.result = result;
      f.queue_offset = result->queue_offset + static_cast<std::int64_t>(i);
      f.id_pos = static_cast<std::uint32_t>(std::min(at, ids.size()));
      f.id_size = static_cast<std::uint32_t>(end - f.id_pos);
      at = end + 1;
      f.outcome.store(1);
    }
  } else {
    for (const auto& f : flights) {
      f->error = r.error().message();
      f->retriable = r.error().is_retriable();
      f->outcome.store(2);
    }
  }
  { std::lock_guard lock(inflight_mutex_); }
  inflight_cv_.notify_all();
}

bool WorkerSourceTask::to_message(const ConnectRecord& record, rocketmq::Message& message,
                                  std::string& key, bool* fatal) {
  *fatal = false;
  // `message` may be one a sent batch handed back: every field is set again, into the buffers it
  // already has.
  message.topic.assign(record.topic().empty() ? std::string_view(default_topic_) : record.topic());
  const std::string& topic = message.topic;
  // Converters return Result: a failure is a record-level error for the tolerance settings.
  auto convert = [&](Stage stage, RecordConverter& c, const SchemaPtr& schema, const Value& v,
                     std::string& out) -> bool {
    auto r = c.from_connect_data(topic, schema, v, out);
    if (r.ok()) return true;
    FailedRecord f;
    f.stage = stage;
    f.topic = topic;
    f.error = r.error().message();
    f.error_class = "DataException";
    f.body = record.value.to_string();
    f.keys = record.key.is_null() ? std::string() : record.key.to_string();
    f.description = "key=" + f.keys + " value=" + f.body;
    if (auto rep = errors_.report(std::move(f)); !rep.ok()) {
      fail(rep.error().message());
      *fatal = true;
    }
    return false;
  };
  key.clear();
  if (!record.key.is_null() &&
      !convert(Stage::kKeyConverter, *setup_.key_converter, record.key_schema, record.key, key)) {
    return false;
  }
  // Converted straight into the message's body. A new message is sized like the last body: one
  // allocation instead of growing through every power of two (a copy each) on the way to a
  // kilobyte; a reused one keeps the capacity it has.
  std::string& body = message.body;
  body.clear();
  if (body.capacity() < body_hint_) body.reserve(body_hint_);
  if (!convert(Stage::kValueConverter, *setup_.value_converter, record.value_schema, record.value,
               body)) {
    return false;
  }
  body_hint_ = std::min<std::size_t>(body.size() + body.size() / 8 + 16, kMaxBatchedRecordBytes);
  message.keys.assign(key);
  message.flag = 0;
  message.delay_level = 0;
  set_properties(record, message);
  // The queue follows the sharding key when there is one (the message keeps the record's key).
  if (const std::string* shard = record.extension(ConnectRecord::kShardingKeyExtension);
      shard != nullptr && !shard->empty()) {
    key = *shard;
  }
  return true;
}

void WorkerSourceTask::dispatch(const std::shared_ptr<InFlight>& flight, rocketmq::Message message,
                                std::string key) {
  auto on_done = [this, flight, self = shared_from_this(), sent_at = send_started()](
                     Result<rocketmq::SendResult> r) { settle({flight}, std::move(r), sent_at); };
  // A key picks the queue: same key, same queue, so records of one key stay in order (seed
  // issue 233).
  setup_.sender->send_async(std::move(message), std::move(key), std::move(on_done));
}

bool WorkerSourceTask::drain_acks() {
  std::vector<std::shared_ptr<InFlight>> done;
  std::vector<std::size_t> run_ends;  // `done` holds runs of one partition each: where each ends
  std::vector<std::shared_ptr<InFlight>> resend;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(inflight_mutex_);
    for (auto it = inflight_.begin(); it != inflight_.end();) {
      auto& q = it->second;
      // A retriable failure (a timeout, a broker restarting) is sent again, after a pause,
      // rather than failing the task: the record keeps its place, so positions stay ordered.
      for (auto& f : q) {
        if (f->outcome.load() == 2 && f->retriable && !stopping()) {
          if (now >= f->retry_at) {
            f->outcome.store(0);
            ++f->attempts;
            f->retry_at = now + kRetryBackoff;
            resend.push_back(f);
          }
        }
      }
      // A record that failed retriably stays, also at stop: the position never passes a record
      // the broker did not take (after a restart it is read and sent again).
      while (!q.empty() && q.front()->outcome.load() != 0 &&
             !(q.front()->outcome.load() == 2 && q.front()->retriable)) {
        done.push_back(std::move(q.front()));  // no reference count traffic
        q.pop_front();
        --inflight_count_;
      }
      if (done.size() > (run_ends.empty() ? 0 : run_ends.back())) run_ends.push_back(done.size());
      it = q.empty() ? inflight_.erase(it) : std::next(it);
    }
  }
  inflight_cv_.notify_all();
  for (auto& f : resend) {
    logger("worker")->warn("task {}: resending a record (attempt {}): {}", task_name_, f->attempts,
                           f->error);
    rocketmq::Message message;
    std::string key;
    bool fatal = false;
    if (to_message(f->record, message, key, &fatal)) {
      dispatch(f, std::move(message), std::move(key));
    } else if (fatal) {
      return false;
    } else {
      f->outcome.store(3);  // skipped by a tolerated conversion failure
    }
  }
  // Acknowledged (or tolerated) in order: the position may move past a record. It is recorded
  // once per partition's run, at its last record (or the last one before a failure that stops
  // the task), rather than copying every record's offset.
  auto record_position = [&](const InFlight& f) {
    if (!f.record.position.partition.empty()) {
      acked_positions_[f.record.position.partition] = f.record.position.offset;
    }
  };
  const InFlight* unrecorded = nullptr;  // passed, its position not recorded yet
  std::size_t run = 0;
  std::uint64_t written = 0;
  for (std::size_t i = 0; i < done.size(); ++i) {
    const auto& f = done[i];
    if (f->outcome.load() == 2) {
      FailedRecord failed;
      failed.stage = Stage::kProduce;
      failed.topic = std::string(f->record.topic().empty() ? default_topic_ : f->record.topic());
      failed.error = f->error;
      failed.error_class = "RocketMQ send failure";
      failed.body = f->record.value.to_string();
      if (auto r = errors_.report(std::move(failed)); !r.ok()) {
        if (unrecorded != nullptr) record_position(*unrecorded);
        fail(r.error().message());
        return false;
      }
    } else if (f->outcome.load() == 1) {
      ++written;
      RecordMetadata& m = ack_metadata_;
      const rocketmq::SendResult& r = *f->result;
      m.topic.assign(r.queue.topic);
      m.broker_name.assign(r.queue.broker_name);
      m.queue_id = r.queue.queue_id;
      m.queue_offset = f->queue_offset;
      m.msg_id.assign(r.msg_id, f->id_pos, f->id_size);
      try {
        task_->commit(f->record, m);
      } catch (...) {
        logger("worker")->warn("task {} commit(record) threw: {}", task_name_,
                               describe_exception(std::current_exception()));
      }
    }
    if (i + 1 == run_ends[run]) {
      record_position(*f);
      unrecorded = nullptr;
      ++run;
    } else {
      unrecorded = f.get();
    }
  }
  if (written != 0 && metrics_.enabled) add(metrics_.source_record_write, written);
  return true;
}

void WorkerSourceTask::commit_positions_if_due() {
  if (std::chrono::steady_clock::now() < next_commit_) return;
  commit_positions();
  next_commit_ = std::chrono::steady_clock::now() + setup_.commit_interval;
}

void WorkerSourceTask::commit_positions() {
  if (acked_positions_.empty()) {
    add(metrics_.offset_commit_skip);
    return;
  }
  if (auto r = setup_.store->put_positions(setup_.connector, acked_positions_); !r.ok()) {
    add(metrics_.offset_commit_failure);
    logger("worker")->error("task {}: committing positions failed: {}", task_name_,
                            r.error().message());
    return;  // retried at the next interval; nothing acknowledged is lost
  }
  add(metrics_.offset_commit_success);
  remember_committed(acked_positions_);
  acked_positions_.clear();
  try {
    task_->commit();
  } catch (...) {
    logger("worker")->warn("task {} commit() threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
}

// --- WorkerSinkTask ---

WorkerSinkTask::WorkerSinkTask(TaskSetup setup)
    : WorkerTask(std::move(setup)),
      task_(static_cast<SinkTask*>(setup_.task.get())),
      task_name_(setup_.connector + "-" + std::to_string(setup_.task_id)) {}

void WorkerSinkTask::reset_offset(const RecordPartition& partition, const RecordOffset& offset) {
  auto q = queue_of(partition);
  const Value* o = offset.find("queueOffset");
  std::int64_t at = 0;
  if (!q || !o || !o->to_int64(at) || !fetcher_) {
    logger("worker")->warn(
        "task {}: reset_offset ignored: not a queue (topic, brokerName, queueId) with a "
        "queueOffset",
        task_name_);
    return;
  }
  // Only a seek that happened moves the position: a queue this task does not own (any more)
  // keeps its offset, which another task may be committing.
  if (auto r = fetcher_->seek(*q, at); !r.ok()) {
    logger("worker")->warn("task {}: reset_offset of {} to {} failed: {}", task_name_,
                           describe_queue(*q), at, r.error().message());
    return;
  }
  current_[partition] = offset;
  reset_during_put_.insert(partition);
}

void WorkerSinkTask::reset_offset(const OffsetMap& offsets) {
  for (const auto& [p, o] : offsets) reset_offset(p, o);
}

void WorkerSinkTask::pause(const std::vector<RecordPartition>& partitions) {
  std::vector<rocketmq::MessageQueue> queues;
  for (const auto& p : partitions) {
    if (auto q = queue_of(p)) queues.push_back(*q);
  }
  if (fetcher_) fetcher_->pause(queues);
}

void WorkerSinkTask::resume(const std::vector<RecordPartition>& partitions) {
  std::vector<rocketmq::MessageQueue> queues;
  for (const auto& p : partitions) {
    if (auto q = queue_of(p)) queues.push_back(*q);
  }
  if (fetcher_) fetcher_->resume(queues);
}

std::vector<RecordPartition> WorkerSinkTask::assignment() const {
  std::vector<RecordPartition> out;
  if (!fetcher_) return out;
  for (const auto& q : fetcher_->assignment()) out.push_back(partition_of(q));
  return out;
}

ErrorRecordReporter* WorkerSinkTask::error_record_reporter() {
  return setup_.errors.dlq_topic.empty() && !setup_.errors.tolerate_all ? nullptr : this;
}

void WorkerSinkTask::report(const ConnectRecord& record, const std::string& error) {
  FailedRecord f;
  f.stage = Stage::kTaskPut;
  f.error = error;
  f.error_class = "reported by the task";
  f.topic = std::string(record.topic());
  if (const Value* q = record.position.partition.find("queueId")) {
    std::int64_t id = -1;
    q->to_int64(id);
    f.queue_id = static_cast<std::int32_t>(id);
  }
  if (const Value* o = record.position.offset.find("queueOffset")) o->to_int64(f.queue_offset);
  f.body = record.value.to_string();
  f.keys = record.key.is_null() ? std::string() : record.key.to_string();
  if (auto r = errors_.report(std::move(f)); !r.ok() && !report_error_) report_error_ = r.error();
}

std::optional<ConnectRecord> WorkerSinkTask::to_record(const rocketmq::MessageExt& m, bool* fatal) {
  *fatal = false;
  RecordPartition partition = partition_of(m.queue());
  RecordOffset offset{{"queueOffset", m.queue_offset()}};
  auto describe = [&](Stage stage, const std::string& error) {
    FailedRecord f;
    f.stage = stage;
    f.error = error;
    f.error_class = "DataException";
    f.topic = std::string(m.topic());
    f.queue_id = m.queue_id();
    f.queue_offset = m.queue_offset();
    f.keys = std::string(m.keys());
    f.body = std::string(m.body());
    f.description = f.body;
    return f;
  };
  ConnectRecord record(std::move(partition), std::move(offset), m.store_timestamp());
  std::string_view keys = m.keys();
  if (!keys.empty()) {
    auto k = setup_.key_converter->to_connect_data(m.topic(), keys);
    if (!k.ok()) {
      if (auto r = errors_.report(describe(Stage::kKeyConverter, k.error().message())); !r.ok()) {
        fail(r.error().message());
        *fatal = true;
      }
      return std::nullopt;
    }
    record.key_schema = std::move(k->schema);
    record.key = std::move(k->value);
  }
  auto v = setup_.value_converter->to_connect_data(m.topic(), m.body());
  if (!v.ok()) {
    if (auto r = errors_.report(describe(Stage::kValueConverter, v.error().message())); !r.ok()) {
      fail(r.error().message());
      *fatal = true;
    }
    return std::nullopt;
  }
  record.value_schema = std::move(v->schema);
  record.value = std::move(v->value);
  for (auto& [k, val] : m.properties()) record.extensions.put(k, std::move(val));
  if (!setup_.chain.empty()) {
    auto transformed = errors_.run(
        Stage::kTransformation, [&] { return setup_.chain.apply(record); },
        [&] { return describe(Stage::kTransformation, ""); });
    if (!transformed.ok()) {
      // Stopped while retrying: the batch is dropped unput, its offsets are not committed.
      if (transformed.error().code() != ErrorCode::kCancelled) fail(transformed.error().message());
      *fatal = true;
      return std::nullopt;
    }
    if (!transformed->has_value()) return std::nullopt;  // tolerated failure
    return std::move(**transformed);                     // nullopt = dropped by a transform
  }
  return record;
}

void WorkerSinkTask::run() {
  rocketmq::ConsumerConfig cc;
  cc.client = setup_.client;
  if (cc.client.thread_tag.empty()) cc.client.thread_tag = task_name_;  // "p:<connector>-<id>" ...
  cc.group = setup_.connector_config.get_string("task.group.id", "connect-" + setup_.connector);
  cc.auto_commit = false;
  // A queue moving between the connector's tasks (a task joining or leaving, on any worker) is
  // pulled by its new owner only once the old one committed it and let go of its broker lock,
  // so a clean rebalance writes nothing twice. The old owner commits within the commit timeout
  // (or gives the revocation up): wait longer than that before taking a queue without its lock.
  cc.lock_queues = true;
  cc.lock_wait =
      std::max<std::chrono::milliseconds>(std::chrono::seconds(10), 2 * setup_.commit_timeout);
  std::string from = setup_.connector_config.get_string("consume.from.where", "");
  if (from == "CONSUME_FROM_FIRST_OFFSET")
    cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  auto fetcher = setup_.fetcher_factory ? setup_.fetcher_factory(std::move(cc))
                                        : RocketMqRecordFetcher::start(std::move(cc));
  if (!fetcher.ok() || !*fetcher) {
    fail("cannot start the consumer: " +
         (fetcher.ok() ? std::string("no fetcher") : fetcher.error().message()));
    return;
  }
  fetcher_ = std::move(fetcher).value();
  wakeable_.store(fetcher_.get());
  // A stop or pause that came before the fetcher existed still ends the first poll at once.
  if (stopping() || paused()) fetcher_->wakeup();
  // Whatever way run() ends, also by an exception, the fetcher's thread stops waiting for this
  // one and the fetcher leaves the group (its queues go to the other members).
  struct FetcherCloser {
    WorkerSinkTask& task;
    ~FetcherCloser() {
      task.close_revocations();
      task.fetcher_->shutdown();
    }
  } closer{*this};
  const auto topics = split_list(setup_.connector_config.get_string("connect.topicnames"));
  for (const auto& topic : topics) {
    if (auto r = fetcher_->subscribe(topic, "*"); !r.ok()) {
      fail("cannot subscribe to " + topic + ": " + r.error().message());
      return;
    }
  }
  // Before queues move to another task, commit what was put for them.
  rocketmq::AssignmentListener listener;
  listener.on_revoked = [this](const std::vector<rocketmq::MessageQueue>& queues) {
    on_revoked(queues);
  };
  fetcher_->set_assignment_listener(std::move(listener));
  if (!start_plugin([&] { task_->init(*this); })) return;
  auto next_commit = std::chrono::steady_clock::now() + setup_.commit_interval;
  bool healthy = true;
  std::vector<ConnectRecord> batch;
  auto next_rebalance = std::chrono::steady_clock::now();
  std::chrono::milliseconds unassigned_retry = kUnassignedRetry;
  while (healthy && wait_while_paused() && pending_healthy_) {
    if (!handle_revocations()) {
      healthy = false;
      break;
    }
    const bool unassigned = fetcher_->assignment().empty();
    if (!unassigned) {
      unassigned_retry = kUnassignedRetry;
    } else if (std::chrono::steady_clock::now() >= next_rebalance) {
      // A topic that does not exist yet (its source has not sent anything) has no route: look
      // every second until it has one, rather than at the periodic rebalance. Once it has, ask
      // for an assignment (the fetcher makes this member known to the (new) brokers before the
      // rebalance asks them for the group's members), and look less often while the group leaves
      // this task without queues.
      bool routed = true;
      for (const auto& topic : topics) {
        auto queues = fetcher_->fetch_queues(topic);
        routed = routed && queues.ok() && !queues->empty();
      }
      if (routed) fetcher_->request_rebalance();
      next_rebalance = std::chrono::steady_clock::now() + unassigned_retry;
      if (routed)
        unassigned_retry =
            std::min<std::chrono::milliseconds>(unassigned_retry * 2, kUnassignedRetryMax);
    }
    // A quiet task blocks here (the fetcher's pulls wait on the broker) until records come,
    // the next commit or assignment check is due, or another thread interrupt()s it (stop,
    // pause, a revocation to commit).
    auto until = next_commit;
    if (unassigned) until = std::min(until, next_rebalance);
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    auto polled = fetcher_->poll(std::max(timeout, std::chrono::milliseconds(1)));
    if (!polled.ok()) {
      logger("worker")->warn("task {}: poll failed: {}", task_name_, polled.error().message());
      wait_for(kRetryBackoff);
      continue;
    }
    batch.clear();
    OffsetMap advanced;
    bool stopped = false;
    if (!polled->empty() && metrics_.enabled) add(metrics_.sink_record_read, polled->size());
    for (const auto& m : *polled) {
      bool fatal = false;
      auto record = to_record(m, &fatal);
      if (fatal) {
        // Not a failure when the stop cut a retry short: what was put is still committed.
        healthy = stopping() && state().state != RunState::kFailed;
        stopped = true;
        break;
      }
      advanced[partition_of(m.queue())] = RecordOffset{{"queueOffset", m.queue_offset() + 1}};
      if (record) {
        if (logging_messages()) {
          logger("worker")->info("{} <- {} offset {} value={}", task_name_, m.topic(),
                                 m.queue_offset(), record->value.to_string());
        }
        batch.push_back(std::move(*record));
      }
    }
    if (!healthy || stopped) break;
    reset_during_put_.clear();
    // put(); a RetriableException retries the same batch (the fetcher holds its position).
    bool put_done = batch.empty();
    while (!batch.empty()) {
      try {
        const auto put_started = metrics_.enabled ? std::chrono::steady_clock::now()
                                                  : std::chrono::steady_clock::time_point();
        task_->put(batch);
        clear_retrying(RetryCall::kPut);
        if (metrics_.enabled) {
          metrics_.batch_time.observe(std::chrono::steady_clock::now() - put_started);
          metrics_.batch_size.observe(batch.size());
          add(metrics_.sink_record_send, batch.size());
        }
        put_done = true;
        break;
      } catch (const RetriableException& e) {
        note_retrying(RetryCall::kPut, e.what());
        wait_for(kRetryBackoff);
        if (stopping()) break;
      } catch (...) {
        fail("put failed: " + describe_exception(std::current_exception()));
        healthy = false;
        break;
      }
    }
    if (!healthy) break;
    if (report_error_) {
      fail(report_error_->message());
      healthy = false;
      break;
    }
    // A batch put() took counts even when a stop came meanwhile: the final commit below must
    // cover it, or the next owner writes it again. A reset_offset() inside put() wins over the
    // batch's positions (the consumer sought there).
    if (put_done) {
      for (auto& [p, o] : advanced) {
        if (!reset_during_put_.contains(p)) current_[p] = std::move(o);
      }
    }
    reset_during_put_.clear();
    if (stopping()) break;
    if (std::chrono::steady_clock::now() >= next_commit) {
      // Revocations first: a queue given up on must leave current_ before anything commits.
      healthy = handle_revocations() && commit_offsets();
      next_commit = std::chrono::steady_clock::now() + setup_.commit_interval;
    }
  }
  healthy = healthy && pending_healthy_;
  if (healthy) healthy = handle_revocations();
  if (healthy) commit_offsets();
  close_revocations();  // before stop(): a rebalance meanwhile must not wait for this thread
  try {
    task_->stop();
  } catch (...) {
    logger("worker")->warn("task {} stop threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
  setup_.chain.stop();
  if (healthy) set_state(RunState::kUnassigned);
}  // ~FetcherCloser: the fetcher leaves the group

void WorkerSinkTask::close_revocations() {
  {
    std::lock_guard lock(revoke_mutex_);
    revocations_closed_ = true;
  }
  revoke_cv_.notify_all();
}

void WorkerSinkTask::on_revoked(const std::vector<rocketmq::MessageQueue>& queues) {
  auto revocation = std::make_shared<Revocation>();
  revocation->queues = queues;
  std::unique_lock lock(revoke_mutex_);
  if (revocations_closed_) return;
  revocations_.push_back(revocation);
  lock.unlock();
  wake();  // a paused task commits too
  lock.lock();
  // The task thread gets here within one poll() timeout unless put() is slow; past the commit
  // timeout the queues go without a commit (another member re-reads from the last one). Once the
  // task thread has taken the revocation up it is given one more timeout to finish its commit.
  auto done = [&] { return revocation->handled || revocations_closed_; };
  if (!revoke_cv_.wait_for(lock, setup_.commit_timeout, done) &&
      !(revocation->claimed && revoke_cv_.wait_for(lock, setup_.commit_timeout, done))) {
    revocation->abandoned = true;
    logger("worker")->warn("task {}: queues revoked before their offsets could be committed",
                           task_name_);
  }
}

bool WorkerSinkTask::has_pending_work() {
  std::lock_guard lock(revoke_mutex_);
  return !revocations_.empty();
}

bool WorkerSinkTask::handle_revocations() {
  std::deque<std::shared_ptr<Revocation>> pending;
  {
    std::lock_guard lock(revoke_mutex_);
    if (revocations_.empty()) return true;
    pending.swap(revocations_);
    for (auto& r : pending) r->claimed = true;
  }
  auto forget = [&](bool abandoned_only) {
    std::lock_guard lock(revoke_mutex_);
    for (const auto& r : pending) {
      if (abandoned_only && !r->abandoned) continue;
      for (const auto& q : r->queues) current_.erase(partition_of(q));
    }
  };
  // A queue whose revocation was given up on may already be read by another member: committing
  // our (older) offset for it would move the group back.
  forget(/*abandoned_only=*/true);
  bool ok = commit_offsets();
  forget(/*abandoned_only=*/false);
  {
    std::lock_guard lock(revoke_mutex_);
    for (auto& r : pending) r->handled = true;
  }
  revoke_cv_.notify_all();
  return ok;
}

bool WorkerSinkTask::commit_offsets() {
  if (current_.empty()) {
    add(metrics_.offset_commit_skip);
    return true;
  }
  bool failed = false;
  auto flushed = sink_pre_commit(*task_, current_, "offsets", &failed);
  if (!flushed) return !failed;
  OffsetMap& to_commit = *flushed;
  OffsetMap owned;
  auto offsets = owned_offsets(to_commit, &owned);
  if (offsets.empty()) {
    add(metrics_.offset_commit_skip);
    return true;
  }
  if (auto r = fetcher_->commit(offsets); !r.ok()) {
    add(metrics_.offset_commit_failure);
    logger("worker")->warn("task {}: offset commit failed (retried at the next interval): {}",
                           task_name_, r.error().message());
    return true;
  }
  add(metrics_.offset_commit_success);
  remember_committed(owned);
  return true;
}

std::map<rocketmq::MessageQueue, std::int64_t> WorkerSinkTask::owned_offsets(
    const OffsetMap& offsets, OffsetMap* owned) const {
  std::map<rocketmq::MessageQueue, std::int64_t> out;
  const auto assigned = fetcher_->assignment();
  for (const auto& [p, o] : offsets) {
    auto q = queue_of(p);
    const Value* at = o.find("queueOffset");
    std::int64_t n = 0;
    if (!q || !at || !at->to_int64(n)) {
      logger("worker")->warn(
          "task {}: pre_commit returned an offset that is not a queue offset; not committed",
          task_name_);
      continue;
    }
    // A queue another task owns (pre_commit made it up, or it was revoked meanwhile): committing
    // this task's idea of it would move that task's group position.
    if (std::find(assigned.begin(), assigned.end(), *q) == assigned.end()) {
      logger("worker")->warn(
          "task {}: not committing offset {} of {}: the queue is not assigned "
          "to this task",
          task_name_, n, describe_queue(*q));
      continue;
    }
    out[*q] = n;
    if (owned) (*owned)[p] = o;
  }
  return out;
}

void WorkerSinkTask::interrupt() {
  if (auto* fetcher = wakeable_.load()) fetcher->wakeup();
}

void WorkerSinkTask::add_metrics(TaskMetricsSnapshot& m) const {
  auto* fetcher = wakeable_.load();
  if (!fetcher) return;
  for (auto& p : fetcher->positions()) {
    m.queues.push_back({std::move(p.queue.topic), std::move(p.queue.broker_name), p.queue.queue_id,
                        p.position, p.max_offset});
  }
}

}  // namespace rmqc::runtime
