#include "jdbc/tests/testing/mariadb_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <mysql.h>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::connectors::jdbc::testing {
namespace {

namespace fs = std::filesystem;

const char* kBaseDir = "/tmp/rmqc-mariadb";

bool is_root() {
  return ::geteuid() == 0;
}

// A loopback port nobody listens on right now.
int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

bool process_alive(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Directories are named <owner pid>-<n>: when the owner is gone, its server is killed (the pid
// file says which, the command line must be mariadbd) and the directory removed.
void clean_stale() {
  std::error_code ec;
  if (!fs::exists(kBaseDir, ec)) return;
  for (const auto& entry : fs::directory_iterator(kBaseDir, ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t owner = static_cast<pid_t>(std::atol(name.c_str()));
    if (owner <= 0 || process_alive(owner)) continue;
    const std::string pid_text = read_file(entry.path().string() + "/mariadbd.pid");
    const pid_t server = static_cast<pid_t>(std::atol(pid_text.c_str()));
    if (server > 0 && process_alive(server)) {
      const std::string cmdline = read_file("/proc/" + std::to_string(server) + "/cmdline");
      if (cmdline.find("mariadbd") != std::string::npos) {
        ::kill(server, SIGKILL);
        for (int i = 0; i < 100 && process_alive(server); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    }
    fs::remove_all(entry.path(), ec);
  }
}

// Runs argv with stdout/stderr to log; returns the child's pid (or -1).
pid_t spawn(const std::vector<std::string>& args, const std::string& log, bool die_with_parent) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::close(null_fd);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Waits for pid to exit for up to timeout; true when it did.
bool wait_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::atomic<int> g_sequence{0};

}  // namespace

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::start(const Options& options) {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer(options));
  RMQC_RETURN_IF_ERROR(server->init());
  return server;
}

Result<void> MariaDbServer::init() {
  mysql_library_init(0, nullptr, nullptr);
  clean_stale();
  std::error_code ec;
  fs::create_directories(kBaseDir, ec);
  ::chmod(kBaseDir, 01777);
  dir_ = std::string(kBaseDir) + "/" + std::to_string(::getpid()) + "-" +
         std::to_string(g_sequence.fetch_add(1));
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_ + "/data", ec);
  // A private tmpdir: the bootstrap's temporary tables do not live in the shared /tmp, where
  // another process can remove them (seen once in CI: "Unknown table 'mysql.tmp_user_sys'").
  fs::create_directories(dir_ + "/tmp", ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir_ + ": " + ec.message());

  std::vector<std::string> install = {options_.install_db,
                                      "--no-defaults",
                                      "--datadir=" + dir_ + "/data",
                                      "--tmpdir=" + dir_ + "/tmp",
                                      "--auth-root-authentication-method=normal",
                                      "--skip-test-db",
                                      "--skip-name-resolve"};
  if (is_root()) install.push_back("--user=root");
  const pid_t pid = spawn(install, dir_ + "/install.log", true);
  if (pid < 0) return Error(ErrorCode::kIoError, "cannot run " + options_.install_db);
  int status = 0;
  if (!wait_exit(pid, std::chrono::seconds(120), &status)) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(5), &status);
    return Error(ErrorCode::kTimeout, "mariadb-install-db did not finish");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string log = read_file(dir_ + "/install.log");
    if (log.size() > 3000) log = log.substr(log.size() - 3000);
    return Error(ErrorCode::kIoError, "mariadb-install-db failed: " + log);
  }

  // The port may be taken between picking and binding: try a few.
  Error last(ErrorCode::kUnavailable, "no free port");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = pick_free_port();
    if (port_ == 0) continue;
    auto launched = launch();
    if (launched.ok()) {
      last = Error(ErrorCode::kOk, "");
      break;
    }
    last = std::move(launched).error();
  }
  if (last.code() != ErrorCode::kOk) return last;

  const std::string& u = options_.user;
  const std::string& p = options_.password;
  return exec("CREATE USER IF NOT EXISTS " + quote(u) + "@'%' IDENTIFIED BY " + quote(p) +
              "; CREATE USER IF NOT EXISTS " + quote(u) + "@'localhost' IDENTIFIED BY " + quote(p) +
              "; GRANT ALL PRIVILEGES ON *.* TO " + quote(u) +
              "@'%' WITH GRANT OPTION; GRANT ALL PRIVILEGES ON *.* TO " + quote(u) +
              "@'localhost' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS `" +
              options_.database + "` CHARACTER SET utf8mb4; FLUSH PRIVILEGES");
}

