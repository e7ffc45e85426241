#include "rocketmq/client/message.h"

#include "rocketmq/protocol/response_code.h"

namespace rmqc::rocketmq {

std::string_view send_status_name(SendStatus status) {
  switch (status) {
    case SendStatus::kSendOk:
      return "SEND_OK";
    case SendStatus::kFlushDiskTimeout:
      return "FLUSH_DISK_TIMEOUT";
    case SendStatus::kFlushSlaveTimeout:
      return "FLUSH_SLAVE_TIMEOUT";
    case SendStatus::kSlaveNotAvailable:
      return "SLAVE_NOT_AVAILABLE";
  }
  return "UNKNOWN";
}

Result<MessageExt> MessageExt::from_stored(const StoredMessageView& view,
                                           std::shared_ptr<const std::string> buffer,
                                           std::shared_ptr<const MessageQueue> queue) {
  MessageExt m;
  m.topic_ = view.topic;
  m.properties_ = view.properties;
  if (view.sys_flag & sysflag::COMPRESSED_FLAG) {
    RMQC_ASSIGN_OR_RETURN(std::string inflated, decode_body(view.body, view.sys_flag));
    m.inflated_ = std::make_shared<const std::string>(std::move(inflated));
    m.body_ = *m.inflated_;
  } else {
    m.body_ = view.body;
  }
  m.buffer_ = std::move(buffer);
  m.queue_ = std::move(queue);
  m.queue_offset_ = view.queue_offset;
  m.physical_offset_ = view.physical_offset;
  m.flag_ = view.flag;
  m.sys_flag_ = view.sys_flag;
  m.reconsume_times_ = view.reconsume_times;
  m.born_timestamp_ = view.born_timestamp;
  m.store_timestamp_ = view.store_timestamp;
  m.born_host_ = view.born_host;
  m.store_host_ = view.store_host;
  return m;
}

std::string_view MessageExt::property(std::string_view name) const {
  std::string_view value;
  return find_property(properties_, name, &value) ? value : std::string_view();
}

std::string MessageExt::msg_id() const {
  auto uniq = property(property::UNIQ_KEY);
  return uniq.empty() ? offset_msg_id() : std::string(uniq);
}

Error error_from_response(const RemotingCommand& response, std::string_view what) {
  namespace rsp = response_code;
  std::string message = std::string(what) + ": broker answered code " +
                        std::to_string(response.code) +
                        (response.remark.empty() ? std::string() : " (" + response.remark + ")");
  switch (response.code) {
    case rsp::SYSTEM_BUSY:
    case rsp::FLOW_CONTROL:
    case rsp::SERVICE_NOT_AVAILABLE:
    case rsp::GO_AWAY:
      return Error::retriable(ErrorCode::kUnavailable, std::move(message));
    case rsp::TOPIC_NOT_EXIST:
    case rsp::SUBSCRIPTION_GROUP_NOT_EXIST:
      return Error(ErrorCode::kNotFound, std::move(message), /*retriable=*/true);
    case rsp::NO_PERMISSION:
      return Error(ErrorCode::kPermissionDenied, std::move(message), /*retriable=*/true);
    case rsp::MESSAGE_ILLEGAL:
      return Error(ErrorCode::kInvalidArgument, std::move(message));
    case rsp::REQUEST_CODE_NOT_SUPPORTED:
    case rsp::VERSION_NOT_SUPPORTED:
      return Error(ErrorCode::kUnsupported, std::move(message));
    default:
      return Error(ErrorCode::kUnavailable, std::move(message),
                   rsp::is_send_retriable(response.code));
  }
}

}  // namespace rmqc::rocketmq
