// The replicator plugin's entry: RocketMQ -> RocketMQ copies and consumer-offset checkpoints
// (docs/connectors/replicator.md).

#include "rmqc/plugin/entry.h"

#include "replicator/replicator_checkpoint.h"
#include "replicator/replicator_source.h"

RMQC_PLUGIN_ENTRY(replicator) {
  using namespace rmqc::connectors::replicator;
  registrar.add_source_connector<ReplicatorSourceConnector>(
      {"org.apache.rocketmq.replicator.ReplicatorSourceConnector",
       {"ReplicatorSourceConnector", "RmqSourceReplicator"},
       "1.0",
       "Copies topics (with tag filters) of a source RocketMQ cluster into the worker's cluster, "
       "keeping bodies, keys, tags and properties and each source queue's order; positions are "
       "committed only for what the destination acknowledged."});
  registrar.add_source_connector<ReplicatorCheckpointConnector>(
      {"org.apache.rocketmq.replicator.ReplicatorCheckpointConnector",
       {"ReplicatorCheckpointConnector"},
       "1.0",
       "Translates consumer-group offsets of the source cluster into destination offsets, as "
       "checkpoint records and optionally as the groups' committed offsets on the destination."});
}