Result<void> MariaDbServer::launch() {
  std::vector<std::string> args = {options_.mariadbd,
                                   "--no-defaults",
                                   "--datadir=" + dir_ + "/data",
                                   "--tmpdir=" + dir_ + "/tmp",
                                   "--port=" + std::to_string(port_),
                                   "--bind-address=127.0.0.1",
                                   "--socket=" + socket_path(),
                                   "--pid-file=" + dir_ + "/mariadbd.pid",
                                   "--log-error=" + dir_ + "/error.log",
                                   "--log-bin=" + dir_ + "/binlog",
                                   "--binlog-format=ROW",
                                   "--server-id=1",
                                   "--innodb-flush-log-at-trx-commit=0",
                                   "--sync-binlog=0",
                                   "--skip-name-resolve",
                                   "--character-set-server=utf8mb4",
                                   "--collation-server=utf8mb4_general_ci",
                                   "--max-allowed-packet=256M",
                                   "--innodb-buffer-pool-size=128M",
                                   "--innodb-use-native-aio=0",
                                   "--port-open-timeout=20",
                                   "--secure-file-priv=" + dir_};
  if (is_root()) args.push_back("--user=root");
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = spawn(args, dir_ + "/mariadbd.out", true);
  if (pid_ < 0) {
    pid_ = -1;
    return Error(ErrorCode::kIoError, "cannot run " + options_.mariadbd);
  }
  auto ready = wait_ready();
  if (!ready.ok()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    wait_exit(pid_, std::chrono::seconds(10), &status);
    pid_ = -1;
    return ready;
  }
  return {};
}

Result<void> MariaDbServer::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return Error(ErrorCode::kUnavailable, "mariadbd exited while starting (port " +
                                                std::to_string(port_) + "): " + log_tail(3000));
    }
    MYSQL* m = mysql_init(nullptr);
    unsigned int timeout = 2;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    unsigned int tcp = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &tcp);
    // Over TCP with the root account (no password from 127.0.0.1 is not allowed: use the
    // socket for root) — a refused login still shows the server listens.
    const bool connected = mysql_real_connect(m, host_.c_str(), "root", "", nullptr,
                                              static_cast<unsigned>(port_), nullptr, 0) != nullptr;
    const unsigned code = mysql_errno(m);
    mysql_close(m);
    if (connected || (code != 0 && code < 2000)) {
      // Listening on TCP; root works over the socket.
      auto ok = exec("SELECT 1");
      if (ok.ok()) return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Error(ErrorCode::kTimeout, "mariadbd did not accept connections: " + log_tail(3000));
}

MariaDbServer::~MariaDbServer() {
  if (pid_ > 0) {
    auto stopped = stop();
    (void)stopped;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string MariaDbServer::url(bool with_database) const {
  std::string out = "jdbc:mysql://" + host_ + ":" + std::to_string(port_);
  if (with_database) out += "/" + options_.database;
  return out;
}

ConnectionConfig MariaDbServer::connection_config(const std::string& time_zone,
                                                  bool with_database) const {
  ConnectionConfig c;
  c.url = url(with_database);
  c.host = host_;
  c.port = port_;
  if (with_database) c.database = options_.database;
  c.user = options_.user;
  c.password = options_.password;
  c.time_zone = time_zone;
  return c;
}

Result<void> MariaDbServer::stop() {
  if (pid_ <= 0) return {};
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!wait_exit(pid_, std::chrono::seconds(60), &status)) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, std::chrono::seconds(10), &status);
    pid_ = -1;
    return Error(ErrorCode::kTimeout, "mariadbd did not stop on SIGTERM; killed");
  }
  pid_ = -1;
  return {};
}

Result<void> MariaDbServer::restart() {
  RMQC_RETURN_IF_ERROR(stop());
  return launch();
}

Result<void> MariaDbServer::exec(const std::string& sql) const {
  MYSQL* m = mysql_init(nullptr);
  unsigned int timeout = 5;
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const std::string socket = socket_path();
  if (mysql_real_connect(m, "localhost", "root", "", nullptr, 0, socket.c_str(),
                         CLIENT_MULTI_STATEMENTS) == nullptr) {
    Error e(ErrorCode::kUnavailable, std::string("root login: ") + mysql_error(m));
    mysql_close(m);
    return e;
  }
  Result<void> result;
  if (mysql_real_query(m, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    result = Error(ErrorCode::kInvalidArgument, std::string(mysql_error(m)) + " in: " + sql);
  } else {
    // Read every result of a multi-statement string; stop at the first failing one.
    while (true) {
      MYSQL_RES* res = mysql_store_result(m);
      if (res != nullptr) mysql_free_result(res);
      const int next = mysql_next_result(m);
      if (next > 0) {
        result = Error(ErrorCode::kInvalidArgument, std::string(mysql_error(m)) + " in: " + sql);
        break;
      }
      if (next < 0) break;
    }
  }
  mysql_close(m);
  return result;
}

std::string MariaDbServer::log_tail(std::size_t bytes) const {
  std::string log = read_file(dir_ + "/error.log") + read_file(dir_ + "/mariadbd.out");
  if (log.size() > bytes) log = log.substr(log.size() - bytes);
  return log;
}

MariaDbServer* MariaDbServer::shared(std::string* error) {
  static std::mutex mutex;
  static std::unique_ptr<MariaDbServer> server;
  static std::string failure;
  static bool tried = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!tried) {
    tried = true;
    auto started = start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.error().to_string();
    }
  }
  if (!server && error != nullptr) *error = failure;
  return server.get();
}

void MariaDbEnvironment::SetUp() {
  std::string error;
  ASSERT_NE(MariaDbServer::shared(&error), nullptr) << "MariaDB test server: " << error;
}

}  // namespace rmqc::connectors::jdbc::testing
