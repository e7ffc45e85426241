// Helpers for integration tests that run `rmq-connect standalone` as a child process: temp dirs,
// the worker process (ready line, SIGTERM, SIGKILL), a minimal HTTP/1.1 client over a raw socket
// (so requests are byte-exact: a bodiless PUT carries no Content-Length, as curl sends it) and
// polling with a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::itest {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::string worker_bin() {
  const char* bin = std::getenv("RMQ_CONNECT_BIN");
  return bin ? bin : "";
}

// A fresh directory removed (recursively) on destruction.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(Clock::now().time_since_epoch().count()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_file(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream out(path, append ? std::ios::app | std::ios::binary : std::ios::binary);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Complete lines of a file (a trailing partial line is ignored).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::string text = read_text(path);
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  return out;
}

inline std::size_t count_lines(const std::string& path) {
  std::string text = read_text(path);
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// The value of one sample ("name{labels} value") of a /metrics text, or -1 when absent.
inline double metrics_sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (std::size_t at = 0; at < text.size();) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) {
      return std::stod(text.substr(at + prefix.size(), nl - at - prefix.size()));
    }
    at = nl + 1;
  }
  return -1;
}

// Polls `condition` every `step` until it holds or `timeout` passed; the last result.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = 20s,
                       std::chrono::milliseconds step = 50ms) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// A worker.conf for tests: free ports, embedded broker, fast commits.
inline std::string worker_conf(const std::string& store, const std::string& extra = "") {
  return "workerId=test-worker\nhttpPort=0\nnamesrvAddr=\nstorePathRootDir=" + store +
         "\nembeddedNamesrvPort=0\nembeddedBrokerPort=0\n"
         "offsetCommitIntervalMsConfig=500\n" +
         extra;
}

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
  Json json() const {
    Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    return j;
  }
};

// One request on a fresh connection ("Connection: close"); reads the answer to EOF.
// body == nullopt: no body and no Content-Length header at all.
inline HttpReply http(std::uint16_t port, const std::string& method, const std::string& target,
                      std::optional<std::string> body = std::nullopt,
                      const std::string& content_type = "application/json") {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return reply;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: */*\r\nConnection: close\r\n";
  if (body) {
    req += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body->size()) +
           "\r\n\r\n" + *body;
  } else {
    req += "\r\n";
  }
  for (std::size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return reply;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  reply.headers = raw.substr(0, head_end);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// `rmq-connect standalone` as a child: stdout is read for the ready line (and kept open so the
// child never gets SIGPIPE), stderr goes to a log file.
class WorkerProcess {
 public:
  WorkerProcess() = default;
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  ~WorkerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Starts the worker and waits (up to `timeout`) for "worker ready: ..."; false on failure
  // (the reason is in error()).
  bool start(const std::string& conf, const std::vector<std::string>& connector_files,
             const std::string& log_path, std::chrono::milliseconds timeout = 20s) {
    std::string bin = worker_bin();
    if (bin.empty()) {
      error_ = "RMQ_CONNECT_BIN is not set";
      return false;
    }
    log_path_ = log_path;
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
      std::vector<std::string> args = {bin, "standalone", conf};
      args.insert(args.end(), connector_files.begin(), connector_files.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
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
        error_ = "no ready line within the timeout; output so far: " + pending;
        return false;
      }
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(out_fd_, buf, sizeof(buf));
      if (n <= 0) {
        error_ = "the worker exited before it was ready; stderr: " + log_tail();
        return false;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      auto at = pending.find("worker ready:");
      if (at == std::string::npos) continue;
      auto nl = pending.find('\n', at);
      if (nl == std::string::npos) continue;
      ready_ = Clock::now();
      ready_line_ = pending.substr(at, nl - at);
      break;
    }
    // worker ready: rest=http[s]://HOST:PORT namesrv=HOST:PORT worker=ID (N ms)
    auto rest = ready_line_.find("://", ready_line_.find("rest="));
    auto colon = ready_line_.find(':', rest + 3);
    port_ = static_cast<std::uint16_t>(std::atoi(ready_line_.c_str() + colon + 1));
    auto ns = ready_line_.find("namesrv=");
    namesrv_ = ready_line_.substr(ns + 8, ready_line_.find(' ', ns) - ns - 8);
    auto paren = ready_line_.rfind('(');
    reported_ready_ms_ = std::atol(ready_line_.c_str() + paren + 1);
    return port_ != 0;
  }

  // SIGTERM and wait (SIGKILL after `timeout`); the wait status.
  int stop(std::chrono::milliseconds timeout = 30s) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return reap(timeout);
  }
  // SIGKILL, as a crash.
  int kill9() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    return reap(30s);
  }
  // Waits for the child; escalates to SIGKILL after `timeout`.
  int reap(std::chrono::milliseconds timeout) {
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
    return status;
  }

  HttpReply get(const std::string& target) const { return http(port_, "GET", target); }
  HttpReply post(const std::string& target, std::optional<std::string> body = std::nullopt) const {
    return http(port_, "POST", target, std::move(body));
  }
  HttpReply put(const std::string& target, std::optional<std::string> body = std::nullopt) const {
    return http(port_, "PUT", target, std::move(body));
  }
  HttpReply del(const std::string& target) const { return http(port_, "DELETE", target); }

  // The seed-shaped status of a connector, or null.
  Json status(const std::string& name) const {
    auto r = get("/connectors/" + name + "/status");
    if (r.status != 200) return Json();
    return r.json()["body"];
  }
  // True when the connector and every task (at least one) are in `state`.
  bool all_in(const std::string& name, const std::string& state) const {
    Json s = status(name);
    if (!s.is_object() || s["connector"]["state"] != state || s["tasks"].empty()) return false;
    for (const auto& t : s["tasks"]) {
      if (t["state"] != state) return false;
    }
    return true;
  }

  std::string log_tail(std::size_t bytes = 4000) const {
    std::string text = read_text(log_path_);
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::string& namesrv() const { return namesrv_; }
  const std::string& ready_line() const { return ready_line_; }
  const std::string& error() const { return error_; }
  long reported_ready_ms() const { return reported_ready_ms_; }
  // Fork to ready line, measured here.
  double measured_ready_ms() const {
    return std::chrono::duration<double, std::milli>(ready_ - started_).count();
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string namesrv_;
  std::string ready_line_;
  std::string error_;
  std::string log_path_;
  long reported_ready_ms_ = -1;
  Clock::time_point started_{};
  Clock::time_point ready_{};
};

}  // namespace rmqc::itest
