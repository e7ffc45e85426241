#include "app/distributed_command.h"

#include "app/broker_command.h"
#include "app/worker_common.h"
#include "base/logging.h"
#include "runtime/distributed_worker.h"
#include "runtime/metrics/metrics_reporter.h"

#include <chrono>
#include <cstdio>

namespace rmqc::app {

int run_distributed_command(const DistributedCommandOptions& options) {
  auto started_at = std::chrono::steady_clock::now();
  auto log = logger("worker");
  block_stop_signals();
  auto config = load_worker_config_or_report("distributed", options.worker_conf);
  if (!config) return 2;
  if (config->namesrv_addr.empty()) {
    std::fprintf(stderr,
                 "rmq-connect distributed: %s: namesrvAddr is required. The workers of a cluster "
                 "meet and share their state through a RocketMQ cluster: set namesrvAddr to its "
                 "name servers (host:port;host:port), an Apache RocketMQ 4.9/5.x or `rmq-connect "
                 "broker`. For one worker with an embedded broker use `rmq-connect standalone`.\n",
                 options.worker_conf.c_str());
    return 2;
  }
  WorkerPlugins plugins(*config);

  runtime::DistributedWorker::Options wo;
  wo.config = *config;
  wo.registry = &plugins.registry();
  wo.namesrv_addr = config->namesrv_addr;
  wo.reload_plugins = plugins.reloader();
  auto worker = runtime::DistributedWorker::start(std::move(wo));
  if (!worker.ok()) {
    if (worker.error().code() == ErrorCode::kAlreadyExists) {
      std::fprintf(stderr,
                   "rmq-connect distributed: workerId '%s' is already a member of cluster '%s' "
                   "(another worker runs with it, or the broker has not yet dropped this "
                   "worker's previous run): give every worker of a cluster its own workerId. "
                   "(%s)\n",
                   config->worker_id.c_str(), config->connect_cluster_id.c_str(),
                   worker.error().to_string().c_str());
    } else {
      std::fprintf(stderr, "rmq-connect distributed: %s\n", worker.error().to_string().c_str());
    }
    return 1;
  }
  auto rest = start_rest_api(*config, **worker);
  if (!rest.ok()) {
    std::fprintf(stderr, "rmq-connect distributed: REST API: %s\n",
                 rest.error().to_string().c_str());
    (*worker)->stop();  // leave the cluster at once rather than when the broker notices
    return 1;
  }
  print_ready_line(*config, (*rest)->port(), config->namesrv_addr, config->connect_cluster_id,
                   started_at);
  // Metrics reporters (metrics.reporters): a failure to start one is logged, the worker runs on.
  std::unique_ptr<runtime::MetricsReporting> reporting;
  if (auto r = runtime::MetricsReporting::start(*config, **worker, config->namesrv_addr); r.ok()) {
    reporting = std::move(r).value();
  } else {
    log->error("metrics reporters not started: {}", r.error().to_string());
  }

  apply_connector_files(**worker, options.connector_files);

  int sig = wait_for_stop_signal();
  log->info("signal {}: shutting down", sig);
  (*rest)->stop();
  if (reporting) reporting->stop();
  (*worker)->stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace rmqc::app
