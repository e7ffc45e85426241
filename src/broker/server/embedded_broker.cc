#include "broker/server/embedded_broker.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <asio.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace rmqc::broker {
namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kNamesrvScan = std::chrono::seconds(10);
constexpr auto kRpcTimeout = std::chrono::seconds(3);

std::vector<std::string> split_addrs(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < list.size()) {
    auto end = list.find(';', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

struct EmbeddedBroker::Impl {
  EmbeddedBrokerOptions options;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;
  std::unique_ptr<MessageStore> store;
  std::unique_ptr<NameServer> name_server;
  std::unique_ptr<remoting::RemotingServer> namesrv_server;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<remoting::RemotingServer> broker_server;
  std::unique_ptr<remoting::RemotingServer> vip_server;
  std::string broker_addr;

  std::mutex mutex;
  std::condition_variable cv;
  bool stopping = false;
  bool stopped = false;
  bool register_requested = false;
  std::thread housekeeping;
  std::map<std::string, std::unique_ptr<remoting::BlockingClient>> namesrv_clients;
  std::shared_ptr<remoting::RequestHandler> keep_alive;  // forwards the broker port to `broker`

  std::string namesrv_addr() const {
    if (name_server) return options.host + ":" + std::to_string(namesrv_server->port());
    return options.namesrv_addr;
  }

  // Sends REGISTER_BROKER (or UNREGISTER_BROKER) to every remote name server.
  void call_remote_namesrvs(bool unregister) {
    auto reg = broker->registration();
    for (const auto& addr : split_addrs(options.namesrv_addr)) {
      auto& client = namesrv_clients[addr];
      if (!client) client = std::make_unique<remoting::BlockingClient>();
      if (!client->connected()) {
        if (auto c = client->connect(addr, kRpcTimeout); !c.ok()) {
          logger("broker")->warn("name server {}: {}", addr, c.error().message());
          continue;
        }
      }
      rocketmq::RemotingCommand request;
      if (unregister) {
        rocketmq::UnregisterBrokerRequestHeader h{reg.broker_name, reg.broker_addr,
                                                  reg.cluster_name, reg.broker_id};
        request = rocketmq::RemotingCommand::request(rocketmq::request_code::UNREGISTER_BROKER,
                                                     h.to_ext_fields());
      } else {
        rocketmq::RegisterBrokerBody body;
        body.data_version = reg.data_version;
        body.topic_config_table = reg.topic_config_table;
        std::string json = body.to_json();
        rocketmq::RegisterBrokerRequestHeader h;
        h.broker_name = reg.broker_name;
        h.broker_addr = reg.broker_addr;
        h.cluster_name = reg.cluster_name;
        h.ha_server_addr = reg.ha_server_addr;
        h.broker_id = reg.broker_id;
        h.body_crc32 = static_cast<std::int32_t>(rocketmq::body_crc32(json));
        request = rocketmq::RemotingCommand::request(rocketmq::request_code::REGISTER_BROKER,
                                                     h.to_ext_fields());
        request.body = std::move(json);
      }
      auto reply = client->invoke(std::move(request), kRpcTimeout);
      if (!reply.ok()) {
        logger("broker")->warn("name server {}: {}", addr, reply.error().message());
        client->close();
      } else if (reply->code != rocketmq::response_code::SUCCESS) {
        logger("broker")->warn("name server {} refused registration: {}", addr, reply->remark);
      }
    }
  }

  void run_housekeeping() {
    auto next_register = std::chrono::steady_clock::now();
    auto next_scan = std::chrono::steady_clock::now() + kNamesrvScan;
    std::unique_lock lock(mutex);
    while (!stopping) {
      cv.wait_for(lock, kTick, [&] { return stopping || register_requested; });
      if (stopping) break;
      bool do_register = register_requested || std::chrono::steady_clock::now() >= next_register;
      register_requested = false;
      lock.unlock();
      broker->tick();
      auto now = std::chrono::steady_clock::now();
      if (do_register) {
        if (name_server) {
          name_server->register_broker(broker->registration());
        } else {
          call_remote_namesrvs(/*unregister=*/false);
        }
        next_register = now + options.register_interval;
      }
      if (name_server && now >= next_scan) {
        name_server->expire_inactive_brokers();
        next_scan = now + kNamesrvScan;
      }
      lock.lock();
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      stopped = true;
      stopping = true;
    }
    cv.notify_all();
    if (housekeeping.joinable()) housekeeping.join();
    if (broker) {
      auto reg = broker->registration();
      if (name_server) {
        name_server->unregister_broker(reg.cluster_name, reg.broker_name, reg.broker_addr, 0);
      } else {
        call_remote_namesrvs(/*unregister=*/true);
      }
    }
    for (auto* s : {vip_server.get(), broker_server.get(), namesrv_server.get()}) {
      if (s) s->stop();
    }
    work.reset();
    // Give queued closes a moment to run, then stop the loop.
    io.run_for(std::chrono::milliseconds(0));
    io.stop();
    for (auto& t : io_threads) {
      if (t.joinable()) t.join();
    }
    if (store) {
      if (auto r = store->close(); !r.ok()) {
        logger("broker")->error("closing the store: {}", r.error().message());
      }
    }
  }
};

EmbeddedBroker::EmbeddedBroker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedBroker::~EmbeddedBroker() {
  if (impl_) impl_->stop();
}

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start(EmbeddedBrokerOptions options) {
  if (options.store.dir.empty()) {
    return Error(ErrorCode::kInvalidConfig, "the broker needs a store directory");
  }
  if (!options.run_namesrv && options.namesrv_addr.empty()) {
    return Error(ErrorCode::kInvalidConfig,
                 "without its own name server the broker needs a name server address");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto& s = *impl;
  RMQC_ASSIGN_OR_RETURN(s.store, MessageStore::open(options.store));

  if (options.run_namesrv) {
    s.name_server = std::make_unique<NameServer>(options.namesrv_broker_expiry);
    remoting::ServerOptions ns_options;
    ns_options.host = options.host;
    ns_options.port = options.namesrv_port;
    ns_options.name = "namesrv";
    RMQC_ASSIGN_OR_RETURN(s.namesrv_server,
                          remoting::RemotingServer::start(s.io, ns_options, *s.name_server));
  }

  // The broker's address needs its port, known only once it listens (port 0 in tests): listen
  // with a forwarding handler, then create the broker and point the handler at it. The io
  // threads start after that, so no request can reach an unset target.
  class Deferred final : public remoting::RequestHandler {
   public:
    Broker* target = nullptr;
    void on_request(const remoting::ConnectionPtr& c, rocketmq::RemotingCommand r) override {
      target->on_request(c, std::move(r));
    }
    void on_close(const remoting::ConnectionPtr& c) override { target->on_close(c); }
  };
  remoting::ServerOptions broker_options;
  broker_options.host = options.host;
  broker_options.port = options.broker_port;
  broker_options.name = "broker";
  auto deferred = std::make_shared<Deferred>();
  RMQC_ASSIGN_OR_RETURN(s.broker_server,
                        remoting::RemotingServer::start(s.io, broker_options, *deferred));
  s.broker_addr = options.host + ":" + std::to_string(s.broker_server->port());
  s.broker = std::make_unique<Broker>(
      options.broker, *s.store, s.broker_addr,
      [&io = s.io](std::function<void()> fn) { asio::post(io, std::move(fn)); });
  deferred->target = s.broker.get();
  if (options.vip_port) {
    remoting::ServerOptions vip_options = broker_options;
    vip_options.port = options.broker_port >= 2 ? options.broker_port - 2 : 0;
    vip_options.name = "broker-vip";
    RMQC_ASSIGN_OR_RETURN(
        s.vip_server, remoting::RemotingServer::start(s.io, vip_options, s.broker->vip_handler()));
  }
  Impl* raw = impl.get();
  s.broker->set_registrar([raw](const BrokerRegistration& reg, bool) {
    if (raw->name_server) {
      raw->name_server->register_broker(reg);  // in-process: routable at once
      return;
    }
    {
      std::lock_guard lock(raw->mutex);
      raw->register_requested = true;
    }
    raw->cv.notify_all();
  });
  // Keep the forwarding handler alive as long as the server.
  s.keep_alive = deferred;

  s.work.emplace(asio::make_work_guard(s.io));
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    // Network I/O and request handling of the name server and the broker.
    s.io_threads.emplace_back([raw, i] {
      set_thread_name("broker-io-" + std::to_string(i));
      raw->io.run();
    });
  }
  if (s.name_server) {
    s.name_server->register_broker(s.broker->registration());
  } else {
    s.call_remote_namesrvs(false);
  }
  s.housekeeping = std::thread([raw] {
    set_thread_name("broker-hk");
    raw->run_housekeeping();
  });
  logger("broker")->info("broker {} listening on {} (name server {})", options.broker.broker_name,
                         s.broker_addr, s.namesrv_addr());
  return std::unique_ptr<EmbeddedBroker>(new EmbeddedBroker(std::move(impl)));
}

std::string EmbeddedBroker::namesrv_addr() const {
  return impl_->namesrv_addr();
}
std::string EmbeddedBroker::broker_addr() const {
  return impl_->broker_addr;
}
std::uint16_t EmbeddedBroker::broker_port() const {
  return impl_->broker_server->port();
}
std::uint16_t EmbeddedBroker::namesrv_port() const {
  return impl_->namesrv_server ? impl_->namesrv_server->port() : 0;
}
Broker& EmbeddedBroker::broker() {
  return *impl_->broker;
}
MessageStore& EmbeddedBroker::store() {
  return *impl_->store;
}
NameServer* EmbeddedBroker::name_server() {
  return impl_->name_server.get();
}
void EmbeddedBroker::stop() {
  impl_->stop();
}

}  // namespace rmqc::broker
