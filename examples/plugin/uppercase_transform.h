#pragma once

#include "rmqc/api/transform.h"

namespace example {

// Upper-cases a STRING record value (ASCII); other values pass through unchanged.
class UppercaseTransform final : public rmqc::Transform {
 public:
  void start(const rmqc::KeyValue& config) override { (void)config; }
  std::optional<rmqc::ConnectRecord> do_transform(rmqc::ConnectRecord record) override;
};

}  // namespace example
