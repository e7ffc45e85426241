#pragma once

#include "rmqc/api/converter.h"
#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "runtime/config_providers.h"
#include "runtime/connect_controller.h"
#include "runtime/errors/error_handler.h"
#include "runtime/storage/position_store.h"
#include "runtime/task_io.h"
#include "runtime/task_metrics.h"
#include "transforms/transform_chain.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rmqc::runtime {

// What every task gets from the worker.
struct TaskSetup {
  std::string connector;
  int task_id = 0;
  std::string worker_id;
  KeyValue connector_config;
  KeyValue task_config;
  std::unique_ptr<Task> task;  // the plugin's task
  std::unique_ptr<RecordConverter> key_converter;
  std::unique_ptr<RecordConverter> value_converter;
  transforms::TransformChain chain;
  ErrorConfig errors;
  std::shared_ptr<rocketmq::Producer> producer;  // sends (source) and dead letters (both)
  PositionStore* store = nullptr;                // source positions
  std::chrono::milliseconds commit_interval{30000};
  std::chrono::milliseconds commit_timeout{5000};
  const std::atomic<bool>* message_logging = nullptr;
  rocketmq::ClientConfig client;  // sink tasks build their consumer from it
  // What a source task sends through; null: `producer` (a RocketMqRecordSender over it). Dead
  // letters always go through `producer`.
  std::shared_ptr<RecordSender> sender;
  // Builds a sink task's fetcher from the consumer configuration it derives from `client` and
  // the connector's config; empty: a lite pull consumer (RocketMqRecordFetcher::start).
  FetcherFactory fetcher_factory;
  // The values the configs' ${...} references resolved to: hidden in the task's status trace and
  // in what the worker logs about it (null: none).
  std::shared_ptr<const SecretScrubber> secrets;
  bool metrics_enabled = true;  // metrics.enabled: false makes the per-batch metric updates no-ops
};

// A connector task on its own thread. The worker starts it, pauses/resumes it, and stops it with
// a deadline: a task that does not stop in time is abandoned (its thread keeps the object alive),
// so a hung plugin never blocks the worker or the REST API.
// The text of whatever a plugin threw.
std::string describe_exception(std::exception_ptr e);

class WorkerTask : public std::enable_shared_from_this<WorkerTask> {
 public:
  explicit WorkerTask(TaskSetup setup);
  virtual ~WorkerTask();

  void start();
  // Marks the task FAILED when its plugin's start() has not returned `timeout` after start()
  // (maxStartTimeoutMills); called periodically by the worker. True when it did.
  bool fail_if_start_timed_out(std::chrono::milliseconds timeout);
  void set_paused(bool paused);
  // Asks the task to stop and waits up to `timeout`; false when it had to be abandoned.
  bool stop(std::chrono::milliseconds timeout);

  TaskState state() const;
  int id() const { return setup_.task_id; }
  const std::string& connector() const { return setup_.connector; }
  // Positions committed so far (source: source positions; sink: queue offsets).
  OffsetMap committed_offsets() const;
  virtual ConnectorType type() const = 0;
  // The task's counters and histograms, read without stopping it (GET /metrics).
  TaskMetricsSnapshot metrics() const;

