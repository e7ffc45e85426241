#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/record.h"

namespace rmqc {

// Decides whether a transform applies to a record (transforms.<alias>.predicate).
class Predicate : public Component {
 public:
  virtual bool test(const ConnectRecord& record) const = 0;
  void stop() override {}
};

}  // namespace rmqc
