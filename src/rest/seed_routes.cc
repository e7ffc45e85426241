// Seed 002's REST API: every body wrapped as {"status":<code>,"body":...}, errors too, and the
// HTTP status always equal to "status" (the Java original answered errors with HTTP 200).
#include "rest/routes.h"

#include <charconv>
#include <functional>

namespace rmqc::rest {

using runtime::TargetState;

std::string connector_message(std::string_view name, std::string_view what) {
  return "Connector [" + std::string(name) + "] " + std::string(what);
}

Result<KeyValue> config_from_request(const RestRequest& request) {
  const std::string* text = request.query_value("config");
  RMQC_ASSIGN_OR_RETURN(
      Json json, parse_json_body(text ? std::string_view(*text) : std::string_view(request.body)));
  return config_from_json(json);
}

Result<int> parse_index(std::string_view text, std::string_view what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return Error(
        ErrorCode::kInvalidArgument,
        std::string(what) + " must be a non-negative integer, got '" + std::string(text) + "'");
  }
  return value;
}

Result<bool> parse_bool(std::string_view text, std::string_view what) {
  std::string lower = lowercase(text);
  if (lower == "true") return true;
  if (lower == "false") return false;
  return Error(ErrorCode::kInvalidArgument,
               std::string(what) + " must be true or false, got '" + std::string(text) + "'");
}

void add_mutating(Router& router, const RouteContext& ctx, std::string_view pattern,
                  RouteHandler handler) {
  if (ctx.options.allow_mutating_get) {
    router.add("GET", pattern, ResponseStyle::kSeed, handler, /*mutating=*/true);
  }
  router.add("POST", pattern, ResponseStyle::kSeed, std::move(handler));
}

Json allocated_tasks(const RouteContext& ctx) {
  Json out = {{"pendingTasks", Json::array()},
              {"runningTasks", Json::array()},
              {"stoppingTasks", Json::array()},
              {"stoppedTasks", Json::array()},
              {"errorTasks", Json::array()}};
  std::string me = ctx.controller.worker_info().worker_id;
  for (const auto& name : ctx.controller.connector_names()) {
    auto state = ctx.controller.connector_state(name);
    auto info = ctx.controller.connector_info(name);
    if (!state.ok() || !info.ok()) continue;  // deleted meanwhile
    for (const auto& task : state->tasks) {
      if (task.worker_id != me) continue;
      Json config = Json::object();
      if (task.id >= 0 && static_cast<std::size_t>(task.id) < info->task_configs.size()) {
        config = ctx.redactor.config(info->task_configs[static_cast<std::size_t>(task.id)]);
      }
      const char* bucket = "runningTasks";  // PAUSED tasks stay assigned, as in the original
      switch (task.state) {
        case runtime::RunState::kUnassigned:
          bucket = "pendingTasks";
          break;
        case runtime::RunState::kStopped:
        case runtime::RunState::kDestroyed:
          bucket = "stoppedTasks";
          break;
        case runtime::RunState::kFailed:
          bucket = "errorTasks";
          break;
        default:
          break;
      }
      out[bucket].push_back({{"connectorName", name},
                             {"taskId", task.id},
                             {"config", std::move(config)},
                             {"taskState", runtime::run_state_name(task.state)}});
    }
  }
  return out;
}

