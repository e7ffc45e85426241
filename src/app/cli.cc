#include "app/cli.h"

#include "app/admin_command.h"
#include "app/broker_command.h"
#include "app/ctl_command.h"
#include "app/distributed_command.h"
#include "app/standalone_command.h"
#include "base/logging.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace rmqc::app {
int run_cli(int argc, char** argv) {
  CLI::App cli{"rocketmq-connect-cpp: a native RocketMQ Connect worker", "rmq-connect"};
  cli.require_subcommand(1);
  cli.set_version_flag("-V,--version", std::string(kVersion));

  std::string log_level = "info";
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();

  auto* version = cli.add_subcommand("version", "Print the version and exit");

  std::string worker_conf;
  std::vector<std::string> connector_files;
  auto* standalone = cli.add_subcommand(
      "standalone",
      "Run one worker; state in local files (embedded broker when namesrvAddr is empty)");
  standalone->add_option("worker_conf", worker_conf, "Worker configuration file")->required();
  standalone->add_option("connectors", connector_files, "Connector JSON files to create at start");

  auto* distributed = cli.add_subcommand(
      "distributed",
      "Run one worker of a cluster; state shared through the RocketMQ cluster at namesrvAddr");
  distributed->add_option("worker_conf", worker_conf, "Worker configuration file")->required();
  distributed->add_option("connectors", connector_files,
                          "Connector JSON files to create (or update) at start");

  auto* broker = cli.add_subcommand(
      "broker", "Run the embedded RocketMQ-compatible name server and broker until Ctrl-C");
  BrokerCommandOptions broker_options;
  add_broker_options(*broker, broker_options);

  auto* admin = cli.add_subcommand(
      "admin", "RocketMQ tools: topics, groups, send, consume, bench (any name server)");
  AdminCommandOptions admin_options;
  add_admin_options(*admin, admin_options);

  auto* ctl = cli.add_subcommand("ctl", "Operate a running worker over its REST API");
  // Everything after `ctl` is ctl's own command line (its own parser, help and exit codes).
  ctl->prefix_command();
  ctl->set_help_flag();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (!set_log_level(log_level)) {
    std::fprintf(stderr, "rmq-connect: unknown log level '%s'\n", log_level.c_str());
    return 2;
  }

  if (*version) {
    std::printf("rmq-connect %s\n", std::string(kVersion).c_str());
    return 0;
  }
  if (*standalone) return run_standalone_command({worker_conf, connector_files});
  if (*distributed) return run_distributed_command({worker_conf, connector_files});
  if (*broker) return run_broker_command(std::move(broker_options));
  if (*admin) return run_admin_command(std::move(admin_options));
  if (*ctl) return run_ctl_command(ctl->remaining());
  return 2;
}

}  // namespace rmqc::app
