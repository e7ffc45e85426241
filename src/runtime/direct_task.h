#pragma once

#include "plugins/plugin_registry.h"
#include "runtime/worker_task.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc::runtime {

// Direct connectors (seed 002, apache/rocketmq-connect#183): connector.direct.enable=true runs
// each task as a source task writing straight into a sink task, in one thread and with no broker
// hop. The connector (connector.class) splits the work as usual; each of its task configs is
// stamped with task.type=DIRECT and the direct keys, and the worker starts a WorkerDirectTask for
// it instead of a source or sink task. docs/connector-sdk.md#direct-tasks.
inline constexpr std::string_view kDirectEnableKey = "connector.direct.enable";
inline constexpr std::string_view kSourceTaskClassKey = "source.task.class";
inline constexpr std::string_view kSinkTaskClassKey = "sink.task.class";
inline constexpr std::string_view kTaskTypeKey = "task.type";
inline constexpr std::string_view kDirectTaskType = "DIRECT";
// Keys under these prefixes reach only one side, prefix removed, over the task config's own
// (a file source and a file sink both read "filename").
inline constexpr std::string_view kDirectSourcePrefix = "direct.source.";
inline constexpr std::string_view kDirectSinkPrefix = "direct.sink.";

// Whether a connector config asks for direct tasks (connector.direct.enable=true).
bool direct_enabled(const KeyValue& connector_config);
// Whether a task config was stamped for a direct task (task.type=DIRECT).
bool is_direct_task(const KeyValue& task_config);

// The connector plugin whose create_task() builds the tasks `name` names: a task class as the
// connector's task_class() gives it (org.apache.rocketmq.connect.file.FileSourceTask), its simple
// name (FileSourceTask), or the connector's own class name or alias (FileSourceConnector).
// `kind` is kSourceConnector or kSinkConnector. Task classes are not registered on their own:
// the connectors of that kind are asked for theirs. kInvalidConfig names what was looked for.
Result<std::shared_ptr<Connector>> find_task_factory(const plugins::PluginRegistry& registry,
                                                     std::string_view name, PluginKind kind);

// Copies the direct keys of `connector_config` (connector.direct.enable, source.task.class,
// sink.task.class, direct.source.*, direct.sink.*) into `task_config` and sets task.type=DIRECT,
// as the Java runtime stamps the task configs it stores.
void stamp_direct_task_config(KeyValue& task_config, const KeyValue& connector_config);

// The config one side gets: `task_config` with its `prefix` keys' values over the plain keys.
KeyValue direct_side_config(const KeyValue& task_config, std::string_view prefix);

// poll -> transforms -> sink put -> sink pre_commit -> source positions, on the task's thread.
// No converters: records go from the source task to the sink task as they are (the Java
// runtime's WorkerDirectTask does the same). Positions of a polled batch become committable only
// once put() accepted the batch (or errors.tolerance=all tolerated its failure), and are written
// to the position store every offset commit interval and at stop, after the sink's pre_commit()
// (by default its flush()) returned them. A RetriableException from poll(), put() or
// pre_commit() is retried (the task stays RUNNING with the reason in its trace); any other
// failure of put() is a record failure under errors.* (tolerance none: the task fails).
//
// setup.task is the source task (started with setup.task_config, its side's config); the sink
// task and its config come separately.
class WorkerDirectTask final : public WorkerTask,
                               public SourceTaskContext,
                               public ErrorRecordReporter {
 public:
  WorkerDirectTask(TaskSetup setup, std::unique_ptr<SinkTask> sink, KeyValue sink_config);
  ~WorkerDirectTask() override;

  // SourceTaskContext (the source side)
  OffsetStorageReader& offset_storage_reader() override { return reader_; }
  std::string_view connector_name() const override { return setup_.connector; }
  std::string_view task_name() const override { return task_name_; }
  const KeyValue& configs() const override { return setup_.task_config; }
  ErrorRecordReporter* error_record_reporter() override;
  // ErrorRecordReporter of the source side: input poll() could not turn into a record.
  void report(const ConnectRecord& record, const std::string& error) override;
  // Positions its records come from: a direct connector is a source connector to the REST API.
  ConnectorType type() const override { return ConnectorType::kSource; }

 private:
  class Reader final : public OffsetStorageReader {
   public:
    explicit Reader(WorkerDirectTask& task) : task_(task) {}
    std::optional<RecordOffset> read_offset(const RecordPartition& partition) override;
    OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) override;

   private:
    WorkerDirectTask& task_;
  };
  // The sink side's context: no queues, so no seeking, pausing or assignment (as in Java).
  class SinkContext final : public SinkTaskContext, public ErrorRecordReporter {
   public:
    explicit SinkContext(WorkerDirectTask& task) : task_(task) {}
    std::string_view connector_name() const override { return task_.setup_.connector; }
    std::string_view task_name() const override { return task_.task_name_; }
    const KeyValue& configs() const override { return task_.sink_config_; }
    void reset_offset(const RecordPartition& partition, const RecordOffset& offset) override;
    void reset_offset(const OffsetMap& offsets) override;
    void pause(const std::vector<RecordPartition>&) override {}
    void resume(const std::vector<RecordPartition>&) override {}
    std::vector<RecordPartition> assignment() const override { return {}; }
    ErrorRecordReporter* error_record_reporter() override;
    // A record put() could not write (stage TASK_PUT).
    void report(const ConnectRecord& record, const std::string& error) override;

   private:
    WorkerDirectTask& task_;
  };

  void run() override;
  void interrupt() override;
  // The polled records through the transforms and into put(); false when the task must stop
  // (failed, or stopped before put() accepted them: their positions stay uncommitted).
  bool transfer(std::vector<ConnectRecord>& records);
  bool put(std::vector<ConnectRecord>& batch);
  // pre_commit() of the sink, then the positions it returned into the store; false when the
  // task must fail.
  bool commit();
  FailedRecord describe(const ConnectRecord& record, Stage stage) const;

  std::unique_ptr<SinkTask> sink_;
  KeyValue sink_config_;
  SinkContext sink_context_{*this};
  std::string task_name_;
  std::string default_topic_;
  Reader reader_{*this};
  std::atomic<bool> sink_initialized_{false};  // wakeup() may reach it (interrupt())
  OffsetMap pending_;                  // positions of the batch being transferred, not yet put
  OffsetMap put_;                      // positions put() accepted, not yet committed
  std::optional<Error> report_error_;  // a report() the error handler did not tolerate
};

}  // namespace rmqc::runtime
