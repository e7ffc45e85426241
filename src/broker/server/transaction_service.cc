#include "broker/server/transaction_service.h"

#include "base/logging.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <algorithm>
#include <charconv>

namespace rmqc::broker {
namespace {

namespace property = rocketmq::property;
namespace sysflag = rocketmq::sysflag;
namespace rsp = rocketmq::response_code;
using rocketmq::RemotingCommand;
using Clock = std::chrono::steady_clock;

// How long a resolved transaction is remembered after the check pass moved past its last copy:
// a repeated END_TRANSACTION within that time is answered without effect.
constexpr auto kResolvedMemory = std::chrono::minutes(10);
constexpr std::int32_t kScanBatch = 32;
constexpr std::int64_t kScanBytes = 4 << 20;

std::string_view prop(const rocketmq::MessageProperties& props, std::string_view name) {
  auto it = props.find(name);
  return it == props.end() ? std::string_view() : std::string_view(it->second);
}

template <typename T>
bool parse_number(std::string_view text, T* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

// A transaction's identity across its put-back copies: UNIQ_KEY (every Java and native
// producer sets it), else the queue offset of its first half copy.
std::string identity(const rocketmq::StoredMessageView& half,
                     const rocketmq::MessageProperties& props) {
  if (auto uniq = prop(props, property::UNIQ_KEY); !uniq.empty()) return std::string(uniq);
  if (auto first = prop(props, property::TRAN_PREPARED_QUEUE_OFFSET); !first.empty()) {
    return "#" + std::string(first);
  }
  return "#" + std::to_string(half.queue_offset);
}

// Calls fn for each record of queue 0 of `topic` from `from` until fn returns false or the
// queue ends (at `end`); returns the offset after the last record fn accepted.
template <typename Fn>
std::int64_t scan(const MessageStore& store, std::string_view topic, std::int64_t from,
                  std::int64_t end, Fn&& fn) {
  std::int64_t next = from;
  while (next < end) {
    auto got = store.get_messages(topic, 0, next, kScanBatch, kScanBytes);
    if (!got.ok()) break;
    if (got->messages.empty()) {
      if (got->next_begin_offset > next) {
        next = got->next_begin_offset;  // a hole (retention): skip it
        continue;
      }
      break;
    }
    for (const auto& ref : got->messages) {
      if (ref.queue_offset >= end) return next;
      if (!fn(ref)) return next;
      next = ref.queue_offset + 1;
    }
  }
  return next;
}

}  // namespace

// --- ProducerRegistry ------------------------------------------------------------------------

void ProducerRegistry::heartbeat(const remoting::ConnectionPtr& connection,
                                 const std::string& client_id, const std::string& group,
                                 Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& m = groups_[group][connection->id()];
  m.client_id = client_id;
  m.connection = connection;
  m.last_heartbeat = now;
}

void ProducerRegistry::unregister(const std::string& client_id, const std::string& group) {
  std::lock_guard lock(mutex_);
  auto g = groups_.find(group);
  if (g == groups_.end()) return;
  std::erase_if(g->second, [&](const auto& e) { return e.second.client_id == client_id; });
  if (g->second.empty()) groups_.erase(g);
}

void ProducerRegistry::on_close(const remoting::ConnectionPtr& connection) {
  std::lock_guard lock(mutex_);
  for (auto g = groups_.begin(); g != groups_.end();) {
    // By identity: connection ids are per server (the VIP port is another server).
    std::erase_if(g->second, [&](const auto& e) {
      const auto& c = e.second.connection;
      return !c.owner_before(connection) && !connection.owner_before(c);
    });
    g = g->second.empty() ? groups_.erase(g) : std::next(g);
  }
}

void ProducerRegistry::expire(Clock::time_point now, std::chrono::milliseconds expiry) {
  std::lock_guard lock(mutex_);
  for (auto g = groups_.begin(); g != groups_.end();) {
    std::erase_if(g->second, [&](const auto& e) {
      return now - e.second.last_heartbeat >= expiry || e.second.connection.expired();
    });
    g = g->second.empty() ? groups_.erase(g) : std::next(g);
  }
}

remoting::ConnectionPtr ProducerRegistry::pick(std::string_view group) {
  std::lock_guard lock(mutex_);
  auto g = groups_.find(group);
  if (g == groups_.end() || g->second.empty()) return nullptr;
  const std::size_t n = g->second.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto it = std::next(g->second.begin(), static_cast<std::ptrdiff_t>(next_++ % n));
    if (auto c = it->second.connection.lock(); c && c->is_open()) return c;
  }
  return nullptr;
}

std::size_t ProducerRegistry::size(std::string_view group) const {
  std::lock_guard lock(mutex_);
  auto g = groups_.find(group);
  return g == groups_.end() ? 0 : g->second.size();
}

// --- TransactionService ----------------------------------------------------------------------

TransactionService::TransactionService(MessageStore& store, TransactionConfig config,
                                       Deliver deliver)
    : store_(store), config_(config), deliver_(std::move(deliver)) {
  // The half and op topics exist from the start (one queue each), as on a real broker.
  for (auto topic : {kTransHalfTopic, kTransOpHalfTopic}) {
    if (store_.topic_configs().get(topic)) continue;
    TopicConfig t;
    t.topic_name = std::string(topic);
    t.read_queue_nums = t.write_queue_nums = 1;
    if (auto r = store_.topic_configs().put(t); !r.ok()) {
      logger("broker")->error("cannot create {}: {}", topic, r.error().message());
    }
  }
  rebuild();
}

bool TransactionService::is_half(const rocketmq::MessageProperties& properties) {
  return prop(properties, property::TRAN_MSG) == "true";
}

void TransactionService::rebuild() {
  std::lock_guard lock(mutex_);
  auto& offsets = store_.consumer_offsets();
  half_progress_ = std::max(offsets.query(kTransProgressGroup, kTransHalfTopic, 0).value_or(0),
                            store_.min_offset(kTransHalfTopic, 0));
  op_progress_ = std::max(offsets.query(kTransProgressGroup, kTransOpHalfTopic, 0).value_or(0),
                          store_.min_offset(kTransOpHalfTopic, 0));
  // The latest copy of every transaction still in the half queue: earlier ones were superseded
  // by a put-back (a crash may have lost the progress past them).
  std::int64_t halves = 0;
  scan(store_, kTransHalfTopic, half_progress_, store_.max_offset(kTransHalfTopic, 0),
       [&](const MessageRef& ref) {
         auto half = rocketmq::decode_stored_message(ref.bytes);
         if (half.ok()) {
           latest_copy_[identity(*half, rocketmq::parse_properties(half->properties))] =
               ref.queue_offset;
           ++halves;
         }
         return true;
       });
  // Every op record not yet consolidated resolves the transaction of the half it names.
  const auto now = Clock::now();
  scan(store_, kTransOpHalfTopic, op_progress_, store_.max_offset(kTransOpHalfTopic, 0),
       [&](const MessageRef& ref) {
         auto op = rocketmq::decode_stored_message(ref.bytes);
         std::int64_t target = 0;
         if (!op.ok() || !parse_number(op->body, &target)) return true;
         auto got = store_.get_messages(kTransHalfTopic, 0, target, 1, kScanBytes);
         if (!got.ok() || got->messages.empty() || got->messages[0].queue_offset != target) {
           return true;  // the half is gone (retention)
         }
         auto half = rocketmq::decode_stored_message(got->messages[0].bytes);
         if (!half.ok()) return true;
         auto id = identity(*half, rocketmq::parse_properties(half->properties));
         resolved_[id] = Resolved{target, now};
         latest_copy_.erase(id);
         return true;
       });
  if (halves > 0 || !resolved_.empty()) {
    logger("broker")->info(
        "transactions: {} half copies from offset {}, {} resolved since op offset {}", halves,
        half_progress_, resolved_.size(), op_progress_);
  }
}

Result<PutResult> TransactionService::put(std::string_view topic,
                                          const rocketmq::StoredMessageView& copy,
                                          std::string* record_out) {
  std::string local;
  std::string& record = record_out ? *record_out : local;
  record.clear();
  RMQC_RETURN_IF_ERROR(rocketmq::append_stored_message(copy, record));
  (void)topic;
  return store_.put_message(std::span<char>(record.data(), record.size()));
}

Result<PutResult> TransactionService::write_op(std::int64_t half_queue_offset,
                                               std::int64_t now_ms) {
  const std::string body = std::to_string(half_queue_offset);
  std::string props;
  rocketmq::append_property(props, property::TAGS, kTransOpRemoveTag);
  rocketmq::StoredMessageView op;
  op.topic = kTransOpHalfTopic;
  op.queue_id = 0;
  op.born_timestamp = now_ms;
  op.store_timestamp = now_ms;
  op.body = body;
  op.properties = props;
  return put(kTransOpHalfTopic, op);
}

Result<std::optional<RemotingCommand>> TransactionService::end_transaction(
    const remoting::ConnectionPtr& connection, const RemotingCommand& request) {
  RMQC_ASSIGN_OR_RETURN(auto h,
                        rocketmq::EndTransactionRequestHeader::from_ext_fields(request.ext_fields));
  const std::int32_t type = h.commit_or_rollback;
  if (type != sysflag::TRANSACTION_COMMIT_TYPE && type != sysflag::TRANSACTION_ROLLBACK_TYPE) {
    // Unknown (0) or anything else: nothing to do, and RocketMQ sends no reply either.
    logger("broker")->debug("END_TRANSACTION {} from {} for {}{}: left to the check-back", type,
                            connection->remote_address(), h.msg_id,
                            h.from_transaction_check ? " (check answer)" : "");
    return std::optional<RemotingCommand>();
  }
  auto fail = [&](std::string remark) {
    return std::optional<RemotingCommand>(
        RemotingCommand::response_to(request, rsp::SYSTEM_ERROR, std::move(remark)));
  };
  auto record = store_.read_message(h.commit_log_offset);
  if (!record.ok()) return fail("Find prepared transaction message failed");
  auto half = rocketmq::decode_stored_message(record->bytes);
  if (!half.ok() || half->topic != kTransHalfTopic) {
    return fail("Find prepared transaction message failed");
  }
  auto props = rocketmq::parse_properties(half->properties);
  if (prop(props, property::PGROUP) != h.producer_group) return fail("The producer group wrong");
  if (half->queue_offset != h.tran_state_table_offset) {
    return fail("The transaction state table offset wrong");
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::string id = identity(*half, props);
  std::lock_guard lock(mutex_);
  if (resolved_.contains(id)) {
    // Already committed or rolled back (a repeat, or a check answer racing the producer's own).
    return std::optional<RemotingCommand>(RemotingCommand::response_to(request, rsp::SUCCESS));
  }
  if (type == sysflag::TRANSACTION_COMMIT_TYPE) {
    auto real_topic = prop(props, property::REAL_TOPIC);
    std::int32_t real_qid = 0;
    if (real_topic.empty() || !parse_number(prop(props, property::REAL_QID), &real_qid)) {
      return fail("The prepared message has no REAL_TOPIC/REAL_QID");
    }
    // The half's record with its real topic and queue, SYSFLAG commit and PREPARED TX OFFSET
    // = the half's commit-log offset; properties kept (TRAN_MSG, PGROUP, REAL_* included, as a
    // 4.9 broker stores them).
    const std::string encoded = rocketmq::encode_properties(props);
    rocketmq::StoredMessageView copy = *half;
    copy.topic = real_topic;
    copy.queue_id = real_qid;
    copy.sys_flag =
        (half->sys_flag & ~sysflag::TRANSACTION_MASK) | sysflag::TRANSACTION_COMMIT_TYPE;
    copy.prepared_transaction_offset = h.commit_log_offset;
    copy.store_timestamp = now;
    copy.properties = encoded;
    std::string out;
    if (auto r = rocketmq::append_stored_message(copy, out); !r.ok()) {
      return fail(r.error().message());
    }
    auto put = deliver_(real_topic, out);
    if (!put.ok()) {
      return std::optional<RemotingCommand>(RemotingCommand::response_to(
          request,
          put.error().code() == ErrorCode::kResourceExhausted ? rsp::SERVICE_NOT_AVAILABLE
                                                              : rsp::SYSTEM_ERROR,
          put.error().message()));
    }
    ++stats_.committed;
  } else {
    ++stats_.rolled_back;
  }
  // The op record names the transaction's latest half copy, so the check pass passes it by.
  std::int64_t target = half->queue_offset;
  if (auto it = latest_copy_.find(id); it != latest_copy_.end()) {
    target = std::max(target, it->second);
    latest_copy_.erase(it);
  }
  if (auto op = write_op(target, now); !op.ok()) {
    // The outcome stands (in memory); after a restart the half would be checked back again.
    logger("broker")->error("transaction {}: cannot write its op record: {}", id,
                            op.error().message());
  }
  resolved_[id] = Resolved{target, Clock::now()};
  return std::optional<RemotingCommand>(RemotingCommand::response_to(request, rsp::SUCCESS));
}

int TransactionService::tick(std::int64_t now_ms) {
  {
    std::lock_guard lock(mutex_);
    if (next_pass_ms_ == 0) {
      // The first pass one interval after start, as RocketMQ's check service: producers have
      // time to reconnect and heartbeat before their transactions are checked back.
      next_pass_ms_ = now_ms + config_.check_interval.count();
      return 0;
    }
    if (now_ms < next_pass_ms_) return 0;
    next_pass_ms_ = now_ms + config_.check_interval.count();
  }
  return check(now_ms);
}

int TransactionService::check(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const std::int64_t before_half = half_progress_;
  const std::int64_t before_op = op_progress_;
  int checks = 0;
  half_progress_ =
      scan(store_, kTransHalfTopic, half_progress_, store_.max_offset(kTransHalfTopic, 0),
           [&](const MessageRef& ref) { return examine(ref, now_ms, &checks); });
  // Op records naming halves the pass is past are no longer needed at a restart.
  op_progress_ = scan(store_, kTransOpHalfTopic, op_progress_,
                      store_.max_offset(kTransOpHalfTopic, 0), [&](const MessageRef& ref) {
                        auto op = rocketmq::decode_stored_message(ref.bytes);
                        std::int64_t target = 0;
                        if (!op.ok() || !parse_number(op->body, &target)) return true;
                        return target < half_progress_;
                      });
  const auto now = Clock::now();
  std::erase_if(resolved_, [&](const auto& e) {
    return e.second.op_target < half_progress_ && now - e.second.at > kResolvedMemory;
  });
  std::erase_if(latest_copy_, [&](const auto& e) { return e.second < half_progress_; });
  if (half_progress_ != before_half || op_progress_ != before_op) {
    auto& offsets = store_.consumer_offsets();
    offsets.commit(kTransProgressGroup, kTransHalfTopic, 0, half_progress_);
    offsets.commit(kTransProgressGroup, kTransOpHalfTopic, 0, op_progress_);
    if (auto p = offsets.persist(); !p.ok()) {
      logger("broker")->warn("transactions: cannot persist the check progress: {}",
                             p.error().message());
    }
  }
  return checks;
}

bool TransactionService::examine(const MessageRef& ref, std::int64_t now_ms, int* checks) {
  auto half = rocketmq::decode_stored_message(ref.bytes);
  if (!half.ok()) {
    logger("broker")->error("transactions: skipping undecodable half at offset {}: {}",
                            ref.queue_offset, half.error().message());
    return true;
  }
  auto props = rocketmq::parse_properties(half->properties);
  const std::string id = identity(*half, props);
  if (resolved_.contains(id)) return true;
  if (auto it = latest_copy_.find(id); it != latest_copy_.end() && it->second != ref.queue_offset) {
    return true;  // superseded by a later copy
  }
  int times = 0;
  parse_number(prop(props, property::TRANSACTION_CHECK_TIMES), &times);
  if (times >= config_.check_max) {
    // Checked too often: moved to TRANS_CHECK_MAX_TIME_TOPIC (1 queue), as RocketMQ 4.9.
    if (!store_.topic_configs().get(kTransCheckMaxTimeTopic)) {
      TopicConfig t;
      t.topic_name = std::string(kTransCheckMaxTimeTopic);
      t.read_queue_nums = t.write_queue_nums = 1;
      (void)store_.topic_configs().put(t);
    }
    rocketmq::StoredMessageView copy = *half;
    copy.topic = kTransCheckMaxTimeTopic;
    copy.queue_id = 0;
    copy.store_timestamp = now_ms;
    if (auto put = this->put(kTransCheckMaxTimeTopic, copy); !put.ok()) {
      logger("broker")->warn("transactions: cannot discard {}: {}; retried at the next pass", id,
                             put.error().message());
      return false;
    }
    latest_copy_.erase(id);
    ++stats_.discarded;
    logger("broker")->warn(
        "transaction {} of group {} (topic {}) unresolved after {} check-backs: moved to {}", id,
        prop(props, property::PGROUP), prop(props, property::REAL_TOPIC), times,
        kTransCheckMaxTimeTopic);
    return true;
  }
  std::int64_t immunity = config_.timeout.count();
  if (std::int64_t s = 0; parse_number(prop(props, property::CHECK_IMMUNITY_TIME_IN_SECONDS), &s)) {
    immunity = std::max(immunity, s * 1000);
  }
  const std::int64_t age = now_ms - half->born_timestamp;
  if (age >= 0 && age < immunity) return false;  // too young: so are (mostly) the ones after it

  // Put back at the end of the half queue with one more check, then ask the producer.
  props[std::string(property::TRANSACTION_CHECK_TIMES)] = std::to_string(times + 1);
  if (prop(props, property::UNIQ_KEY).empty() &&
      prop(props, property::TRAN_PREPARED_QUEUE_OFFSET).empty()) {
    props[std::string(property::TRAN_PREPARED_QUEUE_OFFSET)] = std::to_string(half->queue_offset);
  }
  const std::string encoded = rocketmq::encode_properties(props);
  rocketmq::StoredMessageView copy = *half;
  copy.store_timestamp = now_ms;
  copy.properties = encoded;
  auto put = this->put(kTransHalfTopic, copy);
  if (!put.ok()) {
    logger("broker")->warn("transactions: cannot put back {}: {}; retried at the next pass", id,
                           put.error().message());
    return false;
  }
  latest_copy_[id] = put->queue_offset;
  if (send_check(copy, *put, prop(props, property::PGROUP))) {
    ++*checks;
    ++stats_.checks_sent;
  }
  return true;
}

bool TransactionService::send_check(const rocketmq::StoredMessageView& copy, const PutResult& where,
                                    std::string_view group) {
  auto connection = producers_.pick(group);
  if (!connection) {
    logger("broker")->debug("transactions: no live producer of group {} to check back", group);
    return false;
  }
  auto props = rocketmq::parse_properties(copy.properties);
  rocketmq::CheckTransactionStateRequestHeader h;
  h.tran_state_table_offset = where.queue_offset;
  h.commit_log_offset = where.physical_offset;
  h.offset_msg_id = rocketmq::make_offset_msg_id(copy.store_host, where.physical_offset);
  if (auto uniq = prop(props, property::UNIQ_KEY); !uniq.empty()) {
    h.msg_id = std::string(uniq);
    h.transaction_id = std::string(uniq);
  }
  // The body: the half copy as stored, shown with its real topic and queue (as RocketMQ).
  rocketmq::StoredMessageView shown = copy;
  shown.topic = prop(props, property::REAL_TOPIC);
  std::int32_t qid = 0;
  parse_number(prop(props, property::REAL_QID), &qid);
  shown.queue_id = qid;
  shown.queue_offset = where.queue_offset;
  shown.physical_offset = where.physical_offset;
  shown.store_timestamp = where.store_timestamp;
  auto request =
      RemotingCommand::request(rocketmq::request_code::CHECK_TRANSACTION_STATE, h.to_ext_fields());
  request.opaque = next_opaque_.fetch_add(1);
  request.mark_oneway();
  request.serialize_type = rocketmq::SerializeType::JSON;
  if (auto r = rocketmq::append_stored_message(shown, request.body); !r.ok()) {
    logger("broker")->error("transactions: cannot encode a check-back: {}", r.error().message());
    return false;
  }
  connection->send(request);
  return true;
}

TransactionService::Stats TransactionService::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::int64_t TransactionService::half_progress() const {
  std::lock_guard lock(mutex_);
  return half_progress_;
}

}  // namespace rmqc::broker
