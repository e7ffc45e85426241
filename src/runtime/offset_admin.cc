#include "runtime/offset_admin.h"

#include "base/logging.h"
#include "rocketmq/client/admin.h"
#include "runtime/local_worker.h"
#include "runtime/storage/position_key.h"
#include "runtime/worker_task.h"

#include <algorithm>
#include <set>

namespace rmqc::runtime {

// ConnectController's defaults for the verbs a controller may not implement.
Result<KeyValue> ConnectController::patch_connector_config(std::string_view name,
                                                           const KeyValue& patch,
                                                           const std::vector<std::string>& remove) {
  if (!remove.empty()) {
    return Error(ErrorCode::kUnsupported, "this worker cannot remove config keys with PATCH");
  }
  return patch_connector(name, patch);
}

Result<void> ConnectController::alter_offsets(std::string_view, const std::vector<OffsetChange>&) {
  return Error(ErrorCode::kUnsupported, "this worker cannot alter connector offsets");
}

Result<void> ConnectController::reset_offsets(std::string_view) {
  return Error(ErrorCode::kUnsupported, "this worker cannot reset connector offsets");
}

namespace {

bool from_first(const KeyValue& config) {
  std::string where = config.get_string("consume.from.where", "CONSUME_FROM_LAST_OFFSET");
  std::transform(where.begin(), where.end(), where.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return where == "CONSUME_FROM_FIRST_OFFSET";
}

Result<std::unique_ptr<rocketmq::Admin>> start_admin(const config::WorkerConfig& worker,
                                                     const std::string& namesrv) {
  auto admin = rocketmq::Admin::start(worker_client_config(worker, namesrv));
  if (!admin.ok()) return std::move(admin).error().with_context("offsets: starting the admin");
  return std::move(admin).value();
}

std::string describe(const RecordPartition& p) {
  std::string out;
  for (const auto& [k, v] : p.partition()) {
    out += (out.empty() ? "" : ", ") + k + "=" + v.to_string();
  }
  return "{" + out + "}";
}

}  // namespace

std::string sink_consumer_group(std::string_view connector, const KeyValue& config) {
  return config.get_string("task.group.id", "connect-" + std::string(connector));
}

Error not_stopped_error(std::string_view connector) {
  return Error(ErrorCode::kInvalidArgument,
               "Connectors must be in the STOPPED state before their offsets can be modified: "
               "stop " +
                   std::string(connector) + " first (PUT /connectors/" + std::string(connector) +
                   "/stop)");
}

Result<void> check_offset_changes(ConnectorType type, const std::vector<OffsetChange>& changes) {
  for (const auto& c : changes) {
    if (c.partition.empty()) return Error(ErrorCode::kInvalidArgument, "an empty partition");
    if (type != ConnectorType::kSink) continue;
    if (!queue_of(c.partition)) {
      return Error(ErrorCode::kInvalidArgument,
                   "sink partition " + describe(c.partition) +
                       " is not a queue: {\"topic\", \"brokerName\", \"queueId\"}");
    }
    if (!c.offset) continue;
    const Value* o = c.offset->find("queueOffset");
    std::int64_t at = -1;
    if (!o || !o->to_int64(at) || at < 0) {
      return Error(ErrorCode::kInvalidArgument, "sink offset of " + describe(c.partition) +
                                                    " must be {\"queueOffset\": <number >= 0>}");
    }
  }
  return {};
}

Result<void> alter_source_positions(PositionStore& store, std::string_view connector,
                                    const std::vector<OffsetChange>& changes) {
  std::set<std::string> removed;
  for (const auto& c : changes) {
    if (!c.offset) removed.insert(canonical_partition_key(c.partition));
  }
  OffsetMap set;
  for (const auto& c : changes) {
    if (c.offset) set[c.partition] = *c.offset;
  }
  if (!removed.empty()) {
    // The store merges; dropping partitions means writing the connector's positions anew.
    OffsetMap keep;
    for (auto& [p, o] : store.positions(connector)) {
      if (!removed.contains(canonical_partition_key(p))) keep[p] = o;
    }
    RMQC_RETURN_IF_ERROR(store.remove_positions(connector));
    for (auto& [p, o] : set) keep[p] = o;
    set = std::move(keep);
  }
  if (set.empty()) return {};
  return store.put_positions(connector, set);
}

Result<void> alter_sink_offsets(const config::WorkerConfig& worker, const std::string& namesrv,
                                std::string_view connector, const KeyValue& config,
                                const std::vector<OffsetChange>& changes) {
  RMQC_ASSIGN_OR_RETURN(auto admin, start_admin(worker, namesrv));
  const std::string group = sink_consumer_group(connector, config);
  const bool first = from_first(config);
  for (const auto& c : changes) {
    auto queue = queue_of(c.partition);
    if (!queue) return Error(ErrorCode::kInvalidArgument, "not a queue: " + describe(c.partition));
    std::int64_t at = 0;
    if (c.offset) {
      c.offset->find("queueOffset")->to_int64(at);
    } else {
      RMQC_ASSIGN_OR_RETURN(at, first ? admin->min_offset(*queue) : admin->max_offset(*queue));
    }
    RMQC_RETURN_IF_ERROR(admin->commit_offset(group, *queue, at));
  }
  logger("worker")->info("connector {}: {} queue offsets of group {} altered", connector,
                         changes.size(), group);
  return {};
}

Result<std::vector<SourceOffset>> sink_group_offsets(const config::WorkerConfig& worker,
                                                     const std::string& namesrv,
                                                     std::string_view connector,
                                                     const KeyValue& config) {
  RMQC_ASSIGN_OR_RETURN(auto admin, start_admin(worker, namesrv));
  std::vector<std::string> topics;
  for (auto& topic : split_list(config.get_string("connect.topicnames"))) {
    if (admin->topic_route(topic).ok()) topics.push_back(std::move(topic));  // skip unknown
  }
  std::vector<SourceOffset> out;
  if (topics.empty()) return out;
  RMQC_ASSIGN_OR_RETURN(auto progress,
                        admin->group_progress(sink_consumer_group(connector, config), topics));
  for (const auto& q : progress) {
    if (q.consumer_offset < 0) continue;
    out.push_back(SourceOffset{partition_of(q.queue),
                               RecordOffset{{"queueOffset", Value(q.consumer_offset)}}});
  }
  return out;
}

Result<void> reset_sink_offsets(const config::WorkerConfig& worker, const std::string& namesrv,
                                std::string_view connector, const KeyValue& config) {
  RMQC_ASSIGN_OR_RETURN(auto admin, start_admin(worker, namesrv));
  const std::string group = sink_consumer_group(connector, config);
  const bool first = from_first(config);
  std::size_t queues = 0;
  for (const auto& topic : split_list(config.get_string("connect.topicnames"))) {
    auto status = admin->topic_status(topic);
    if (!status.ok()) {
      if (status.error().code() == ErrorCode::kNotFound) continue;  // no queues, no offsets
      return std::move(status).error().with_context("offsets of " + topic);
    }
    for (const auto& q : *status) {
      RMQC_RETURN_IF_ERROR(
          admin->commit_offset(group, q.queue, first ? q.min_offset : q.max_offset));
      ++queues;
    }
  }
  logger("worker")->info("connector {}: {} queue offsets of group {} reset to the {} offset",
                         connector, queues, group, first ? "first" : "last");
  return {};
}

}  // namespace rmqc::runtime
