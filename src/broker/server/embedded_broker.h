#pragma once

#include "rmqc/base/result.h"

#include "broker/server/broker.h"
#include "broker/server/name_server.h"
#include "broker/store/store_config.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rmqc::broker {

struct EmbeddedBrokerOptions {
  StoreConfig store;  // store.dir is required
  BrokerConfig broker;
  std::string host = "127.0.0.1";     // listen and advertised address
  std::uint16_t namesrv_port = 9876;  // 0 = any free port
  std::uint16_t broker_port = 10911;  // 0 = any free port; the VIP port is broker_port - 2
  bool run_namesrv = true;            // false: register with namesrv_addr instead
  std::string namesrv_addr;           // "host:port[;host:port]" when run_namesrv is false
  bool vip_port = true;
  int io_threads = 2;
  std::chrono::milliseconds register_interval{30'000};
  std::chrono::milliseconds namesrv_broker_expiry{120'000};
};

// Name server + broker + store in this process: what `rmq-connect broker` runs, and what the
// worker starts when namesrvAddr is empty. Threads: io_threads for the network, one for
// housekeeping (long-poll timeouts, client/broker expiry, name-server registration).
class EmbeddedBroker {
 public:
  static Result<std::unique_ptr<EmbeddedBroker>> start(EmbeddedBrokerOptions options);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "host:port" of the name server clients should use (ours, or the configured ones).
  std::string namesrv_addr() const;
  std::string broker_addr() const;
  std::uint16_t broker_port() const;
  std::uint16_t namesrv_port() const;  // 0 when no name server runs here

  Broker& broker();
  MessageStore& store();
  NameServer* name_server();  // nullptr when not running one

  // Unregisters from the name servers, closes connections, flushes the store. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit EmbeddedBroker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rmqc::broker
