#include "app/ctl_command.h"

#include "app/ctl_http.h"
#include "app/ctl_table.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace rmqc::app {
namespace {

using Json = nlohmann::json;
using ctl::encode_segment;
using ctl::Table;

struct CtlOptions {
  std::string url;
  std::string user;
  std::string password;
  std::string token;
  std::string cacert;
  bool insecure = false;
  std::string output = "table";
  int timeout_seconds = 10;

  std::string what;                   // get
  bool all_plugins = false;           // get plugins --all
  std::string kind;                   // describe
  std::string name;                   // describe, patch, offsets
  std::vector<std::string> names;     // pause, resume, stop, delete
  std::vector<std::string> args;      // restart
  std::string file;                   // apply, validate, offsets alter
  std::string name_override;          // apply --name
  std::vector<std::string> settings;  // patch key=value
  std::vector<std::string> deletes;   // patch --delete key
  bool with_tasks = false;            // restart --tasks
  bool failed_only = false;           // restart --failed-only
  std::string offsets_action;         // get | alter | reset
};

void print_error(const std::string& message) {
  std::fprintf(stderr, "rmq-connect ctl: %s\n", message.c_str());
}

int usage_error(const std::string& message) {
  print_error(message);
  return kCtlUsage;
}

std::string dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

void print_json(const Json& j) {
  std::cout << dump(j, 2) << '\n';
}

const Json& member(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// A member as text: strings as they are, null or missing as "", anything else as compact JSON.
std::string text(const Json& j, const char* key) {
  const Json& v = member(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return dump(v);
}

std::string scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return dump(v);
}

// The exit code of an HTTP status.
int exit_for_status(int status) {
  if (status >= 200 && status < 300) return kCtlOk;
  if (status == 404) return kCtlNotFound;
  if (status == 401 || status == 403) return kCtlAuth;
  return kCtlRefused;
}

// The worker's explanation in an error answer: Kafka-style `message`, the seed's `body`, or the
// raw text.
std::string error_message(const ctl::Answer& answer) {
  Json body = Json::parse(answer.body, nullptr, false);
  std::string message;
  if (body.is_object()) {
    message = text(body, "message");
    if (message.empty()) message = text(body, "body");
  }
  if (message.empty()) {
    message = answer.body;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  if (message.empty()) message = "no explanation given";
  if (message.size() > 300) message = message.substr(0, 300) + "...";  // not a worker's answer
  return message;
}

class Ctl {
 public:
  Ctl(ctl::Connection connection, bool json) : client_(std::move(connection)), json_(json) {}

  bool json() const { return json_; }

  // Sends one request. On success returns kCtlOk with the answer's JSON (null when it has no
  // body) in `out`; otherwise prints why (unless the status is `quiet_status`) and returns the
  // exit code.
  int call(std::string_view method, const std::string& path, Json* out,
           const std::optional<std::string>& body = std::nullopt, int* status = nullptr,
           int quiet_status = 0) {
    ctl::Answer answer = client_.request(method, path, body);
    if (status) *status = answer.status;
    if (answer.status == 0) {
      print_error("cannot reach the worker at " + client_.connection().endpoint.to_string() + ": " +
                  answer.transport_error);
      return kCtlUnreachable;
    }
    int code = exit_for_status(answer.status);
    if (code != kCtlOk) {
      if (answer.status == quiet_status) return code;
      std::string message = error_message(answer);
      if (answer.status == 401) message += " (give --user and --password, or --token)";
      print_error(message + " (HTTP " + std::to_string(answer.status) + ")");
      return code;
    }
    if (out) {
      *out = answer.body.empty() ? Json() : Json::parse(answer.body, nullptr, false);
      if (out->is_discarded()) {
        print_error(std::string(method) + " " + path + ": the answer is not JSON");
        return kCtlRefused;
      }
    }
    return kCtlOk;
  }

 private:
  ctl::Client client_;
  bool json_;
};

std::string connector_path(const std::string& name) {
  return "/connectors/" + encode_segment(name);
}

// Reads a JSON document from `path` ("-": standard input); nullopt after printing why.
std::optional<Json> load_json(const std::string& path) {
  std::string content;
  if (path == "-") {
    std::stringstream s;
    s << std::cin.rdbuf();
    content = s.str();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      print_error("cannot read " + path);
      return std::nullopt;
    }
    std::stringstream s;
    s << in.rdbuf();
    content = s.str();
  }
  Json j = Json::parse(content, nullptr, false);
  if (j.is_discarded()) {
    print_error((path == "-" ? std::string("standard input") : path) + " is not valid JSON");
    return std::nullopt;
  }
  return j;
}

// One connector of an apply/validate file: Kafka's {"name", "config": {...}[, "initial_state"]}
// or a flat config with "name".
struct ConnectorSpec {
  std::string name;
  Json config;
  std::string initial_state;
};

std::optional<ConnectorSpec> connector_spec(const Json& j, const std::string& name_override,
                                            const std::string& where) {
  if (!j.is_object()) {
    print_error(where + ": expected a JSON object");
    return std::nullopt;
  }
  ConnectorSpec spec;
  const Json& config = member(j, "config");
  if (config.is_object()) {
    spec.config = config;
    spec.name = text(j, "name");
    if (spec.name.empty()) spec.name = text(config, "name");
    spec.initial_state = text(j, "initial_state");
  } else {
    spec.config = j;
    spec.name = text(j, "name");
  }
  if (!name_override.empty()) spec.name = name_override;
  return spec;
}

// ---- get --------------------------------------------------------------------------------------

struct TaskCounts {
  std::size_t running = 0;
  std::size_t total = 0;
  std::string text() const { return std::to_string(running) + "/" + std::to_string(total); }
};

TaskCounts count_tasks(const Json& status) {
  TaskCounts counts;
  const Json& tasks = member(status, "tasks");
  if (!tasks.is_array()) return counts;
  for (const auto& t : tasks) {
    ++counts.total;
    counts.running += text(t, "state") == "RUNNING";
  }
  return counts;
}

int get_connectors(Ctl& ctl) {
  Json body;
  if (int rc = ctl.call("GET", "/connectors?expand=status&expand=info", &body); rc != kCtlOk) {
    return rc;
  }
  if (ctl.json()) {
    print_json(body);
    return kCtlOk;
  }
  if (!body.is_object()) {
    print_error("unexpected answer to GET /connectors: " + dump(body));
    return kCtlRefused;
  }
  Table table({"NAME", "TYPE", "STATE", "TASKS", "WORKER"});
  for (const auto& [name, entry] : body.items()) {
    const Json& status = member(entry, "status");
    const Json& connector = member(status, "connector");
    std::string type = text(status, "type");
    if (type.empty()) type = text(member(entry, "info"), "type");
    table.add_row({name, type, text(connector, "state"), count_tasks(status).text(),
                   text(connector, "worker_id")});
  }
  std::cout << table.render();
  return kCtlOk;
}

int get_plugins(Ctl& ctl, bool all) {
  Json body;
  std::string path = all ? "/connector-plugins?connectorsOnly=false" : "/connector-plugins";
  if (int rc = ctl.call("GET", path, &body); rc != kCtlOk) return rc;
  if (ctl.json()) {
    print_json(body);
    return kCtlOk;
  }
  Table table({"CLASS", "TYPE", "VERSION"});
  if (body.is_array()) {
    for (const auto& p : body)
      table.add_row({text(p, "class"), text(p, "type"), text(p, "version")});
  }
  std::cout << table.render();
  return kCtlOk;
}

int get_workers(Ctl& ctl) {
  Json cluster;
  if (int rc = ctl.call("GET", "/getClusterInfo", &cluster); rc != kCtlOk) return rc;
  Json connectors;
  if (int rc = ctl.call("GET", "/connectors?expand=status", &connectors); rc != kCtlOk) return rc;
  struct WorkerRow {
    std::size_t connectors = 0;
    TaskCounts tasks;
  };
  std::map<std::string, WorkerRow> workers;
  const Json& ids = member(cluster, "body");
  if (ids.is_array()) {
    for (const auto& id : ids) workers[scalar_text(id)];
  }
  if (connectors.is_object()) {
    for (const auto& [name, entry] : connectors.items()) {
      const Json& status = member(entry, "status");
      std::string owner = text(member(status, "connector"), "worker_id");
      if (!owner.empty()) ++workers[owner].connectors;
      const Json& tasks = member(status, "tasks");
      if (!tasks.is_array()) continue;
      for (const auto& t : tasks) {
        std::string worker = text(t, "worker_id");
        if (worker.empty()) continue;  // unassigned
        auto& row = workers[worker];
        ++row.tasks.total;
        row.tasks.running += text(t, "state") == "RUNNING";
      }
    }
  }
  if (ctl.json()) {
    Json out = Json::array();
    for (const auto& [id, row] : workers) {
      out.push_back({{"worker_id", id},
                     {"connectors", row.connectors},
                     {"tasks", row.tasks.total},
                     {"tasks_running", row.tasks.running}});
    }
    print_json(out);
    return kCtlOk;
  }
  Table table({"WORKER", "CONNECTORS", "TASKS"});
  for (const auto& [id, row] : workers) {
    table.add_row({id, std::to_string(row.connectors), row.tasks.text()});
  }
  std::cout << table.render();
  return kCtlOk;
}

// ---- describe ---------------------------------------------------------------------------------

void print_trace(const std::string& trace, const std::string& indent) {
  std::istringstream lines(trace);
  for (std::string line; std::getline(lines, line);) std::cout << indent << line << '\n';
}

int describe_connector(Ctl& ctl, const std::string& name) {
  Json info;
  if (int rc = ctl.call("GET", connector_path(name), &info); rc != kCtlOk) return rc;
  Json status;
  if (int rc = ctl.call("GET", connector_path(name) + "/status?format=kafka", &status);
      rc != kCtlOk) {
    return rc;
  }
  if (ctl.json()) {
    print_json({{"info", info}, {"status", status}});
    return kCtlOk;
  }
  const Json& connector = member(status, "connector");
  const Json& config = member(info, "config");
  Table head({"Name:", text(info, "name")});
  head.add_row({"Type:", text(status, "type").empty() ? text(info, "type") : text(status, "type")});
  head.add_row({"Class:", text(config, "connector.class")});
  head.add_row({"State:", text(connector, "state")});
  head.add_row({"Worker:", text(connector, "worker_id")});
  std::string topics;
  for (const char* key : {"connect.topicname", "connect.topicnames", "topics", "topics.regex"}) {
    std::string t = text(config, key);
    if (!t.empty()) topics += (topics.empty() ? "" : ", ") + t;
  }
  if (!topics.empty()) head.add_row({"Topics:", topics});
  std::cout << head.render();
  if (std::string trace = text(connector, "trace"); !trace.empty()) {
    std::cout << "Trace:\n";
    print_trace(trace, "  ");
  }
  std::cout << "Config:\n";
  Table config_table({"KEY", "VALUE"});
  if (config.is_object()) {
    for (const auto& [key, value] : config.items()) config_table.add_row({key, scalar_text(value)});
  }
  std::cout << config_table.render(2);
  std::cout << "Tasks:\n";
  Table tasks({"ID", "STATE", "WORKER"});
  const Json& task_list = member(status, "tasks");
  std::vector<std::pair<std::string, std::string>> traces;  // task id, trace
  if (task_list.is_array()) {
    for (const auto& t : task_list) {
      std::string id = text(t, "id");
      tasks.add_row({id, text(t, "state"), text(t, "worker_id")});
      std::string trace = text(t, "trace");
      const Json& restart = member(t, "auto_restart");
      if (restart.is_object()) {
        std::string line = "automatic restarts: " + text(restart, "attempts") + " attempt(s)";
        if (member(restart, "exhausted").is_boolean() && member(restart, "exhausted").get<bool>()) {
          line += ", exhausted";
        }
        if (std::string last = text(restart, "last_error"); !last.empty()) {
          line += ", last error: " + last;
        }
        trace = trace.empty() ? line : trace + "\n" + line;
      }
      if (!trace.empty()) traces.emplace_back(id, trace);
    }
  }
  std::cout << tasks.render(2);
  for (const auto& [id, trace] : traces) {
    std::cout << "Task " << id << " trace:\n";
    print_trace(trace, "  ");
  }
  return kCtlOk;
}

// ---- apply, patch, validate -------------------------------------------------------------------

int apply_one(Ctl& ctl, const ConnectorSpec& spec) {
  if (spec.name.empty()) {
    return usage_error("no connector name: give \"name\" in the file, or --name");
  }
  Json body;
  int status = 0;
  if (!spec.initial_state.empty()) {
    // Created in its initial state (Kafka's POST /connectors); if it exists, its config is updated.
    Json create = {
        {"name", spec.name}, {"config", spec.config}, {"initial_state", spec.initial_state}};
    int rc = ctl.call("POST", "/connectors", &body, dump(create), &status, /*quiet_status=*/409);
    if (rc == kCtlOk) {
      if (ctl.json()) {
        print_json(body);
      } else {
        std::printf("connector %s created (%s)\n", spec.name.c_str(), spec.initial_state.c_str());
      }
      return kCtlOk;
    }
    if (status != 409) return rc;  // anything but "exists" was reported
  }
  int rc =
      ctl.call("PUT", connector_path(spec.name) + "/config", &body, dump(spec.config), &status);
  if (rc != kCtlOk) return rc;
  if (ctl.json()) {
    print_json(body);
  } else {
    std::printf("connector %s %s\n", spec.name.c_str(), status == 201 ? "created" : "configured");
  }
  return kCtlOk;
}

int apply(Ctl& ctl, const CtlOptions& o) {
  auto doc = load_json(o.file);
  if (!doc) return kCtlUsage;
  std::vector<ConnectorSpec> specs;
  if (doc->is_array()) {
    if (!o.name_override.empty() && doc->size() > 1) {
      return usage_error("--name needs a file with one connector");
    }
    for (std::size_t i = 0; i < doc->size(); ++i) {
      auto spec =
          connector_spec((*doc)[i], o.name_override, o.file + "[" + std::to_string(i) + "]");
      if (!spec) return kCtlUsage;
      specs.push_back(std::move(*spec));
    }
  } else {
    auto spec = connector_spec(*doc, o.name_override, o.file);
    if (!spec) return kCtlUsage;
    specs.push_back(std::move(*spec));
  }
  for (const auto& spec : specs) {
    if (spec.name.empty()) {
      return usage_error("no connector name: give \"name\" in the file, or --name");
    }
  }
  for (const auto& spec : specs) {
    if (int rc = apply_one(ctl, spec); rc != kCtlOk) return rc;
  }
  return kCtlOk;
}

int patch(Ctl& ctl, const CtlOptions& o) {
  if (o.settings.empty() && o.deletes.empty()) {
    return usage_error("patch: give key=value settings and/or --delete KEY");
  }
  Json changes = Json::object();
  for (const auto& s : o.settings) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return usage_error("patch: '" + s + "' is not key=value");
    }
    changes[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& key : o.deletes) {
    if (key.empty()) return usage_error("patch: --delete needs a key");
    if (changes.contains(key)) return usage_error("patch: '" + key + "' is both set and deleted");
    changes[key] = nullptr;
  }
  Json body;
  if (int rc = ctl.call("PATCH", connector_path(o.name) + "/config", &body, dump(changes));
      rc != kCtlOk) {
    return rc;
  }
  if (ctl.json()) {
    print_json(body);
  } else {
    std::printf("connector %s patched (%zu set, %zu removed)\n", o.name.c_str(), o.settings.size(),
                o.deletes.size());
  }
  return kCtlOk;
}

int validate(Ctl& ctl, const CtlOptions& o) {
  auto doc = load_json(o.file);
  if (!doc) return kCtlUsage;
  auto spec = connector_spec(*doc, "", o.file);
  if (!spec) return kCtlUsage;
  std::string klass = text(spec->config, "connector.class");
  if (klass.empty()) return usage_error(o.file + ": no connector.class to validate against");
  Json body;
  if (int rc = ctl.call("PUT", "/connector-plugins/" + encode_segment(klass) + "/config/validate",
                        &body, dump(spec->config));
      rc != kCtlOk) {
    return rc;
  }
  const Json& count = member(body, "error_count");
  std::size_t errors = count.is_number_unsigned() ? count.get<std::size_t>() : 0;
  if (ctl.json()) {
    print_json(body);
    return errors > 0 ? kCtlRefused : kCtlOk;
  }
  const Json& configs = member(body, "configs");
  std::size_t checked = 0;
  if (configs.is_array()) {
    for (const auto& c : configs) {
      ++checked;
      const Json& value = member(c, "value");
      const Json& errs = member(value, "errors");
      if (!errs.is_array()) continue;
      for (const auto& e : errs) {
        std::printf("%s: %s\n", text(value, "name").c_str(), scalar_text(e).c_str());
      }
    }
  }
  const Json& other = member(body, "other_errors");
  if (other.is_array()) {
    for (const auto& e : other) std::printf("(connector): %s\n", scalar_text(e).c_str());
  }
  if (errors > 0) {
    std::printf("%zu error%s in %s\n", errors, errors == 1 ? "" : "s", o.file.c_str());
    return kCtlRefused;
  }
  std::printf("config is valid (%zu keys checked against %s)\n", checked, klass.c_str());
  return kCtlOk;
}

// ---- lifecycle --------------------------------------------------------------------------------

int lifecycle(Ctl& ctl, const std::vector<std::string>& names, std::string_view verb,
              const char* done) {
  int result = kCtlOk;
  for (const auto& name : names) {
    Json body;
    int rc = verb == "delete"
                 ? ctl.call("DELETE", connector_path(name), &body)
                 : ctl.call("PUT", connector_path(name) + "/" + std::string(verb), &body);
    if (rc != kCtlOk) {
      if (result == kCtlOk) result = rc;
      continue;
    }
    if (ctl.json()) {
      if (!body.is_null()) print_json(body);
    } else {
      std::printf("connector %s %s\n", name.c_str(), done);
    }
  }
  return result;
}

std::optional<unsigned> task_id(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  unsigned id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + static_cast<unsigned>(c - '0');
  }
  return id;
}

