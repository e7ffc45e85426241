#pragma once

#include <string>
#include <vector>

namespace rmqc::app {

// Exit codes of `rmq-connect ctl` (docs/ctl.md).
enum CtlExit : int {
  kCtlOk = 0,
  kCtlRefused = 1,      // the worker refused the request (4xx/5xx but 404/401/403), or validate
                        // found errors
  kCtlUsage = 2,        // bad command line or input file
  kCtlUnreachable = 3,  // no HTTP answer: connection refused, timeout, TLS failure
  kCtlNotFound = 4,     // 404: unknown connector, task or plugin
  kCtlAuth = 5,         // 401 or 403
};

// Runs `rmq-connect ctl ARGS...` (`args`: what follows `ctl`, in order); returns the exit code.
int run_ctl_command(std::vector<std::string> args);

}  // namespace rmqc::app
