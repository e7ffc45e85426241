#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/record.h"

#include <optional>

namespace rmqc {

// Rewrites one record at a time (transforms.<alias>.class). Returning nullopt drops the record and
// ends the chain for it. Must be reentrant and cheap: no per-record pattern compilation.
class Transform : public Component {
 public:
  virtual std::optional<ConnectRecord> do_transform(ConnectRecord record) = 0;
  void stop() override {}
};

}  // namespace rmqc
