#pragma once

#include "rmqc/plugin/registrar.h"

namespace rmqc::transforms {

// Registers every built-in transform and predicate: the RocketMQ Connect seed set under
// org.apache.rocketmq.connect.transforms.<Name>$Key|$Value, Kafka Connect's SMTs under
// org.apache.kafka.connect.transforms.<Name>[$Key|$Value], the predicates under
// org.apache.kafka.connect.transforms.predicates.<Name>, and short aliases ("InsertField$Value",
// "RegexRouter", "TopicNameMatches").
void register_builtin_transforms(PluginRegistrar& registrar);

}  // namespace rmqc::transforms
