#pragma once

#include "rmqc/api/connector.h"

namespace rmqc {

// Base of SourceTask and SinkTask: a Component the worker runs on a thread of its own.
class Task : public Component {
 public:
  // The worker calls this from another thread when the task must stop or pause, so that a
  // poll() or put() blocked on the external system (a database query, a binlog or Kafka read, a
  // retry back-off) returns soon; stop() follows on the task's thread once that call returned.
  // It may come at any time after init() (before start() returned, between calls, more than
  // once) and must be thread-safe and quick: set a flag, notify a WakeupSignal
  // (rmqc/api/wakeup.h), cancel the running query. A call woken this way returns what it has
  // (possibly nothing) or throws RetriableException. The default does nothing, which suits tasks
  // whose calls return within about a second anyway. See docs/connector-sdk.md.
  virtual void wakeup() {}
};

}  // namespace rmqc
