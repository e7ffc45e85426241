#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rmqc::app {

// `rmq-connect admin ...`: mqadmin-style tools and quick-start producer/consumer against any
// name server (they double as the client's smoke tests against real brokers).
struct AdminCommandOptions {
  std::string namesrv;  // -n; default $NAMESRV_ADDR or 127.0.0.1:9876
  std::string access_key;
  std::string secret_key;

  std::string topic;
  std::string group;
  std::string cluster;
  std::int32_t queues = 8;
  std::vector<std::string> topics;  // group progress

  std::string key;
  bool unique_key = false;  // message query: -k is a unique key (UNIQ_KEY)
  std::int32_t max_num = 32;
  std::string msg_id;  // message view
  std::string tags;
  std::vector<std::string> properties;  // k=v
  bool lines = false;
  std::string body;

  bool from_beginning = false;
  std::int64_t count = -1;
  std::string expression = "*";

  std::string bench_what;  // produce | consume
  std::string mode = "sync";
  std::size_t size = 1024;
  int concurrency = 4;
  std::size_t batch_size = 32;

  // Which leaf ran (set by the CLI callbacks).
  std::string action;
};

// Adds the `admin` subcommand tree to `admin`.
void add_admin_options(CLI::App& admin, AdminCommandOptions& options);

// Runs the parsed admin action; returns the exit code.
int run_admin_command(AdminCommandOptions options);

}  // namespace rmqc::app