 protected:
  virtual void run() = 0;
  void set_state(RunState state, std::optional<std::string> trace = std::nullopt);
  void fail(const std::string& trace);
  // What a RUNNING task retries without end (a RetriableException from poll(), put() or
  // pre_commit()): its status trace says why, "<reason> (retrying since <UTC time>)", until the
  // same kind of call succeeds (clear_retrying). The reason is logged once per change.
  enum class RetryCall { kPoll, kPut, kCommit };
  void note_retrying(RetryCall call, const std::string& reason);
  void clear_retrying(RetryCall call) {
    if (retrying_.load(std::memory_order_relaxed) == static_cast<int>(call) + 1) end_retrying();
  }
  // Sequentially consistent, like the stores in stop() and set_paused(): a task thread that
  // publishes something interrupt() uses and then checks these sees a stop or pause that
  // interrupt() missed.
  bool stopping() const { return stopping_.load(); }
  bool paused() const { return paused_.load(); }
  // Sleeps up to `d`, waking early on stop, pause or resume.
  void wait_for(std::chrono::milliseconds d);
  // init() (the typed context) and start() of the plugin's task; RUNNING when both returned in
  // time, else false (FAILED, the plugin stopped again when start() returned too late).
  bool start_plugin(const std::function<void()>& init);
  // Blocks while paused (state PAUSED), doing pending_work() when woken for it; returns false
  // when stopping.
  bool wait_while_paused();
  // Work another thread hands to a paused task (wake() it after queueing the work).
  virtual bool has_pending_work() { return false; }
  virtual void do_pending_work() {}
  // Wakes the task thread: from wait_for() and wait_while_paused(), and through interrupt() from
  // a blocking wait of its own (a sink's poll).
  void wake();
  // Calls the plugin task's wakeup() (thread-safe by contract), swallowing what it throws.
  void wake_plugin();
  // Makes the task thread's own blocking wait, if any, return now (stop, pause, wake); any
  // thread. A task that waits long for records must override it.
  virtual void interrupt() {}
  // Figures a kind of task reads at scrape time (a sink's queue lag); any thread.
  virtual void add_metrics(TaskMetricsSnapshot& /*m*/) const {}
  void remember_committed(const OffsetMap& offsets);
  // The sink's pre_commit(current) for a commit round. A RetriableException counts a failed
  // commit and leaves the positions for the next round (nullopt); any other exception fails the
  // task (nullopt and *failed set). `pending` names what is held back in the retry trace.
  std::optional<OffsetMap> sink_pre_commit(SinkTask& sink, const OffsetMap& current,
                                           const char* pending, bool* failed);
  // One source poll() through errors.* (stage TASK_POLL), timed into the batch-time metric. A
  // RetriableException is retried without end, as in Kafka Connect and the Java runtime: the
  // poll counts as empty and the task's status says why meanwhile.
  Result<std::optional<std::vector<ConnectRecord>>> poll_source(SourceTask& source);
  bool logging_messages() const {
    return setup_.message_logging && setup_.message_logging->load(std::memory_order_relaxed);
  }

  TaskSetup setup_;
  ErrorHandler errors_;
  TaskMetrics metrics_;  // written by the task thread only (relaxed adds)

 private:
  void end_retrying();

  mutable std::mutex state_mutex_;
  TaskState state_;
  std::atomic<int> retrying_{0};  // 1 + the RetryCall retried now, 0: none
  std::string retry_reason_;      // under state_mutex_
  std::string retry_since_;       // under state_mutex_: UTC time of the first failure
  OffsetMap committed_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::thread thread_;
  std::chrono::steady_clock::time_point started_at_;
  std::promise<void> done_;
  std::shared_future<void> done_future_;
};

