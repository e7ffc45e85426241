#include "app/standalone_command.h"

#include "app/broker_command.h"
#include "app/worker_common.h"
#include "base/logging.h"
#include "broker/server/embedded_broker.h"
#include "runtime/metrics/metrics_reporter.h"
#include "runtime/worker.h"

#include <chrono>
#include <cstdio>

namespace rmqc::app {

int run_standalone_command(const StandaloneCommandOptions& options) {
  auto started_at = std::chrono::steady_clock::now();
  auto log = logger("worker");
  block_stop_signals();
  auto config = load_worker_config_or_report("standalone", options.worker_conf);
  if (!config) return 2;
  WorkerPlugins plugins(*config);

  std::unique_ptr<broker::EmbeddedBroker> embedded;
  std::string namesrv = config->namesrv_addr;
  if (namesrv.empty()) {
    broker::EmbeddedBrokerOptions bo;
    bo.store.dir = config->store_path_root_dir + "/broker";
    bo.store.flush_mode =
        config->embedded_flush == "sync" ? broker::FlushMode::kSync : broker::FlushMode::kAsync;
    bo.namesrv_port = config->embedded_namesrv_port;
    bo.broker_port = config->embedded_broker_port;
    bo.broker.auto_create_topic = config->auto_create_topic_enable;
    if (config->acl_enable) {
      bo.broker.acl_enable = true;
      bo.broker.acl_accounts[config->access_key] = config->secret_key;
    }
    auto b = broker::EmbeddedBroker::start(bo);
    if (!b.ok()) {
      std::fprintf(stderr, "rmq-connect standalone: embedded broker: %s\n",
                   b.error().to_string().c_str());
      return 1;
    }
    embedded = std::move(b).value();
    namesrv = embedded->namesrv_addr();
  }

  runtime::StandaloneWorker::Options wo;
  wo.config = *config;
  wo.registry = &plugins.registry();
  wo.namesrv_addr = namesrv;
  wo.reload_plugins = plugins.reloader();
  auto worker = runtime::StandaloneWorker::start(wo);
  if (!worker.ok()) {
    std::fprintf(stderr, "rmq-connect standalone: %s\n", worker.error().to_string().c_str());
    return 1;
  }
  auto rest = start_rest_api(*config, **worker);
  if (!rest.ok()) {
    std::fprintf(stderr, "rmq-connect standalone: REST API: %s\n",
                 rest.error().to_string().c_str());
    return 1;
  }
  print_ready_line(*config, (*rest)->port(), namesrv, "", started_at);
  // Metrics reporters (metrics.reporters): a failure to start one is logged, the worker runs on.
  std::unique_ptr<runtime::MetricsReporting> reporting;
  if (auto r = runtime::MetricsReporting::start(*config, **worker, namesrv); r.ok()) {
    reporting = std::move(r).value();
  } else {
    log->error("metrics reporters not started: {}", r.error().to_string());
  }

  (void)(*worker)->restore();
  apply_connector_files(**worker, options.connector_files);

  int sig = wait_for_stop_signal();
  log->info("signal {}: shutting down", sig);
  (*rest)->stop();
  if (reporting) reporting->stop();
  (*worker)->stop();
  if (embedded) embedded->stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace rmqc::app