namespace {

constexpr ResponseStyle kSeed = ResponseStyle::kSeed;

RestResponse seed_error(const Error& error) {
  return error_response(kSeed, error);
}

ResponseStyle style_of(const RestRequest& req, ResponseStyle fallback) {
  if (const std::string* f = req.query_value("format")) {
    if (*f == "kafka") return ResponseStyle::kKafka;
    if (*f == "seed") return ResponseStyle::kSeed;
  }
  return fallback;
}

// Runs op on every connector; one deleted meanwhile is skipped. Other failures are collected
// (the rest still run) and reported together.
Result<std::vector<std::string>> for_all(
    const RouteContext& ctx, const std::function<Result<void>(const std::string&)>& op) {
  std::vector<std::string> done;
  std::string failures;
  ErrorCode code = ErrorCode::kOk;
  for (const auto& name : ctx.controller.connector_names()) {
    Result<void> r = op(name);
    if (r.ok()) {
      done.push_back(name);
    } else if (r.error().code() != ErrorCode::kNotFound) {
      if (code == ErrorCode::kOk) code = r.error().code();
      failures += (failures.empty() ? "" : "; ") + connector_message(name, r.error().message());
    }
  }
  if (code != ErrorCode::kOk) return Error(code, failures);
  return done;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

// Create-or-update with the config of ?config= or the body; answers the submitted config.
RestResponse put_config(const RouteContext& ctx, const std::string& name, const RestRequest& req,
                        bool allow_update) {
  auto config = config_from_request(req);
  if (!config.ok()) return seed_error(config.error());
  auto put = ctx.controller.put_connector(name, *config, {.allow_update = allow_update});
  if (!put.ok()) {
    return error_response(kSeed, http_status(put.error().code()),
                          ctx.redactor.scrub(put.error().message(), *config));
  }
  return seed_ok(ctx.redactor.config(*config));
}

RestResponse set_state(const RouteContext& ctx, const std::string& name, TargetState state,
                       std::string_view done) {
  auto r = ctx.controller.set_target_state(name, state);
  if (!r.ok()) return seed_error(r.error());
  return seed_ok(connector_message(name, done));
}

Json plugin_list(const RouteContext& ctx, bool connectors_only) {
  Json out = Json::array();
  for (const auto& p : ctx.controller.plugins()) {
    const char* type = nullptr;
    switch (p.kind) {
      case PluginKind::kSourceConnector:
        type = "SOURCE";
        break;
      case PluginKind::kSinkConnector:
        type = "SINK";
        break;
      case PluginKind::kConverter:
        type = "CONVERTER";
        break;
      case PluginKind::kTransform:
        type = "TRANSFORMATION";
        break;
      case PluginKind::kPredicate:
        type = "PREDICATE";
        break;
    }
    bool connector = p.kind == PluginKind::kSourceConnector || p.kind == PluginKind::kSinkConnector;
    if (connectors_only && !connector) continue;
    out.push_back({{"className", p.descriptor.class_name},
                   {"type", type},
                   {"version", p.descriptor.version}});
  }
  return out;
}

}  // namespace

void add_seed_routes(Router& router, const RouteContext& ctx) {
  auto& controller = ctx.controller;
  const Redactor& redactor = ctx.redactor;

  router.add("GET", "/getClusterInfo", kSeed,
             [&](const RestRequest&) { return seed_ok(controller.worker_info().workers); });
  router.add("GET", "/plugin/list", kSeed,
             [&](const RestRequest&) { return seed_ok(plugin_list(ctx, false)); });
  router.add("GET", "/plugin/list/connectors", kSeed,
             [&](const RestRequest&) { return seed_ok(plugin_list(ctx, true)); });
  add_mutating(router, ctx, "/plugin/reload", [&](const RestRequest&) {
    auto r = controller.reload_plugins();
    if (!r.ok()) return seed_error(r.error());
    return seed_ok("Plugin reload succeeded");
  });

  // GET /connectors/{name}: with ?config= the seed's create-or-update, else Kafka's info.
  router.add("GET", "/connectors/:name", ResponseStyle::kKafka, [&](const RestRequest& req) {
    const std::string& name = req.params[0];
    if (req.query_value("config")) {
      if (!ctx.options.allow_mutating_get || req.method == "HEAD") {
        return error_response(kSeed, 405, "creating with GET is disabled; use POST");
      }
      return put_config(ctx, name, req, true);
    }
    ResponseStyle style = style_of(req, ResponseStyle::kKafka);
    auto info = controller.connector_info(name);
    if (!info.ok()) return error_response(style, info.error());
    if (style == kSeed) return seed_ok(seed_info(*info, redactor));
    return json_response(200, kafka_info(*info, redactor));
  });
  router.add("POST", "/connectors/:name", kSeed,
             [&](const RestRequest& req) { return put_config(ctx, req.params[0], req, true); });

  add_mutating(router, ctx, "/connectors/:name/pause", [&](const RestRequest& req) {
    return set_state(ctx, req.params[0], TargetState::kPaused, "paused successfully");
  });
  add_mutating(router, ctx, "/connectors/:name/resume", [&](const RestRequest& req) {
    return set_state(ctx, req.params[0], TargetState::kStarted, "resumed successfully");
  });
  // The seed's "stop" deletes the connector (Kafka's PUT .../stop only stops it).
  add_mutating(router, ctx, "/connectors/:name/stop", [&](const RestRequest& req) {
    auto r = controller.delete_connector(req.params[0]);
    if (!r.ok()) return seed_error(r.error());
    return seed_ok(connector_message(req.params[0], "deleted successfully"));
  });
  add_mutating(router, ctx, "/connectors/pause/all", [&](const RestRequest&) {
    auto done = for_all(ctx, [&](const std::string& n) {
      return controller.set_target_state(n, TargetState::kPaused);
    });
    if (!done.ok()) return seed_error(done.error());
    return seed_ok(std::to_string(done->size()) + " connectors are suspended");
  });
  add_mutating(router, ctx, "/connectors/resume/all", [&](const RestRequest&) {
    auto done = for_all(ctx, [&](const std::string& n) {
      return controller.set_target_state(n, TargetState::kStarted);
    });
    if (!done.ok()) return seed_error(done.error());
    return seed_ok(std::to_string(done->size()) + " connectors are resumed");
  });
  add_mutating(router, ctx, "/connectors/stop/all", [&](const RestRequest&) {
    auto done = for_all(ctx, [&](const std::string& n) { return controller.delete_connector(n); });
    if (!done.ok()) return seed_error(done.error());
    return seed_ok(join_names(*done) + " connectors are deleted");
  });

  router.add("GET", "/connectors/list", kSeed, [&](const RestRequest&) {
    Json body = Json::object();
    for (const auto& name : controller.connector_names()) {
      auto state = controller.connector_state(name);
      auto info = controller.connector_info(name);
      if (!state.ok() || !info.ok()) continue;  // deleted meanwhile
      body[name] = {{"status", seed_status(*state)}, {"info", seed_info(*info, redactor)}};
    }
    return seed_ok(std::move(body));
  });

  // Paths seed 002 and Kafka share with different bodies: seed shape unless asked otherwise.
  ResponseStyle shared = ctx.options.shared_get_style;
  router.add("GET", "/connectors/:name/config", shared, [&, shared](const RestRequest& req) {
    ResponseStyle style = style_of(req, shared);
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return error_response(style, info.error());
    if (style == kSeed) return seed_ok(seed_info(*info, redactor));
    return json_response(200, redactor.config(info->config));
  });
  router.add("GET", "/connectors/:name/status", shared, [&, shared](const RestRequest& req) {
    ResponseStyle style = style_of(req, shared);
    auto state = controller.connector_state(req.params[0]);
    if (!state.ok()) return error_response(style, state.error());
    Json body = style == kSeed ? seed_status(*state) : kafka_status(*state);
    add_restart_info(body, style, ctx, state->name);
    if (style == kSeed) return seed_ok(std::move(body));
    return json_response(200, body);
  });
  router.add("GET", "/connectors/:name/tasks", shared, [&, shared](const RestRequest& req) {
    ResponseStyle style = style_of(req, shared);
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return error_response(style, info.error());
    if (style == kSeed) return seed_ok(task_configs(*info, redactor));
    return json_response(200, task_configs(*info, redactor));
  });
  router.add("GET", "/connectors/:name/tasks/:task/status", shared,
             [&, shared](const RestRequest& req) {
               ResponseStyle style = style_of(req, shared);
               auto id = parse_index(req.params[1], "task id");
               if (!id.ok()) return error_response(style, id.error());
               auto task = controller.task_state(req.params[0], *id);
               if (!task.ok()) return error_response(style, task.error());
               Json body = style == kSeed ? seed_task_status(*task) : kafka_task_status(*task);
               add_task_restart_info(body, style, ctx, req.params[0], *id);
               if (style == kSeed) return seed_ok(std::move(body));
               return json_response(200, body);
             });

  router.add("GET", "/allocated/connectors", kSeed, [&](const RestRequest&) {
    std::string me = controller.worker_info().worker_id;
    Json body = Json::object();
    for (const auto& name : controller.connector_names()) {
      auto state = controller.connector_state(name);
      auto info = controller.connector_info(name);
      if (!state.ok() || !info.ok() || state->worker_id != me) continue;
      body[name] = redactor.config(info->config);
    }
    return seed_ok(std::move(body));
  });
  router.add("GET", "/allocated/tasks", kSeed,
             [&](const RestRequest&) { return seed_ok(allocated_tasks(ctx)); });
}

}  // namespace rmqc::rest