// poll -> transforms -> converters -> sender; positions committed for the acknowledged prefix
// of each source partition, every commit interval and at stop.
class WorkerSourceTask final : public WorkerTask,
                               public SourceTaskContext,
                               public ErrorRecordReporter {
 public:
  explicit WorkerSourceTask(TaskSetup setup);

  // SourceTaskContext
  OffsetStorageReader& offset_storage_reader() override { return reader_; }
  std::string_view connector_name() const override { return setup_.connector; }
  std::string_view task_name() const override { return task_name_; }
  const KeyValue& configs() const override { return setup_.task_config; }
  ErrorRecordReporter* error_record_reporter() override;
  // ErrorRecordReporter: input poll() could not turn into a record (stage TASK_POLL).
  void report(const ConnectRecord& record, const std::string& error) override;
  ConnectorType type() const override { return ConnectorType::kSource; }

 private:
  struct InFlight {
    ConnectRecord record;
    // 0 pending, 1 acked, 2 failed, 3 passed without a message (dropped by a transform, a
    // tolerated failure, an empty body)
    std::atomic<int> outcome{0};
    // The acknowledgment (set before outcome 1): the send's result, shared by the records of a
    // batch, this record's queue offset and where its id sits in result->msg_id. The plugin's
    // RecordMetadata is made from it on the task thread, into one reused object, so the I/O
    // thread copies no strings per record.
    std::shared_ptr<const rocketmq::SendResult> result;
    std::int64_t queue_offset = -1;
    std::uint32_t id_pos = 0;
    std::uint32_t id_size = 0;
    std::string error;
    bool retriable = false;  // the failure may succeed if sent again (timeout, broker down)
    int attempts = 1;
    std::chrono::steady_clock::time_point retry_at;
  };
  class Reader final : public OffsetStorageReader {
   public:
    explicit Reader(WorkerSourceTask& task) : task_(task) {}
    std::optional<RecordOffset> read_offset(const RecordPartition& partition) override;
    OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) override;

   private:
    WorkerSourceTask& task_;
  };

  void run() override;
  // Converts and sends one record; false when the task must fail.
  bool send(ConnectRecord record);
  // Retires acknowledged records in order and re-sends those that failed retriably; false when
  // a failure is not tolerated.
  bool drain_acks();
  // Converts the (transformed) record into a message; false when it was skipped (a tolerated
  // conversion failure) and *fatal when the task must fail.
  bool to_message(const ConnectRecord& record, rocketmq::Message& message, std::string& key,
                  bool* fatal);
  void dispatch(const std::shared_ptr<InFlight>& flight, rocketmq::Message message,
                std::string key);
  // Records of one poll bound for the same queue (same topic, and keys that hash to the same
  // queue) travel in one SEND_BATCH_MESSAGE: a request, a broker write and an acknowledgment
  // for many records instead of one each. A batch is routed by its first key, which picks the
  // queue every key in it picks, so per-key order holds.
  void add_to_batch(const std::shared_ptr<InFlight>& flight, rocketmq::Message message,
                    std::string key);
  void flush_batch(std::size_t index);
  void flush_batches();
  // A message to fill for the next record: one a flushed batch handed back (its body, topic and
  // keys buffers and its property nodes are reused), else a new one. Task thread.
  rocketmq::Message take_message();
  // The record's extensions (all but the topic and tags) and its timestamp as the message's
  // properties, reusing the map's nodes when it already holds exactly those names.
  static void set_properties(const ConnectRecord& record, rocketmq::Message& message);
  // Records the outcome of one send (a batch, or a single record) for its records; I/O thread.
  void settle(const std::vector<std::shared_ptr<InFlight>>& flights, Result<rocketmq::SendResult> r,
              std::chrono::steady_clock::time_point sent_at);
  // When a send request leaves (its latency runs to the acknowledgment); no clock read when
  // metrics are off.
  std::chrono::steady_clock::time_point send_started() const {
    return metrics_.enabled ? std::chrono::steady_clock::now()
                            : std::chrono::steady_clock::time_point();
  }
  // A record that becomes no message still holds its place, so the position moves past it.
  void pass_without_message(ConnectRecord record);
  // Records the acknowledged positions (never fails the task: a failed write is retried).
  void commit_positions();
  void commit_positions_if_due();

  SourceTask* task_;
  std::string task_name_;
  std::string default_topic_;
  Reader reader_{*this};
  std::mutex inflight_mutex_;
  std::condition_variable inflight_cv_;
  std::unordered_map<RecordPartition, std::deque<std::shared_ptr<InFlight>>, RecordPartitionHash>
      inflight_;
  std::size_t inflight_count_ = 0;
  OffsetMap acked_positions_;  // partition -> offset after the last acknowledged record
  struct OpenBatch {
    std::string topic;
    std::string key;         // the first record's key: routes the batch
    std::size_t queues = 0;  // the topic's queue count when the batch opened; 0 = unknown
    std::size_t slot = 0;    // queue index of `key` among `queues`
    std::size_t bytes = 0;
    std::vector<std::shared_ptr<InFlight>> flights;  // registered in flight, not yet sent
    std::vector<rocketmq::Message> messages;
  };
  std::vector<OpenBatch> batches_;  // at most one per topic and queue; few, so a vector
  // Messages of sent batches, to be filled again (take_message), and the batches' vectors.
  std::vector<rocketmq::Message> spare_messages_;
  std::vector<std::vector<rocketmq::Message>> spare_batches_;
  RecordMetadata ack_metadata_;  // what commit(record, metadata) gets, refilled per record
  std::uint64_t empty_skipped_ = 0;
  std::size_t body_hint_ = 0;          // capacity reserved for the next body (task thread)
  bool stopped_mid_poll_ = false;      // a stop cut a record's retries short
  std::optional<Error> report_error_;  // a report() the error handler did not tolerate
  std::chrono::steady_clock::time_point next_commit_;
};

