#pragma once

// What the ConfigStore implementations share: the listener list and the stale-write error.
// Internal to src/runtime/storage.

#include "rmqc/base/error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::runtime {

class ConnectorListeners {
 public:
  using Listener = std::function<void(const std::string& connector)>;

  int add(Listener listener) {
    std::lock_guard lock(mutex_);
    listeners_.emplace(++last_id_, std::make_shared<Listener>(std::move(listener)));
    return last_id_;
  }
  void remove(int id) {
    std::lock_guard lock(mutex_);
    listeners_.erase(id);
  }
  // Calls every listener for each name, holding no lock while they run.
  void notify(const std::vector<std::string>& connectors) const {
    if (connectors.empty()) return;
    std::vector<std::shared_ptr<Listener>> copy;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, l] : listeners_) copy.push_back(l);
    }
    for (const auto& name : connectors) {
      for (const auto& l : copy) (*l)(name);
    }
  }

 private:
  mutable std::mutex mutex_;
  int last_id_ = 0;
  std::map<int, std::shared_ptr<Listener>> listeners_;
};

// A change of `connector` carrying `epoch` that lost against the applied `applied` epoch: the
// writer's view was outdated. Retriable: read the connector again and redo the change.
inline Error stale_epoch_error(std::string_view connector, std::int64_t epoch,
                               std::int64_t applied) {
  return Error(ErrorCode::kAlreadyExists,
               "connector '" + std::string(connector) +
                   "' changed meanwhile: this write has epoch " + std::to_string(epoch) +
                   ", the applied one " + std::to_string(applied) +
                   "; read it again and redo the change",
               /*retriable=*/true);
}

}  // namespace rmqc::runtime
