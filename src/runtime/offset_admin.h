#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "config/worker_config.h"
#include "runtime/connect_controller.h"
#include "runtime/storage/position_store.h"

#include <string>
#include <string_view>
#include <vector>

namespace rmqc::runtime {

// PATCH and DELETE /connectors/{name}/offsets, shared by the standalone and distributed
// coordinators (which check the connector is STOPPED first).

// The consumer group of a sink connector's tasks: task.group.id, default connect-<name>.
std::string sink_consumer_group(std::string_view connector, const KeyValue& config);

// Checks the entries' shapes: a sink's partitions must name a queue (topic, brokerName,
// queueId) and its offsets carry a queueOffset >= 0. kInvalidArgument naming the bad entry.
Result<void> check_offset_changes(ConnectorType type, const std::vector<OffsetChange>& changes);

// Source: merges the new positions into the store; an entry without offset removes the
// partition's position.
Result<void> alter_source_positions(PositionStore& store, std::string_view connector,
                                    const std::vector<OffsetChange>& changes);

// Sink: commits the queue offsets to the connector's consumer group on the broker; an entry
// without offset puts the queue where a new group starts (consume.from.where: the queue's min
// offset for CONSUME_FROM_FIRST_OFFSET, else its max offset).
Result<void> alter_sink_offsets(const config::WorkerConfig& worker, const std::string& namesrv,
                                std::string_view connector, const KeyValue& config,
                                const std::vector<OffsetChange>& changes);
// Sink: every queue of connect.topicnames back to where a new group starts.
Result<void> reset_sink_offsets(const config::WorkerConfig& worker, const std::string& namesrv,
                                std::string_view connector, const KeyValue& config);

// Sink: the queue offsets its consumer group committed on the broker (queues of
// connect.topicnames with a committed offset), in the GET /connectors/{name}/offsets shape.
Result<std::vector<SourceOffset>> sink_group_offsets(const config::WorkerConfig& worker,
                                                     const std::string& namesrv,
                                                     std::string_view connector,
                                                     const KeyValue& config);

// The error a coordinator answers when the connector is not STOPPED.
Error not_stopped_error(std::string_view connector);

}  // namespace rmqc::runtime
