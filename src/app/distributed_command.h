#pragma once

#include <string>
#include <vector>

namespace rmqc::app {

struct DistributedCommandOptions {
  std::string worker_conf;
  std::vector<std::string> connector_files;  // as for standalone; created or updated at start
};

// `rmq-connect distributed`: one worker of a cluster coordinated through the RocketMQ cluster at
// namesrvAddr (required; no embedded broker), until SIGINT/SIGTERM. Returns the exit code: 2 for
// a bad or incomplete worker file, 1 when the worker cannot start (a workerId already in the
// cluster included).
int run_distributed_command(const DistributedCommandOptions& options);

}  // namespace rmqc::app
