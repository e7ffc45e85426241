// Helpers for the cluster tests: one `rmq-connect broker` and several `rmq-connect distributed`
// children, each read for its ready line, plus views of the REST answers the tests compare.
// The HTTP client, temp dirs and polling come from worker_harness.h.
#pragma once

#include "worker_harness.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace rmqc::itest {

// A child `rmq-connect <args...>`: stdout is read until a line starting with `marker` (and kept
// open afterwards), stderr goes to a log file (appended, so a restart keeps the earlier run's log).
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Starts the child and waits for the marker line; false when it exited first or took longer
  // than `timeout` (error() says which; exit_status() has the status when it exited).
  bool start(const std::vector<std::string>& args, const std::string& log_path,
             const std::string& marker, std::chrono::milliseconds timeout = 30s) {
    std::string bin = worker_bin();
    if (bin.empty()) {
      error_ = "RMQ_CONNECT_BIN is not set";
      return false;
    }
    log_path_ = log_path;
    exit_status_ = -1;
    int out[2];
    if (::pipe(out) != 0) return false;
    started_ = Clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
      std::vector<std::string> argv_strings = {bin};
      argv_strings.insert(argv_strings.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_strings) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    pid_ = pid;
    out_fd_ = out[0];
    auto deadline = Clock::now() + timeout;
    std::string pending;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        error_ = "no '" + marker + "' line within the timeout; output so far: " + pending;
        return false;
      }
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(out_fd_, buf, sizeof(buf));
      if (n <= 0) {
        exit_status_ = reap(10s);
        error_ = "exited before it was ready; stderr: " + log_tail();
        return false;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      auto at = pending.find(marker);
      if (at == std::string::npos) continue;
      auto nl = pending.find('\n', at);
      if (nl == std::string::npos) continue;
      ready_line_ = pending.substr(at, nl - at);
      ready_ = Clock::now();
      return true;
    }
  }

  // SIGTERM and wait (SIGKILL after `timeout`); the wait status.
  int stop(std::chrono::milliseconds timeout = 60s) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return reap(timeout);
  }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  int kill9() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    return reap(30s);
  }
  // Waits for the child; escalates to SIGKILL after `timeout`.
  int reap(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_status_;
    int status = 0;
    auto deadline = Clock::now() + timeout;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    exit_status_ = status;
    return status;
  }

  std::string log_tail(std::size_t bytes = 4000) const {
    std::string text = read_text(log_path_);
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int exit_status() const { return exit_status_; }
  const std::string& ready_line() const { return ready_line_; }
  const std::string& error() const { return error_; }
  double ready_ms() const {
    return std::chrono::duration<double, std::milli>(ready_ - started_).count();
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_status_ = -1;
  std::string log_path_;
  std::string ready_line_;
  std::string error_;
  Clock::time_point started_{};
  Clock::time_point ready_{};
};

// The value of `key=` in a ready line (up to the next blank).
inline std::string ready_field(const std::string& line, const std::string& key) {
  auto at = line.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return line.substr(at, line.find(' ', at) - at);
}

// `rmq-connect broker` on free ports.
class BrokerChild : public Child {
 public:
  bool start_broker(const std::string& store, const std::string& log_path) {
    if (!start({"broker", "--store", store, "--namesrv-port", "0", "--broker-port", "0"}, log_path,
               "broker ready:")) {
      return false;
    }
    namesrv_ = ready_field(ready_line(), "namesrv");
    return !namesrv_.empty();
  }
  const std::string& namesrv() const { return namesrv_; }

 private:
  std::string namesrv_;
};

// One task as the status routes show it (seed shape: workerId).
struct TaskView {
  int id = -1;
  std::string state;
  std::string worker;
  bool operator==(const TaskView&) const = default;
};

// `rmq-connect distributed <conf> [connector files]`.
class WorkerChild : public Child {
 public:
  bool start_worker(const std::string& conf, const std::string& log_path,
                    const std::vector<std::string>& connector_files = {},
                    std::chrono::milliseconds timeout = 30s) {
    std::vector<std::string> args = {"distributed", conf};
    args.insert(args.end(), connector_files.begin(), connector_files.end());
    if (!start(args, log_path, "worker ready:", timeout)) return false;
    // worker ready: rest=http://HOST:PORT namesrv=... worker=ID cluster=C (N ms)
    std::string rest = ready_field(ready_line(), "rest");
    auto colon = rest.rfind(':');
    port_ = colon == std::string::npos
                ? 0
                : static_cast<std::uint16_t>(std::atoi(rest.c_str() + colon + 1));
    worker_id_ = ready_field(ready_line(), "worker");
    return port_ != 0;
  }

  HttpReply get(const std::string& target) const { return http(port_, "GET", target); }
  HttpReply post(const std::string& target, std::optional<std::string> body = std::nullopt) const {
    return http(port_, "POST", target, std::move(body));
  }
  HttpReply put(const std::string& target, std::optional<std::string> body = std::nullopt) const {
    return http(port_, "PUT", target, std::move(body));
  }
  HttpReply del(const std::string& target) const { return http(port_, "DELETE", target); }

  // The connector's tasks from GET /connectors/{name}/status (seed shape), sorted by id; nullopt
  // when the route does not answer 200.
  std::optional<std::vector<TaskView>> tasks(const std::string& name) const {
    auto r = get("/connectors/" + name + "/status");
    if (r.status != 200) return std::nullopt;
    Json body = r.json()["body"];
    if (!body.is_object() || !body["tasks"].is_array()) return std::nullopt;
    std::vector<TaskView> out;
    for (const auto& t : body["tasks"]) {
      out.push_back(TaskView{t.value("id", -1), t.value("state", ""), t.value("workerId", "")});
    }
    std::sort(out.begin(), out.end(),
              [](const TaskView& a, const TaskView& b) { return a.id < b.id; });
    return out;
  }
  // The connector's own state (seed shape), "" when unknown.
  std::string connector_state(const std::string& name) const {
    auto r = get("/connectors/" + name + "/status");
    if (r.status != 200) return "";
    return r.json()["body"]["connector"].value("state", "");
  }
  // This worker's tasks by /allocated/tasks, as "connector-task" -> taskState.
  std::map<std::string, std::string> allocated() const {
    std::map<std::string, std::string> out;
    auto r = get("/allocated/tasks");
    if (r.status != 200) return out;
    Json body = r.json()["body"];
    if (!body.is_object()) return out;
    for (const auto& [bucket, list] : body.items()) {
      for (const auto& t : list) {
        out[t.value("connectorName", "") + "-" + std::to_string(t.value("taskId", -1))] =
            t.value("taskState", "");
      }
    }
    return out;
  }

  std::uint16_t port() const { return port_; }
  const std::string& worker_id() const { return worker_id_; }

 private:
  std::uint16_t port_ = 0;
  std::string worker_id_;
};

// True when `tasks` has exactly `count` tasks, all in `state`, each on a worker of `live`.
inline bool all_tasks(const std::optional<std::vector<TaskView>>& tasks, std::size_t count,
                      const std::string& state, const std::set<std::string>& live) {
  if (!tasks || tasks->size() != count) return false;
  for (const auto& t : *tasks) {
    if (t.state != state || !live.count(t.worker)) return false;
  }
  return true;
}

inline std::string describe(const std::optional<std::vector<TaskView>>& tasks) {
  if (!tasks) return "(no status)";
  std::string out;
  for (const auto& t : *tasks) {
    out += (out.empty() ? "" : ", ") + std::to_string(t.id) + ":" + t.state + "@" + t.worker;
  }
  return "[" + out + "]";
}

}  // namespace rmqc::itest
