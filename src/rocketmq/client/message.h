#pragma once

// Messages as the application sees them: what it sends (Message), what a send returns
// (SendResult) and what a pull hands back (MessageExt).

#include "rmqc/base/result.h"

#include "rocketmq/protocol/bodies.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/remoting_command.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::rocketmq {

struct Message {
  std::string topic;
  std::string body;
  std::string tags;
  std::string keys;  // space-separated business keys (KEYS)
  std::int32_t flag = 0;
  std::int32_t delay_level = 0;  // 1..18; 0 = deliver now
  MessageProperties properties;  // user properties

  Message() = default;
  Message(std::string topic_, std::string body_, std::string tags_ = {}, std::string keys_ = {})
      : topic(std::move(topic_)),
        body(std::move(body_)),
        tags(std::move(tags_)),
        keys(std::move(keys_)) {}
};

enum class SendStatus {
  kSendOk,
  kFlushDiskTimeout,
  kFlushSlaveTimeout,
  kSlaveNotAvailable,
};
std::string_view send_status_name(SendStatus status);

struct SendResult {
  SendStatus status = SendStatus::kSendOk;
  std::string msg_id;             // UNIQ_KEY; comma-joined for a batch
  std::string offset_msg_id;      // store host + commit-log offset; comma-joined for a batch
  MessageQueue queue;             // where it landed (broker name included)
  std::int64_t queue_offset = 0;  // of the first message of a batch
  std::string region_id;
  bool trace_on = false;
  std::string transaction_id;
};

// A pulled message. Owns (shares) the pull response buffer its views point into, so handing a
// batch of messages to the application copies no bodies.
class MessageExt {
 public:
  // `buffer` must hold the bytes `view` points into; `queue` is shared by all messages of one
  // pull (its queue id is the stored one).
  static Result<MessageExt> from_stored(const StoredMessageView& view,
                                        std::shared_ptr<const std::string> buffer,
                                        std::shared_ptr<const MessageQueue> queue);

  std::string_view topic() const { return topic_; }
  std::string_view body() const { return body_; }
  std::string_view properties_text() const { return properties_; }
  // Last value of a property, empty if absent.
  std::string_view property(std::string_view name) const;
  std::string_view tags() const { return property(property::TAGS); }
  std::string_view keys() const { return property(property::KEYS); }
  MessageProperties properties() const { return parse_properties(properties_); }
  // UNIQ_KEY when present (Java clients), else the offsetMsgId.
  std::string msg_id() const;
  std::string offset_msg_id() const { return make_offset_msg_id(store_host_, physical_offset_); }

  const MessageQueue& queue() const { return *queue_; }
  std::int32_t queue_id() const { return queue_->queue_id; }
  std::int64_t queue_offset() const { return queue_offset_; }
  std::int64_t physical_offset() const { return physical_offset_; }
  std::int32_t flag() const { return flag_; }
  std::int32_t sys_flag() const { return sys_flag_; }
  std::int32_t reconsume_times() const { return reconsume_times_; }
  std::int64_t born_timestamp() const { return born_timestamp_; }
  std::int64_t store_timestamp() const { return store_timestamp_; }
  const SocketAddress& born_host() const { return born_host_; }
  const SocketAddress& store_host() const { return store_host_; }

 private:
  std::shared_ptr<const std::string> buffer_;    // the pull body
  std::shared_ptr<const std::string> inflated_;  // body when it arrived compressed
  std::shared_ptr<const MessageQueue> queue_;
  std::string_view topic_;
  std::string_view body_;
  std::string_view properties_;
  std::int64_t queue_offset_ = 0;
  std::int64_t physical_offset_ = 0;
  std::int32_t flag_ = 0;
  std::int32_t sys_flag_ = 0;
  std::int32_t reconsume_times_ = 0;
  std::int64_t born_timestamp_ = 0;
  std::int64_t store_timestamp_ = 0;
  SocketAddress born_host_;
  SocketAddress store_host_;
};

// The retriable/fatal classification of a broker reply code (spec §1.6, §4.4) as an Error.
Error error_from_response(const RemotingCommand& response, std::string_view what);

}  // namespace rmqc::rocketmq