int restart(Ctl& ctl, const CtlOptions& o) {
  const auto& a = o.args;
  if (a.size() == 3 && a[0] == "task") {
    auto id = task_id(a[2]);
    if (!id) return usage_error("restart task: '" + a[2] + "' is not a task id");
    if (int rc = ctl.call(
            "POST", connector_path(a[1]) + "/tasks/" + std::to_string(*id) + "/restart", nullptr);
        rc != kCtlOk) {
      return rc;
    }
    if (!ctl.json()) std::printf("task %s-%u restarted\n", a[1].c_str(), *id);
    return kCtlOk;
  }
  if (a.size() != 1) {
    return usage_error("restart takes NAME [--tasks] [--failed-only], or task NAME ID");
  }
  std::string path = connector_path(a[0]) +
                     "/restart?includeTasks=" + (o.with_tasks ? "true" : "false") +
                     "&onlyFailed=" + (o.failed_only ? "true" : "false");
  Json body;
  if (int rc = ctl.call("POST", path, &body); rc != kCtlOk) return rc;
  if (ctl.json()) {
    if (!body.is_null()) print_json(body);
    return kCtlOk;
  }
  if (body.is_null()) {
    std::printf("connector %s restarted\n", a[0].c_str());
    return kCtlOk;
  }
  // 202: Kafka's status, the instances being restarted in state RESTARTING.
  std::printf("connector %s: restart requested (connector %s)\n", a[0].c_str(),
              text(member(body, "connector"), "state").c_str());
  const Json& tasks = member(body, "tasks");
  if (tasks.is_array() && !tasks.empty()) {
    Table table({"TASK", "STATE", "WORKER"});
    for (const auto& t : tasks) {
      table.add_row({text(t, "id"), text(t, "state"), text(t, "worker_id")});
    }
    std::cout << table.render(2);
  }
  return kCtlOk;
}

