// The Kafka plugin's entry: Kafka -> RocketMQ and RocketMQ -> Kafka (docs/connectors/kafka.md).

#include "rmqc/plugin/entry.h"

#include "kafka/kafka_sink.h"
#include "kafka/kafka_source.h"

RMQC_PLUGIN_ENTRY(kafka) {
  using namespace rmqc::connectors::kafka;
  registrar.add_source_connector<KafkaSourceConnector>(
      {"org.apache.rocketmq.connect.kafka.connector.KafkaSourceConnector",
       {"KafkaSourceConnector"},
       "1.0",
       "Reads Kafka topics (librdkafka, one consumer group over the tasks) into RocketMQ topics "
       "of the same name, keeping keys, bytes, headers and timestamps; Kafka offsets are "
       "committed only for what RocketMQ acknowledged."});
  registrar.add_sink_connector<KafkaSinkConnector>(
      {"org.apache.rocketmq.connect.kafka.connector.KafkaSinkConnector",
       {"KafkaSinkConnector",
        "org.apache.rocketmq.connect.rocketmq.connector.RocketMQSinkConnector"},
       "1.0",
       "Writes RocketMQ topics into Kafka topics of the same name with an idempotent producer, "
       "properties as headers; RocketMQ offsets are committed only after Kafka's delivery "
       "reports."});
}
