#pragma once

// The distributed mode's stores: config, positions and statuses kept in RocketMQ topics (one
// TopicLog each), with a local cache file so a worker starts with its last view. Record formats:
// docs/formats/cluster-topics.md.

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "runtime/storage/config_store.h"
#include "runtime/storage/listeners.h"
#include "runtime/storage/position_store.h"
#include "runtime/storage/status_store.h"
#include "runtime/storage/topic_log.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

struct TopicStoreOptions {
  rocketmq::ClientConfig client;  // namesrv (and ACL keys)
  std::string topic;
  std::string worker_id;  // written into every record; must be unique in the cluster
  std::string cache_dir;  // the local cache file lives here (created if missing)
  // Reading the topic to its end at open().
  std::chrono::milliseconds read_timeout{60'000};
  // How long a put_* waits for its acknowledged records to come back through the follower.
  std::chrono::milliseconds apply_timeout{15'000};
  // The cache file is rewritten at most this often (and at close).
  std::chrono::milliseconds cache_interval{1'000};
};

namespace detail {

// What the three topic stores share: the log, the cache file, and telling a writer that its
// record lost against a newer one.
class TopicStoreBase {
 public:
  virtual ~TopicStoreBase();
  TopicStoreBase(const TopicStoreBase&) = delete;
  TopicStoreBase& operator=(const TopicStoreBase&) = delete;

  const std::string& topic() const { return options_.topic; }
  const std::string& worker_id() const { return options_.worker_id; }
  const std::string& cache_path() const { return cache_path_; }
  // Stops following the topic and writes the cache. Idempotent; the store must not be written
  // to afterwards (put_* fail with kCancelled).
  void close();

 protected:
  TopicStoreBase(TopicStoreOptions options, std::string cache_file, std::string thread_name);
  // Loads the cache file (if any), then opens the log: replays the topic, follows it.
  Result<void> start();

  // On the follower thread, in topic order; must call mark_dirty() when the view changed.
  virtual void apply(const LogRecord& record) = 0;
  // The view as the cache file's JSON text; and the inverse (before the log opens).
  virtual std::string cache_snapshot() const = 0;
  virtual Result<void> load_cache(std::string_view text) = 0;

  struct Write {
    std::string key;
    std::string value;
    bool deleted = false;
  };
  // Appends the records in order, waits until the follower applied them, and returns the error
  // of the first one apply() rejected.
  Result<void> write(const std::vector<Write>& records);
  // From apply(): `record` lost; if this worker wrote it, its write() returns `why`.
  void reject(const LogRecord& record, Error why);
  void mark_dirty() { dirty_.store(true); }

  TopicStoreOptions options_;

 private:
  void on_idle();
  Result<void> flush_cache();

  const std::string cache_path_;
  const std::string thread_name_;
  std::unique_ptr<TopicLog> log_;
  std::mutex rejected_mutex_;
  std::map<std::int64_t, Error> rejected_;  // by offset, this worker's records only
  std::atomic<bool> dirty_{false};
  std::atomic<bool> started_{false};
  std::mutex cache_mutex_;
  std::chrono::steady_clock::time_point last_cache_write_{};
};

}  // namespace detail

// Connector configs in the config topic. Every write carries an epoch (the writer's view of the
// connector's epoch + 1, or StoredConnector::epoch + 1 when put_connector is given one); a
// record whose epoch is lower than the applied one is ignored, and its writer's put_* fails with
// kAlreadyExists (retriable: read again, redo). Equal epochs: the later record wins. Listeners
// run on the follower thread ("cfg-follow") for every applied change, ours and other workers'.
class TopicConfigStore final : public detail::TopicStoreBase, public ConfigStore {
 public:
  // Cache file: <cache_dir>/config-cache.json.
  static Result<std::unique_ptr<TopicConfigStore>> open(TopicStoreOptions options);
  ~TopicConfigStore() override;

  Result<void> put_connector(std::string_view name, const StoredConnector& connector) override;
  Result<void> put_target_state(std::string_view name, TargetState state) override;
  Result<void> put_task_configs(std::string_view name, std::vector<KeyValue> task_configs) override;
  Result<void> remove_connector(std::string_view name) override;
  std::map<std::string, StoredConnector> connectors() const override;
  std::optional<StoredConnector> connector(std::string_view name) const override;
  Result<void> request_restart(std::string_view name, RestartRequest request) override;
  std::optional<RestartRequest> restart_request(std::string_view name) const override;
  int add_listener(Listener listener) override;
  void remove_listener(int id) override;

 private:
  struct Entry {
    std::optional<StoredConnector> connector;  // nullopt: deleted (the epoch stays)
    std::int64_t epoch = 0;
    std::optional<RestartRequest> restart;  // seq = the record's offset
  };
  explicit TopicConfigStore(TopicStoreOptions options);
  void apply(const LogRecord& record) override;
  std::string cache_snapshot() const override;
  Result<void> load_cache(std::string_view text) override;
  std::int64_t view_epoch(std::string_view name) const;

  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
  ConnectorListeners listeners_;
};

// Source positions in the position topic, one record per connector and partition (keyed by
// the canonical partition key); later records win.
class TopicPositionStore final : public detail::TopicStoreBase, public PositionStore {
 public:
  // Cache file: <cache_dir>/positions-cache.json.
  static Result<std::unique_ptr<TopicPositionStore>> open(TopicStoreOptions options);
  ~TopicPositionStore() override;

  Result<void> put_positions(std::string_view connector, const OffsetMap& positions) override;
  std::optional<RecordOffset> position(std::string_view connector,
                                       const RecordPartition& partition) const override;
  OffsetMap positions(std::string_view connector) const override;
  Result<void> remove_positions(std::string_view connector) override;

 private:
  explicit TopicPositionStore(TopicStoreOptions options);
  void apply(const LogRecord& record) override;
  std::string cache_snapshot() const override;
  Result<void> load_cache(std::string_view text) override;

  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, RecordPosition>, std::less<>> positions_;
};

// Statuses in the status topic: one record for the connector and one per task, each with the
// writer's generation; a record of a lower generation than the applied one (for the connector,
// or for that task) is ignored and its writer's put_status fails with kAlreadyExists.
class TopicStatusStore final : public detail::TopicStoreBase, public StatusStore {
 public:
  // Cache file: <cache_dir>/status-cache.json.
  static Result<std::unique_ptr<TopicStatusStore>> open(TopicStoreOptions options);
  ~TopicStatusStore() override;

  Result<void> put_status(const ConnectorState& state, std::int64_t generation = 0) override;
  Result<void> put_connector_status(const ConnectorState& state, std::int64_t generation) override;
  Result<void> put_task_status(std::string_view connector, const TaskState& task,
                               std::int64_t generation) override;
  Result<void> claim_task(std::string_view connector, const TaskState& task,
                          std::int64_t generation, const std::string& expected_holder) override;
  std::optional<ConnectorState> status(std::string_view connector) const override;
  std::map<std::string, ConnectorState> statuses() const override;
  Result<void> remove_status(std::string_view connector) override;

 private:
  struct TaskEntry {
    TaskState state;
    std::int64_t generation = 0;
  };
  struct Entry {
    std::optional<ConnectorState> connector;  // without tasks; nullopt: none or deleted
    std::int64_t generation = 0;              // of the connector record (kept through deletion)
    std::int64_t floor = 0;                   // a task record needs at least this generation
    std::map<int, TaskEntry> tasks;
  };
  explicit TopicStatusStore(TopicStoreOptions options);
  void apply(const LogRecord& record) override;
  std::string cache_snapshot() const override;
  Result<void> load_cache(std::string_view text) override;
  static ConnectorState assemble(const std::string& name, const Entry& entry);

  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace rmqc::runtime
