#include "app/broker_command.h"

#include "base/logging.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>

namespace rmqc::app {

void add_broker_options(CLI::App& command, BrokerCommandOptions& o) {
  command.add_option("--store", o.broker.store.dir, "Store directory (created if missing)")
      ->required();
  command.add_option("--host", o.broker.host, "Address to listen on and advertise")
      ->capture_default_str();
  command.add_option("--namesrv-port", o.broker.namesrv_port, "Name server port")
      ->capture_default_str();
  command
      .add_option("--broker-port", o.broker.broker_port,
                  "Broker port (the VIP channel listens on broker-port - 2)")
      ->capture_default_str();
  command.add_flag("--no-namesrv", o.no_namesrv,
                   "Run no name server here; register with --namesrv instead");
  command.add_option("--namesrv", o.broker.namesrv_addr,
                     "Name server(s) to register with, host:port[;host:port]");
  command.add_option("--flush", o.flush, "Flush policy: async (every 500 ms) or sync (per send)")
      ->check(CLI::IsMember({"sync", "async"}))
      ->capture_default_str();
  command.add_option("--broker-name", o.broker.broker.broker_name, "Broker name")
      ->capture_default_str();
  command.add_option("--cluster", o.broker.broker.cluster_name, "Cluster name")
      ->capture_default_str();
  command
      .add_option("--auto-create-topic", o.broker.broker.auto_create_topic,
                  "Create unknown topics on first send")
      ->capture_default_str();
  command
      .add_option("--default-queues", o.broker.broker.default_topic_queue_nums,
                  "Queues of auto-created topics")
      ->capture_default_str();
  command
      .add_option("--message-delay-level", o.broker.broker.message_delay_level,
                  "Delay of each level of DELAY=n and of consumer retries (messageDelayLevel)")
      ->capture_default_str();
  auto& tx = o.broker.broker.transaction;
  command
      .add_option_function<std::int64_t>(
          "--transaction-check-interval",
          [&tx](std::int64_t ms) { tx.check_interval = std::chrono::milliseconds(ms); },
          "Milliseconds between check-back passes over unresolved transactions "
          "(transactionCheckInterval)")
      ->check(CLI::PositiveNumber)
      ->default_str(std::to_string(tx.check_interval.count()));
  command
      .add_option_function<std::int64_t>(
          "--transaction-timeout",
          [&tx](std::int64_t ms) { tx.timeout = std::chrono::milliseconds(ms); },
          "Milliseconds a half message is left alone before its first check-back "
          "(transactionTimeOut)")
      ->check(CLI::NonNegativeNumber)
      ->default_str(std::to_string(tx.timeout.count()));
  command
      .add_option("--transaction-check-max", tx.check_max,
                  "Check-backs of a transaction before it is moved to TRANS_CHECK_MAX_TIME_TOPIC "
                  "(transactionCheckMax)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--retention-hours", o.retention_hours,
                  "Delete commit-log segments older than this many hours")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--max-store-mb", o.max_store_mb,
                  "Reject sends once the store holds this many MiB (0 = no limit)")
      ->capture_default_str();
  command
      .add_option("--acl-account", o.acl_accounts,
                  "Enable ACL: accept only requests signed by ACCESS_KEY:SECRET_KEY (repeatable)")
      ->type_name("ACCESS:SECRET");
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int run_broker_command(BrokerCommandOptions options) {
  auto log = logger("broker");
  options.broker.run_namesrv = !options.no_namesrv;
  if (options.no_namesrv && options.broker.namesrv_addr.empty()) {
    std::fprintf(stderr, "rmq-connect broker: --no-namesrv needs --namesrv host:port\n");
    return 2;
  }
  for (const auto& account : options.acl_accounts) {
    auto colon = account.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == account.size()) {
      std::fprintf(stderr, "rmq-connect broker: --acl-account needs ACCESS_KEY:SECRET_KEY\n");
      return 2;
    }
    options.broker.broker.acl_enable = true;
    options.broker.broker.acl_accounts[account.substr(0, colon)] = account.substr(colon + 1);
  }
  options.broker.store.retention_age = std::chrono::hours(options.retention_hours);
  options.broker.store.max_store_bytes = options.max_store_mb * 1024 * 1024;
  options.broker.store.flush_mode =
      options.flush == "sync" ? broker::FlushMode::kSync : broker::FlushMode::kAsync;
  block_stop_signals();
  auto started = broker::EmbeddedBroker::start(options.broker);
  if (!started.ok()) {
    std::fprintf(stderr, "rmq-connect broker: %s\n", started.error().to_string().c_str());
    return 1;
  }
  auto& b = *started;
  // One line scripts can wait for: the addresses in use.
  std::printf("broker ready: namesrv=%s broker=%s\n", b->namesrv_addr().c_str(),
              b->broker_addr().c_str());
  std::fflush(stdout);
  int sig = wait_for_stop_signal();
  log->info("signal {}: shutting down", sig);
  b->stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace rmqc::app
