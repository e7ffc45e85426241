// Seed 001's operations endpoints, answered in the same {"status","body"} envelope as seed 002.
#include "rest/routes.h"

namespace rmqc::rest {

using runtime::TargetState;

namespace {

constexpr ResponseStyle kSeed = ResponseStyle::kSeed;

RestResponse seed_error(const Error& error) {
  return error_response(kSeed, error);
}

// Applies op to every connector (one deleted meanwhile is skipped); "N connectors are <done>".
template <typename Op>
RestResponse for_every(const RouteContext& ctx, Op op, std::string_view done) {
  std::size_t count = 0;
  for (const auto& name : ctx.controller.connector_names()) {
    Result<void> r = op(name);
    if (r.ok()) {
      ++count;
    } else if (r.error().code() != ErrorCode::kNotFound) {
      return error_response(kSeed, http_status(r.error().code()),
                            connector_message(name, r.error().message()));
    }
  }
  return seed_ok(std::to_string(count) + " connectors are " + std::string(done));
}

Json task_view(const std::string& connector, const runtime::TaskState& task,
               const runtime::ConnectorInfo& info, const Redactor& redactor) {
  Json config = Json::object();
  if (task.id >= 0 && static_cast<std::size_t>(task.id) < info.task_configs.size()) {
    config = redactor.config(info.task_configs[static_cast<std::size_t>(task.id)]);
  }
  return {{"connectorName", connector},
          {"taskId", task.id},
          {"state", runtime::run_state_name(task.state)},
          {"trace", task.trace ? Json(*task.trace) : Json(nullptr)},
          {"workerId", task.worker_id},
          {"config", std::move(config)}};
}

}  // namespace

void add_ops_routes(Router& router, const RouteContext& ctx) {
  auto& controller = ctx.controller;
  const Redactor& redactor = ctx.redactor;

  router.add("GET", "/getConnectorTask", kSeed, [&](const RestRequest&) {
    Json connectors = Json::object();
    Json tasks = Json::object();
    for (const auto& name : controller.connector_names()) {
      auto info = controller.connector_info(name);
      if (!info.ok()) continue;
      connectors[name] = redactor.config(info->config);
      Json list = Json::array();
      for (const auto& t : info->task_configs) list.push_back(redactor.config(t));
      tasks[name] = std::move(list);
    }
    return seed_ok(
        {{"connectorConfigs", std::move(connectors)}, {"taskConfigs", std::move(tasks)}});
  });
  router.add("GET", "/getConnectors", kSeed, [&](const RestRequest&) {
    Json body = Json::object();
    for (const auto& name : controller.connector_names()) {
      auto info = controller.connector_info(name);
      if (info.ok()) body[name] = redactor.config(info->config);
    }
    return seed_ok(std::move(body));
  });
  router.add("GET", "/getConnectors/:name", kSeed, [&](const RestRequest& req) {
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return seed_error(info.error());
    return seed_ok(redactor.config(info->config));
  });
  router.add("GET", "/getConnectorTask/:name", kSeed, [&](const RestRequest& req) {
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return seed_error(info.error());
    return seed_ok(seed_info(*info, redactor));
  });
  // The status plus whether the connector is enabled (target state not STOPPED).
  router.add("GET", "/getConnectorsStatus/:name", kSeed, [&](const RestRequest& req) {
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return seed_error(info.error());
    auto state = controller.connector_state(req.params[0]);
    if (!state.ok()) return seed_error(state.error());
    Json body = seed_status(*state);
    add_restart_info(body, kSeed, ctx, req.params[0]);
    body["targetState"] = runtime::target_state_name(info->target_state);
    body["enabled"] = info->target_state != TargetState::kStopped;
    return seed_ok(std::move(body));
  });

  add_mutating(router, ctx, "/logMsgDetail/:enabled", [&](const RestRequest& req) {
    auto on = parse_bool(req.params[0], "trueOrFalse");
    if (!on.ok()) return seed_error(on.error());
    controller.set_message_logging(*on);
    return seed_ok(*on ? "Message logging enabled" : "Message logging disabled");
  });
  router.add("GET", "/logMsgDetail", kSeed,
             [&](const RestRequest&) { return seed_ok(controller.message_logging()); });

  router.add("GET", "/getAllocatedTask", kSeed,
             [&](const RestRequest&) { return seed_ok(allocated_tasks(ctx)); });
  // Every task of the cluster: grouped by worker id (true) or one list (false).
  router.add("GET", "/getAllTask/:byWorker", kSeed, [&](const RestRequest& req) {
    auto by_worker = parse_bool(req.params[0], "byWorker");
    if (!by_worker.ok()) return seed_error(by_worker.error());
    Json list = Json::array();
    Json grouped = Json::object();
    for (const auto& name : controller.connector_names()) {
      auto state = controller.connector_state(name);
      auto info = controller.connector_info(name);
      if (!state.ok() || !info.ok()) continue;
      for (const auto& task : state->tasks) {
        Json view = task_view(name, task, *info, redactor);
        if (*by_worker) {
          if (!grouped.contains(task.worker_id)) grouped[task.worker_id] = Json::array();
          grouped[task.worker_id].push_back(std::move(view));
        } else {
          list.push_back(std::move(view));
        }
      }
    }
    return seed_ok(*by_worker ? std::move(grouped) : std::move(list));
  });

  add_mutating(router, ctx, "/connectors/create/:name", [&](const RestRequest& req) {
    auto config = config_from_request(req);
    if (!config.ok()) return seed_error(config.error());
    auto put = controller.put_connector(req.params[0], *config, {});
    if (!put.ok()) {
      return error_response(kSeed, http_status(put.error().code()),
                            redactor.scrub(put.error().message(), *config));
    }
    return seed_ok(redactor.config(*config));
  });
  // Only the given keys change; the others keep their values.
  add_mutating(router, ctx, "/connectors/update/:name", [&](const RestRequest& req) {
    auto patch = config_from_request(req);
    if (!patch.ok()) return seed_error(patch.error());
    auto merged = controller.patch_connector(req.params[0], *patch);
    if (!merged.ok()) {
      // The message may quote any key's value: scrub with the whole config, as patched.
      KeyValue config = *patch;
      if (auto info = controller.connector_info(req.params[0]); info.ok()) {
        for (const auto& [key, value] : info->config) {
          if (!config.contains(key)) config.put(key, value);
        }
      }
      return error_response(kSeed, http_status(merged.error().code()),
                            redactor.scrub(merged.error().message(), config));
    }
    return seed_ok(redactor.config(*merged));
  });
  add_mutating(router, ctx, "/connectors/taskNum/:name/:taskNum", [&](const RestRequest& req) {
    auto n = parse_index(req.params[1], "taskNum");
    if (!n.ok()) return seed_error(n.error());
    if (*n < 1) return error_response(kSeed, 400, "taskNum must be at least 1");
    auto r = controller.set_max_tasks(req.params[0], *n);
    if (!r.ok()) return seed_error(r.error());
    return seed_ok(connector_message(req.params[0], "task number set to " + std::to_string(*n)));
  });

  add_mutating(router, ctx, "/connectors/all/enable", [&](const RestRequest&) {
    return for_every(
        ctx,
        [&](const std::string& n) { return controller.set_target_state(n, TargetState::kStarted); },
        "enabled");
  });
  add_mutating(router, ctx, "/connectors/all/disable", [&](const RestRequest&) {
    return for_every(
        ctx,
        [&](const std::string& n) { return controller.set_target_state(n, TargetState::kStopped); },
        "disabled");
  });
  add_mutating(router, ctx, "/connectors/all/remove", [&](const RestRequest&) {
    return for_every(
        ctx, [&](const std::string& n) { return controller.delete_connector(n); }, "deleted");
  });
  add_mutating(router, ctx, "/connectors/single/:name/enable", [&](const RestRequest& req) {
    auto r = controller.set_target_state(req.params[0], TargetState::kStarted);
    if (!r.ok()) return seed_error(r.error());
    return seed_ok(connector_message(req.params[0], "enabled successfully"));
  });
  add_mutating(router, ctx, "/connectors/single/:name/disable", [&](const RestRequest& req) {
    auto r = controller.set_target_state(req.params[0], TargetState::kStopped);
    if (!r.ok()) return seed_error(r.error());
    return seed_ok(connector_message(req.params[0], "disabled successfully"));
  });
  add_mutating(router, ctx, "/connectors/single/:name/remove", [&](const RestRequest& req) {
    auto r = controller.delete_connector(req.params[0]);
    if (!r.ok()) return seed_error(r.error());
    return seed_ok(connector_message(req.params[0], "deleted successfully"));
  });
}

}  // namespace rmqc::rest