// ---- offsets ----------------------------------------------------------------------------------

int offsets(Ctl& ctl, const CtlOptions& o) {
  std::string path = connector_path(o.name) + "/offsets";
  Json body;
  if (o.offsets_action == "get") {
    if (!o.file.empty()) return usage_error("offsets get takes no -f");
    if (int rc = ctl.call("GET", path, &body); rc != kCtlOk) return rc;
    if (ctl.json()) {
      print_json(body);
      return kCtlOk;
    }
    Table table({"PARTITION", "OFFSET"});
    const Json& list = member(body, "offsets");
    if (list.is_array()) {
      for (const auto& e : list) {
        table.add_row({dump(member(e, "partition")), dump(member(e, "offset"))});
      }
    }
    std::cout << table.render();
    return kCtlOk;
  }
  int rc = kCtlOk;
  if (o.offsets_action == "alter") {
    if (o.file.empty()) return usage_error("offsets alter needs -f FILE (or -f - for stdin)");
    auto doc = load_json(o.file);
    if (!doc) return kCtlUsage;
    Json request = doc->is_array() ? Json{{"offsets", *doc}} : *doc;
    if (!member(request, "offsets").is_array()) {
      return usage_error(o.file +
                         ": expected {\"offsets\": [{\"partition\": {...}, \"offset\": "
                         "{...}}]} or the list itself");
    }
    rc = ctl.call("PATCH", path, &body, dump(request));
  } else {
    if (!o.file.empty()) return usage_error("offsets reset takes no -f");
    rc = ctl.call("DELETE", path, &body);
  }
  if (rc != kCtlOk) return rc;
  if (ctl.json()) {
    print_json(body);
  } else {
    std::string message = text(body, "message");
    std::printf("%s\n", message.empty() ? "done" : message.c_str());
  }
  return kCtlOk;
}

