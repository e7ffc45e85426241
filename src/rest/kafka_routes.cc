// Kafka-Connect-style verbs: bare JSON bodies, {"error_code","message"} errors, 201/202/204 as
// Kafka Connect answers them, so existing Kafka Connect tooling works against the worker.
#include "rmqc/base/error.h"

#include "rest/routes.h"
#include "runtime/storage/json_codec.h"

#include <algorithm>

namespace rmqc::rest {

using runtime::ConnectController;
using runtime::TargetState;

namespace {

constexpr ResponseStyle kKafka = ResponseStyle::kKafka;

RestResponse kafka_error(const Error& error) {
  return error_response(kKafka, error);
}

// Optional boolean query parameter, default false.
Result<bool> query_flag(const RestRequest& req, std::string_view key) {
  const std::string* value = req.query_value(key);
  if (!value) return false;
  return parse_bool(*value, key);
}

RestResponse put_config(const RouteContext& ctx, const std::string& name, KeyValue config,
                        ConnectController::PutOptions options) {
  auto created = ctx.controller.put_connector(name, config, options);
  if (!created.ok()) {
    return error_response(kKafka, http_status(created.error().code()),
                          ctx.redactor.scrub(created.error().message(), config));
  }
  auto info = ctx.controller.connector_info(name);
  Json body;
  if (info.ok()) {
    body = kafka_info(*info, ctx.redactor);
  } else {  // deleted right after: answer what was submitted
    body = {{"name", name},
            {"config", ctx.redactor.config(config)},
            {"tasks", Json::array()},
            {"type", "unknown"}};
  }
  RestResponse res = json_response(*created ? 201 : 200, body);
  if (*created) res.headers.emplace_back("Location", "/connectors/" + percent_encode_segment(name));
  return res;
}

const char* kafka_plugin_type(PluginKind kind) {
  switch (kind) {
    case PluginKind::kSourceConnector:
      return "source";
    case PluginKind::kSinkConnector:
      return "sink";
    case PluginKind::kConverter:
      return "converter";
    case PluginKind::kTransform:
      return "transformation";
    case PluginKind::kPredicate:
      return "predicate";
  }
  return "unknown";
}

}  // namespace

void add_kafka_routes(Router& router, const RouteContext& ctx) {
  auto& controller = ctx.controller;
  const Redactor& redactor = ctx.redactor;

  router.add("GET", "/", kKafka, [&](const RestRequest&) {
    runtime::WorkerInfo worker = controller.worker_info();
    return json_response(200, {{"version", worker.version},
                               {"commit", ctx.commit},
                               {"kafka_cluster_id", worker.cluster_id},
                               {"cluster_id", worker.cluster_id},
                               {"worker_id", worker.worker_id},
                               {"mode", worker.mode}});
  });
  // The server only answers once the worker is up; a controller that cannot even describe
  // itself throws, which the router turns into a 500.
  router.add("GET", "/connectors", kKafka, [&](const RestRequest& req) {
    bool with_status = false;
    bool with_info = false;
    for (const auto& e : req.query_values("expand")) {  // unknown expansions are ignored
      with_status |= e == "status";
      with_info |= e == "info";
    }
    std::vector<std::string> names = controller.connector_names();
    if (!with_status && !with_info) return json_response(200, names);
    Json body = Json::object();
    for (const auto& name : names) {
      Json entry = Json::object();
      if (with_status) {
        auto state = controller.connector_state(name);
        if (!state.ok()) continue;  // deleted meanwhile
        entry["status"] = kafka_status(*state);
        add_restart_info(entry["status"], kKafka, ctx, name);
      }
      if (with_info) {
        auto info = controller.connector_info(name);
        if (!info.ok()) continue;
        entry["info"] = kafka_info(*info, redactor);
      }
      body[name] = std::move(entry);
    }
    return json_response(200, body);
  });

  router.add("POST", "/connectors", kKafka, [&](const RestRequest& req) {
    auto body = parse_json_body(req.body);
    if (!body.ok()) return kafka_error(body.error());
    if (!body->is_object()) return error_response(kKafka, 400, "expected a JSON object");
    auto name_it = body->find("name");
    if (name_it == body->end() || !name_it->is_string() || name_it->get<std::string>().empty()) {
      return error_response(kKafka, 400, "'name' is required and must be a non-empty string");
    }
    std::string name = name_it->get<std::string>();
    auto config_it = body->find("config");
    if (config_it == body->end()) return error_response(kKafka, 400, "'config' is required");
    auto config = config_from_json(*config_it);
    if (!config.ok()) return kafka_error(config.error());
    if (const std::string* n = config->find("name"); n && *n != name) {
      return error_response(
          kKafka, 400, "connector name '" + name + "' does not match config name '" + *n + "'");
    }
    // The connector is created in its initial state: a PAUSED or STOPPED one never runs a task.
    ConnectController::PutOptions options;
    if (auto it = body->find("initial_state"); it != body->end()) {
      std::string s = it->is_string() ? it->get<std::string>() : "";
      if (s == "RUNNING")
        options.initial_state = TargetState::kStarted;
      else if (s == "PAUSED")
        options.initial_state = TargetState::kPaused;
      else if (s == "STOPPED")
        options.initial_state = TargetState::kStopped;
      else
        return error_response(kKafka, 400, "initial_state must be RUNNING, PAUSED or STOPPED");
    }
    return put_config(ctx, name, std::move(*config), options);
  });

  router.add("PUT", "/connectors/:name/config", kKafka, [&](const RestRequest& req) {
    auto body = parse_json_body(req.body);
    if (!body.ok()) return kafka_error(body.error());
    auto config = config_from_json(*body);
    if (!config.ok()) return kafka_error(config.error());
    if (const std::string* n = config->find("name"); n && *n != req.params[0]) {
      return error_response(
          kKafka, 400,
          "connector name '" + req.params[0] + "' does not match config name '" + *n + "'");
    }
    return put_config(ctx, req.params[0], std::move(*config), {.allow_update = true});
  });

  // Kafka Connect 3.5+: the given keys are set, a key given as null is removed; 200 with the
  // connector's info.
  router.add("PATCH", "/connectors/:name/config", kKafka, [&](const RestRequest& req) {
    auto body = parse_json_body(req.body);
    if (!body.ok()) return kafka_error(body.error());
    if (!body->is_object()) return error_response(kKafka, 400, "expected a JSON object");
    std::vector<std::string> remove;
    Json set = Json::object();
    for (auto& [key, value] : body->items()) {
      if (value.is_null()) {
        remove.push_back(key);
      } else {
        set[key] = value;
      }
    }
    auto patch = config_from_json(set);
    if (!patch.ok()) return kafka_error(patch.error());
    if (const std::string* n = patch->find("name"); n && *n != req.params[0]) {
      return error_response(
          kKafka, 400,
          "connector name '" + req.params[0] + "' does not match config name '" + *n + "'");
    }
    if (std::find(remove.begin(), remove.end(), "connector.class") != remove.end()) {
      return error_response(kKafka, 400, "connector.class cannot be removed");
    }
    auto merged = controller.patch_connector_config(req.params[0], *patch, remove);
    if (!merged.ok()) {
      KeyValue config = *patch;
      if (auto info = controller.connector_info(req.params[0]); info.ok()) {
        for (const auto& [key, value] : info->config) {
          if (!config.contains(key)) config.put(key, value);
        }
      }
      return error_response(kKafka, http_status(merged.error().code()),
                            redactor.scrub(merged.error().message(), config));
    }
    auto info = controller.connector_info(req.params[0]);
    if (!info.ok()) return kafka_error(info.error());
    return json_response(200, kafka_info(*info, redactor));
  });

  router.add("DELETE", "/connectors/:name", kKafka, [&](const RestRequest& req) {
    auto r = controller.delete_connector(req.params[0]);
    return r.ok() ? empty_response(204) : kafka_error(r.error());
  });

  auto target = [&](TargetState state) {
    return [&controller, state](const RestRequest& req) {
      auto r = controller.set_target_state(req.params[0], state);
      return r.ok() ? empty_response(202) : kafka_error(r.error());
    };
  };
  router.add("PUT", "/connectors/:name/pause", kKafka, target(TargetState::kPaused));
  router.add("PUT", "/connectors/:name/resume", kKafka, target(TargetState::kStarted));
  router.add("PUT", "/connectors/:name/stop", kKafka, target(TargetState::kStopped));

  // Kafka: the plain restart answers 204; with includeTasks or onlyFailed 202 and the status.
  router.add("POST", "/connectors/:name/restart", kKafka, [&](const RestRequest& req) {
    auto include_tasks = query_flag(req, "includeTasks");
    if (!include_tasks.ok()) return kafka_error(include_tasks.error());
    auto only_failed = query_flag(req, "onlyFailed");
    if (!only_failed.ok()) return kafka_error(only_failed.error());
    auto r = controller.restart_connector(req.params[0], *include_tasks, *only_failed);
    if (!r.ok()) return kafka_error(r.error());
    if (!*include_tasks && !*only_failed) return empty_response(204);
    auto state = controller.connector_state(req.params[0]);
    if (!state.ok()) return kafka_error(state.error());
    return json_response(202, kafka_status(*state));
  });
  router.add("POST", "/connectors/:name/tasks/:task/restart", kKafka, [&](const RestRequest& req) {
    auto id = parse_index(req.params[1], "task id");
    if (!id.ok()) return kafka_error(id.error());
    auto r = controller.restart_task(req.params[0], *id);
    return r.ok() ? empty_response(204) : kafka_error(r.error());
  });

  router.add("GET", "/connectors/:name/offsets", kKafka, [&](const RestRequest& req) {
    auto offsets = controller.connector_offsets(req.params[0]);
    if (!offsets.ok()) return kafka_error(offsets.error());
    Json list = Json::array();
    for (const auto& o : *offsets) {
      Json partition = Json::object();
      for (const auto& [k, v] : o.partition.partition()) partition[k] = value_to_json(v);
      Json offset = Json::object();
      for (const auto& [k, v] : o.offset.offset()) offset[k] = value_to_json(v);
      list.push_back({{"partition", std::move(partition)}, {"offset", std::move(offset)}});
    }
    return json_response(200, {{"offsets", std::move(list)}});
  });

  // Kafka Connect 3.6+: {"offsets":[{"partition":{...},"offset":{...}|null}]} on a STOPPED
  // connector; a null offset removes the partition's offset.
  router.add("PATCH", "/connectors/:name/offsets", kKafka, [&](const RestRequest& req) {
    auto body = parse_json_body(req.body);
    if (!body.ok()) return kafka_error(body.error());
    auto list = body->is_object() ? body->find("offsets") : body->end();
    if (list == body->end() || !list->is_array() || list->empty()) {
      return error_response(kKafka, 400,
                            "expected {\"offsets\": [{\"partition\": {...}, \"offset\": "
                            "{...} or null}, ...]}");
    }
    std::vector<runtime::OffsetChange> changes;
    for (const auto& entry : *list) {
      auto p = entry.is_object() ? entry.find("partition") : entry.end();
      if (p == entry.end() || !p->is_object() || p->empty()) {
        return error_response(kKafka, 400, "every entry needs a non-empty \"partition\" object");
      }
      auto o = entry.find("offset");
      if (o == entry.end() || !(o->is_object() || o->is_null())) {
        return error_response(kKafka, 400,
                              "every entry needs an \"offset\" object (or null to remove it)");
      }
      runtime::OffsetChange change;
      change.partition =
          runtime::json_codec::partition_from_json(nlohmann::json::parse(p->dump()));
      if (!o->is_null()) {
        change.offset = runtime::json_codec::offset_from_json(nlohmann::json::parse(o->dump()));
      }
      changes.push_back(std::move(change));
    }
    auto r = controller.alter_offsets(req.params[0], changes);
    if (!r.ok()) return kafka_error(r.error());
    return json_response(
        200, {{"message", "The offsets for this connector have been altered successfully"}});
  });
  router.add("DELETE", "/connectors/:name/offsets", kKafka, [&](const RestRequest& req) {
    auto r = controller.reset_offsets(req.params[0]);
    if (!r.ok()) return kafka_error(r.error());
    return json_response(
        200, {{"message", "The offsets for this connector have been reset successfully"}});
  });

  router.add("GET", "/connector-plugins", kKafka, [&](const RestRequest& req) {
    bool connectors_only = true;
    if (const std::string* v = req.query_value("connectorsOnly")) {
      auto parsed = parse_bool(*v, "connectorsOnly");
      if (!parsed.ok()) return kafka_error(parsed.error());
      connectors_only = *parsed;
    }
    Json list = Json::array();
    for (const auto& p : controller.plugins()) {
      bool connector =
          p.kind == PluginKind::kSourceConnector || p.kind == PluginKind::kSinkConnector;
      if (connectors_only && !connector) continue;
      list.push_back({{"class", p.descriptor.class_name},
                      {"type", kafka_plugin_type(p.kind)},
                      {"version", p.descriptor.version}});
    }
    return json_response(200, list);
  });
  router.add("GET", "/connector-plugins/:plugin/config", kKafka, [&](const RestRequest& req) {
    auto result = controller.validate_connector_config(req.params[0], KeyValue{});
    if (!result.ok()) return kafka_error(result.error());
    Json body = kafka_validation(*result, redactor);
    Json definitions = Json::array();
    for (auto& c : body["configs"]) definitions.push_back(std::move(c["definition"]));
    return json_response(200, definitions);
  });
  router.add("PUT", "/connector-plugins/:plugin/config/validate", kKafka,
             [&](const RestRequest& req) {
               auto body = parse_json_body(req.body);
               if (!body.ok()) return kafka_error(body.error());
               auto config = config_from_json(*body);
               if (!config.ok()) return kafka_error(config.error());
               if (!config->contains("connector.class")) {
                 config->put("connector.class", req.params[0]);
               }
               auto result = controller.validate_connector_config(req.params[0], *config);
               if (!result.ok()) {
                 return error_response(kKafka, http_status(result.error().code()),
                                       redactor.scrub(result.error().message(), *config));
               }
               return json_response(200, kafka_validation(*result, redactor, *config));
             });
}

}  // namespace rmqc::rest
