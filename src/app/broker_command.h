#pragma once

#include "broker/server/embedded_broker.h"

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rmqc::app {

struct BrokerCommandOptions {
  broker::EmbeddedBrokerOptions broker;
  std::string flush = "async";
  bool no_namesrv = false;
  int retention_hours = 72;
  std::int64_t max_store_mb = 0;
  std::vector<std::string> acl_accounts;  // ACCESS:SECRET
};

// Adds the `broker` subcommand's options to `command`.
void add_broker_options(CLI::App& command, BrokerCommandOptions& options);

// Runs name server + broker until SIGINT or SIGTERM; returns the exit code.
int run_broker_command(BrokerCommandOptions options);

// Blocks SIGINT/SIGTERM in every thread (call before starting threads) and waits for one.
void block_stop_signals();
int wait_for_stop_signal();

}  // namespace rmqc::app