int info(Ctl& ctl) {
  Json body;
  if (int rc = ctl.call("GET", "/", &body); rc != kCtlOk) return rc;
  if (ctl.json()) {
    print_json(body);
    return kCtlOk;
  }
  Table table({"Worker:", text(body, "worker_id")});
  table.add_row({"Mode:", text(body, "mode")});
  table.add_row({"Version:", text(body, "version")});
  table.add_row({"Commit:", text(body, "commit")});
  table.add_row({"Cluster:", text(body, "cluster_id")});
  std::cout << table.render();
  return kCtlOk;
}

}  // namespace

int run_ctl_command(std::vector<std::string> args) {
  CLI::App app{"Operate a running worker over its REST API (reference: docs/ctl.md)",
               "rmq-connect ctl"};
  app.require_subcommand(1);
  app.fallthrough();  // the options below are accepted after the subcommand too
  app.footer(
      "Exit codes: 0 ok, 1 refused by the worker or validation errors, 2 usage, 3 worker not "
      "reachable, 4 not found, 5 not authorized.");
  CtlOptions o;
  app.add_option("--url", o.url, "A worker's REST API (default http://127.0.0.1:8082)")
      ->envname("RMQ_CONNECT_URL");
  app.add_option("--user", o.user, "User for basic auth")->envname("RMQ_CONNECT_USER");
  app.add_option("--password", o.password, "Password for basic auth")
      ->envname("RMQ_CONNECT_PASSWORD");
  app.add_option("--token", o.token, "Bearer token")->envname("RMQ_CONNECT_TOKEN");
  app.add_option("--cacert", o.cacert, "PEM file of the CA(s) to trust for https");
  app.add_flag("--insecure", o.insecure, "Do not verify the worker's TLS certificate");
  app.add_option("-o,--output", o.output, "table (default) or json (the worker's JSON, pretty)")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--timeout", o.timeout_seconds, "Seconds to connect and to wait for an answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();

  auto* get = app.add_subcommand("get", "List connectors, plugins or workers");
  get->add_option("what", o.what, "connectors, plugins or workers")
      ->required()
      ->check(CLI::IsMember({"connectors", "connector", "plugins", "plugin", "workers", "worker"}));
  get->add_flag("--all", o.all_plugins, "plugins: also converters, transforms and predicates");

  auto* describe = app.add_subcommand("describe", "Config, status and tasks of a connector");
  describe->add_option("kind", o.kind, "connector")
      ->required()
      ->check(CLI::IsMember({"connector"}));
  describe->add_option("name", o.name, "Connector name")->required();

  auto* apply_cmd = app.add_subcommand("apply", "Create or update connectors from a JSON file");
  apply_cmd
      ->add_option("-f,--file", o.file,
                   "{\"name\",\"config\":{...}} or a flat config with name (or a list); - = stdin")
      ->required();
  apply_cmd->add_option("--name", o.name_override, "Connector name (overrides the file's)");

  auto* patch_cmd = app.add_subcommand("patch", "Change or remove keys of a connector's config");
  patch_cmd->add_option("name", o.name, "Connector name")->required();
  patch_cmd->add_option("settings", o.settings, "key=value ...");
  patch_cmd->add_option("--delete", o.deletes, "Key to remove (repeatable)");

  auto* pause = app.add_subcommand("pause", "Pause connectors (tasks stay assigned, idle)");
  pause->add_option("names", o.names, "Connector names")->required();
  auto* resume = app.add_subcommand("resume", "Resume paused or stopped connectors");
  resume->add_option("names", o.names, "Connector names")->required();
  auto* stop = app.add_subcommand("stop", "Stop connectors (tasks shut down, config kept)");
  stop->add_option("names", o.names, "Connector names")->required();
  auto* del = app.add_subcommand("delete", "Delete connectors");
  del->add_option("names", o.names, "Connector names")->required();

  auto* restart_cmd =
      app.add_subcommand("restart", "Restart a connector (NAME) or one task (task NAME ID)");
  restart_cmd->add_option("args", o.args, "NAME, or: task NAME ID")->required();
  restart_cmd->add_flag("--tasks", o.with_tasks, "Restart the connector's tasks too");
  restart_cmd->add_flag("--failed-only", o.failed_only, "Only instances that FAILED");

  auto* offsets_cmd =
      app.add_subcommand("offsets", "Committed positions: get, alter or reset (stopped connector)");
  offsets_cmd->add_option("action", o.offsets_action, "get, alter or reset")
      ->required()
      ->check(CLI::IsMember({"get", "alter", "reset"}));
  offsets_cmd->add_option("name", o.name, "Connector name")->required();
  offsets_cmd->add_option("-f,--file", o.file,
                          "alter: {\"offsets\":[{\"partition\",\"offset\"}]}; - = stdin");

  auto* validate_cmd =
      app.add_subcommand("validate", "Validate a connector config against its plugin");
  validate_cmd->add_option("-f,--file", o.file, "Connector JSON file; - = stdin")->required();

  auto* info_cmd = app.add_subcommand("info", "The worker answering: id, mode, version");

  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kCtlOk : kCtlUsage;
  }

  std::string url = o.url.empty() ? "http://127.0.0.1:8082" : o.url;
  std::string error;
  auto endpoint = ctl::parse_endpoint(url, error);
  if (!endpoint) return usage_error("--url: " + error);
  if (!o.user.empty() && !o.token.empty()) return usage_error("give --user or --token, not both");
  if (!o.cacert.empty()) {
    std::ifstream probe(o.cacert);
    if (!probe) return usage_error("--cacert: cannot read " + o.cacert);
  }
  ctl::Connection connection;
  connection.endpoint = std::move(*endpoint);
  connection.user = o.user;
  connection.password = o.password;
  connection.token = o.token;
  connection.cacert = o.cacert;
  connection.insecure = o.insecure;
  connection.timeout_seconds = o.timeout_seconds;
  Ctl ctl(std::move(connection), o.output == "json");

  try {
    if (*get) {
      if (o.what.rfind("connector", 0) == 0) return get_connectors(ctl);
      if (o.what.rfind("plugin", 0) == 0) return get_plugins(ctl, o.all_plugins);
      return get_workers(ctl);
    }
    if (*describe) return describe_connector(ctl, o.name);
    if (*apply_cmd) return apply(ctl, o);
    if (*patch_cmd) return patch(ctl, o);
    if (*pause) return lifecycle(ctl, o.names, "pause", "paused");
    if (*resume) return lifecycle(ctl, o.names, "resume", "resumed");
    if (*stop) return lifecycle(ctl, o.names, "stop", "stopped");
    if (*del) return lifecycle(ctl, o.names, "delete", "deleted");
    if (*restart_cmd) return restart(ctl, o);
    if (*offsets_cmd) return offsets(ctl, o);
    if (*validate_cmd) return validate(ctl, o);
    if (*info_cmd) return info(ctl);
  } catch (const std::exception& e) {
    // A worker answer of an unexpected shape must not crash the tool.
    print_error(std::string("unexpected answer: ") + e.what());
    return kCtlRefused;
  }
  return kCtlUsage;
}

}  // namespace rmqc::app