// fetcher -> converters -> transforms -> put; offsets committed after put + pre_commit.
class WorkerSinkTask final : public WorkerTask, public SinkTaskContext, public ErrorRecordReporter {
 public:
  explicit WorkerSinkTask(TaskSetup setup);

  // SinkTaskContext
  std::string_view connector_name() const override { return setup_.connector; }
  std::string_view task_name() const override { return task_name_; }
  const KeyValue& configs() const override { return setup_.task_config; }
  ConnectorType type() const override { return ConnectorType::kSink; }
  void reset_offset(const RecordPartition& partition, const RecordOffset& offset) override;
  void reset_offset(const OffsetMap& offsets) override;
  void pause(const std::vector<RecordPartition>& partitions) override;
  void resume(const std::vector<RecordPartition>& partitions) override;
  std::vector<RecordPartition> assignment() const override;
  ErrorRecordReporter* error_record_reporter() override;
  // ErrorRecordReporter
  void report(const ConnectRecord& record, const std::string& error) override;

 private:
  // Queues a consumer rebalance takes away. The rebalance runs on the fetcher's thread, but
  // only the task's thread may call the plugin (pre_commit) and touch current_, so the fetcher's
  // thread queues the revocation and waits (bounded) until the task thread has committed.
  struct Revocation {
    std::vector<rocketmq::MessageQueue> queues;
    bool handled = false;
    bool claimed = false;    // the task thread is committing it
    bool abandoned = false;  // the consumer stopped waiting: do not commit these queues any more
  };

  void run() override;
  bool commit_offsets();
  std::optional<ConnectRecord> to_record(const rocketmq::MessageExt& message, bool* fatal);
  void on_revoked(const std::vector<rocketmq::MessageQueue>& queues);  // fetcher's thread
  bool handle_revocations();                                           // task thread
  void close_revocations();  // the fetcher's thread stops waiting for this one
  bool has_pending_work() override;
  void do_pending_work() override { pending_healthy_ &= handle_revocations(); }
  void interrupt() override;
  void add_metrics(TaskMetricsSnapshot& m) const override;
  // The offsets of `offsets` this task may commit: those of queues assigned to it now, in
  // consumer form; the others are logged and dropped.
  std::map<rocketmq::MessageQueue, std::int64_t> owned_offsets(const OffsetMap& offsets,
                                                               OffsetMap* owned) const;

  SinkTask* task_;
  std::string task_name_;
  OffsetMap current_;  // partition -> next offset to consume, for what put() accepted
  // Partitions reset_offset() moved during the current put(): its batch does not advance them.
  std::unordered_set<RecordPartition, RecordPartitionHash> reset_during_put_;
  std::optional<Error> report_error_;
  std::mutex revoke_mutex_;
  std::condition_variable revoke_cv_;
  std::deque<std::shared_ptr<Revocation>> revocations_;
  bool revocations_closed_ = false;  // the task is shutting down its consumer
  bool pending_healthy_ = true;      // result of work done while paused
  // Declared last, destroyed first: its thread may be inside on_revoked() until it is shut down.
  std::unique_ptr<RecordFetcher> fetcher_;
  // fetcher_ for other threads (interrupt()): set once it exists, never cleared (the fetcher
  // lives as long as this task).
  std::atomic<RecordFetcher*> wakeable_{nullptr};
};

RecordPartition partition_of(const rocketmq::MessageQueue& queue);
std::optional<rocketmq::MessageQueue> queue_of(const RecordPartition& partition);

}  // namespace rmqc::runtime
