#pragma once

#include <string>
#include <vector>

namespace rmqc::app {

struct StandaloneCommandOptions {
  std::string worker_conf;
  std::vector<std::string> connector_files;  // JSON: {"name":..,"config":{..}} or a flat config
};

// `rmq-connect standalone`: the worker (and, with no namesrvAddr, the embedded broker) until
// SIGINT/SIGTERM. Returns the exit code.
int run_standalone_command(const StandaloneCommandOptions& options);

}  // namespace rmqc::app
