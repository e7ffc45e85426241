#pragma once

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

// Something the worker starts with a config and stops: connectors, tasks, transforms.
// Any method may throw ConnectException; the worker catches it and reports the component FAILED.
class Component {
 public:
  virtual ~Component() = default;
  // Checks the config beyond what config_def() expresses; throw ConnectException to reject it.
  virtual void validate(const KeyValue& config) { (void)config; }
  virtual void start(const KeyValue& config) = 0;
  virtual void stop() = 0;
  // The keys this component understands; used for validation and generated docs.
  virtual ConfigDef config_def() const { return {}; }
};

// What a connector may ask of the worker.
class ConnectorContext {
 public:
  virtual ~ConnectorContext() = default;
  // The external system changed shape (a new table): task_configs() is asked again.
  virtual void request_task_reconfiguration() = 0;
  // The connector cannot continue; it is marked FAILED with this message.
  virtual void raise_error(const std::string& message) = 0;
  virtual std::string_view connector_name() const = 0;
};

class Task;

// Splits a job into task configs; owns no data movement itself.
class Connector : public Component {
 public:
  virtual void init(ConnectorContext& context) { context_ = &context; }
  // Up to max_tasks task configs; the worker starts one task per entry.
  virtual std::vector<KeyValue> task_configs(int max_tasks) = 0;
  // The task type's name (shown by the REST API) and a factory for it.
  virtual std::string task_class() const = 0;
  virtual std::unique_ptr<Task> create_task() const = 0;

 protected:
  ConnectorContext* context() const { return context_; }

 private:
  ConnectorContext* context_ = nullptr;
};

class SourceConnector : public Connector {};
class SinkConnector : public Connector {};

}  // namespace rmqc
