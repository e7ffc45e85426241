#pragma once

#include "rest/responses.h"
#include "rest/rest_server.h"
#include "rest/router.h"
#include "runtime/connect_controller.h"

#include <string>

namespace rmqc::rest {

// What every route needs; outlives the router.
struct RouteContext {
  runtime::ConnectController& controller;
  Redactor redactor;
  RestOptions options;
  std::string commit;
};

// Seed 002's routes ({"status","body"} envelope).
void add_seed_routes(Router& router, const RouteContext& ctx);
// Seed 001's operations (task count, enable/disable, message logging, task views).
void add_ops_routes(Router& router, const RouteContext& ctx);
// Kafka-Connect-style verbs, plus the GETs whose path the seed shares (see ResponseStyle).
void add_kafka_routes(Router& router, const RouteContext& ctx);
// Operating the worker: /metrics (Prometheus), /health, /ready, /admin/loggers.
void add_operation_routes(Router& router, const RouteContext& ctx);
// The web dashboard: GET /ui (the page) and /ui/{asset}, embedded in the binary.
void add_ui_routes(Router& router, const RouteContext& ctx);

// Registers a mutating seed route: POST always, GET as the seeds' compatibility alias unless
// RestOptions::allow_mutating_get is off.
void add_mutating(Router& router, const RouteContext& ctx, std::string_view pattern,
                  RouteHandler handler);

// Shared by the route files.
std::string connector_message(std::string_view name, std::string_view what);  // Connector [x] ..
// The config given as ?config=<JSON> or as the JSON request body.
Result<KeyValue> config_from_request(const RestRequest& request);
// "0", "12" -> int; anything else is InvalidArgument naming what.
Result<int> parse_index(std::string_view text, std::string_view what);
Result<bool> parse_bool(std::string_view text, std::string_view what);
// Adds each task's automatic restarts to a status body of seed_status()/kafka_status()
// ("autoRestart" / "auto_restart"), or to one task's status.
void add_restart_info(Json& status, ResponseStyle style, const RouteContext& ctx,
                      const std::string& connector);
void add_task_restart_info(Json& task_status, ResponseStyle style, const RouteContext& ctx,
                           const std::string& connector, int task);
// Tasks assigned to this worker, in the Java /allocated/tasks shape.
Json allocated_tasks(const RouteContext& ctx);

}  // namespace rmqc::rest
