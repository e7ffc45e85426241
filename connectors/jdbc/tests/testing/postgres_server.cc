#include "jdbc/tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::connectors::jdbc::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kRoot = "/tmp/rmqc-pg";

struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<RunAs> run_as() {
  RunAs r;
  if (::geteuid() != 0) return r;
  struct passwd* pw = ::getpwnam("postgres");
  if (!pw) {
    return Error(ErrorCode::kNotFound,
                 "running as root and there is no 'postgres' user to run the server as");
  }
  r.switch_user = true;
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool alive(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// Forks and execs argv as the server's user, stdout/stderr appended to log_path.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log_path,
                    bool die_with_parent) {
  RMQC_ASSIGN_OR_RETURN(RunAs as, run_as());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Error(ErrorCode::kIoError, "cannot open " + log_path);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return Error(ErrorCode::kIoError, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::setpgid(0, 0);  // a ^C of the test run reaches the test, which stops the server
    if (as.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(as.gid, as.gid, as.gid) != 0 ||
          ::setresuid(as.uid, as.uid, as.uid) != 0) {
        ::_exit(126);
      }
    }
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);  // after setuid, which clears it
      if (::getppid() != parent) ::_exit(125);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

Result<int> wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error(ErrorCode::kIoError, "waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Servers of earlier runs whose test process is gone: kill the postmaster, remove the directory.
void clean_stale() {
  std::error_code ec;
  if (!fs::exists(kRoot, ec)) return;
  for (const auto& entry : fs::directory_iterator(kRoot, ec)) {
    const std::string dir = entry.path().string();
    const std::string owner_text = read_file(dir + "/owner.pid");
    const pid_t owner = static_cast<pid_t>(std::atoi(owner_text.c_str()));
    if (owner > 0 && alive(owner)) continue;
    if (owner <= 0) {
      // Being created right now, or broken: leave young directories alone.
      auto age = fs::file_time_type::clock::now() - fs::last_write_time(entry.path(), ec);
      if (ec || age < std::chrono::minutes(10)) continue;
    }
    const std::string pm = read_file(dir + "/data/postmaster.pid");
    const pid_t postmaster = static_cast<pid_t>(std::atoi(pm.c_str()));
    if (postmaster > 0 && alive(postmaster)) {
      std::string comm = read_file("/proc/" + std::to_string(postmaster) + "/comm");
      if (comm.rfind("postgres", 0) == 0) {
        ::kill(postmaster, SIGQUIT);
        for (int i = 0; i < 50 && alive(postmaster); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (alive(postmaster)) ::kill(postmaster, SIGKILL);
      }
    }
    fs::remove_all(dir, ec);
  }
}

std::string conninfo(const std::string& host, int port, const std::string& db,
                     const std::string& user, const std::string& password) {
  return "host=" + host + " port=" + std::to_string(port) + " dbname=" + db + " user=" + user +
         " password=" + password + " connect_timeout=5";
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::start(const Options& options) {
  std::unique_ptr<PostgresServer> server(new PostgresServer(options));
  RMQC_RETURN_IF_ERROR(server->init());
  return server;
}

Result<void> PostgresServer::init() {
  RMQC_ASSIGN_OR_RETURN(RunAs as, run_as());
  clean_stale();
  std::error_code ec;
  fs::create_directories(kRoot, ec);
  ::chmod(kRoot, 0777 | S_ISVTX);
  std::string templ = std::string(kRoot) + "/pg-XXXXXX";
  if (!::mkdtemp(templ.data())) {
    return Error(ErrorCode::kIoError, std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = templ;
  {
    std::ofstream(dir_ + "/owner.pid") << ::getpid() << "\n";
    std::ofstream(dir_ + "/pwfile") << options_.password << "\n";
  }
  if (as.switch_user) {
    for (const std::string& p : {dir_, dir_ + "/pwfile"}) {
      if (::chown(p.c_str(), as.uid, as.gid) != 0) {
        return Error(ErrorCode::kIoError, "chown " + p + ": " + std::strerror(errno));
      }
    }
  }
  const std::string log = dir_ + "/postgres.log";
  RMQC_ASSIGN_OR_RETURN(
      pid_t initdb,
      spawn({options_.bin_dir + "/initdb", "-D", data_dir(), "-U", options_.user,
             "--pwfile=" + dir_ + "/pwfile", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
            log, /*die_with_parent=*/false));
  RMQC_ASSIGN_OR_RETURN(int rc, wait_exit(initdb));
  if (rc != 0) {
    return Error(ErrorCode::kInternal,
                 "initdb exited with " + std::to_string(rc) + ":\n" + log_tail());
  }
  port_ = free_port();
  if (port_ <= 0) return Error(ErrorCode::kIoError, "no free port");
  RMQC_RETURN_IF_ERROR(launch());
  return exec("CREATE DATABASE " + options_.database, "postgres");
}

Result<void> PostgresServer::launch() {
  const std::string log = dir_ + "/postgres.log";
  RMQC_ASSIGN_OR_RETURN(pid_t pid, spawn({options_.bin_dir + "/postgres",
                                          "-D",
                                          data_dir(),
                                          "-p",
                                          std::to_string(port_),
                                          "-c",
                                          "listen_addresses=" + host_,
                                          "-c",
                                          "unix_socket_directories=" + dir_,
                                          "-c",
                                          "fsync=off",
                                          "-c",
                                          "synchronous_commit=off",
                                          "-c",
                                          "full_page_writes=off",
                                          "-c",
                                          "wal_level=" + options_.wal_level,
                                          "-c",
                                          "max_wal_senders=32",
                                          "-c",
                                          "max_replication_slots=32",
                                          "-c",
                                          "max_connections=200",
                                          "-c",
                                          "log_min_messages=warning",
                                          "-c",
                                          "log_min_error_statement=panic"},
                                         log, /*die_with_parent=*/true));
  pid_ = pid;
  const std::string info =
      "host=" + host_ + " port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error(ErrorCode::kUnavailable, "postgres exited at start:\n" + log_tail());
    }
    if (PQping(info.c_str()) == PQPING_OK) return ok_result();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (void)stop();
  return Error(ErrorCode::kTimeout, "postgres did not accept connections in 60 s:\n" + log_tail());
}

Result<void> PostgresServer::stop() {
  if (pid_ <= 0) return ok_result();
  ::kill(pid_, SIGINT);  // fast shutdown
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGQUIT);
      (void)wait_exit(pid_);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return ok_result();
}

Result<void> PostgresServer::restart() {
  RMQC_RETURN_IF_ERROR(stop());
  return launch();
}

PostgresServer::~PostgresServer() {
  (void)stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::url() const {
  return "jdbc:postgresql://" + host_ + ":" + std::to_string(port_) + "/" + options_.database;
}

ConnectionConfig PostgresServer::connection_config(const std::string& time_zone) const {
  ConnectionConfig config;
  config.url = url();
  config.host = host_;
  config.port = port_;
  config.database = options_.database;
  config.user = options_.user;
  config.password = options_.password;
  config.time_zone = time_zone;
  return config;
}

Result<void> PostgresServer::exec(const std::string& sql, const std::string& database) const {
  const std::string info = conninfo(host_, port_, database.empty() ? options_.database : database,
                                    options_.user, options_.password);
  PGconn* conn = PQconnectdb(info.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return Error(ErrorCode::kUnavailable, "connecting to the test server: " + message);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(res);
  std::string message = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error(ErrorCode::kInternal, "test server: " + sql + ": " + message);
  }
  return ok_result();
}

std::string PostgresServer::log_tail(std::size_t bytes) const {
  const std::string text = read_file(dir_ + "/postgres.log");
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

PostgresServer* PostgresServer::shared(std::string* error) {
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    auto started = start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.error().to_string();
    }
  }
  if (!server && error) *error = failure;
  return server.get();
}

void PostgresEnvironment::SetUp() {
  std::string error;
  ASSERT_NE(PostgresServer::shared(&error), nullptr) << "PostgreSQL test server: " << error;
}

}  // namespace rmqc::connectors::jdbc::testing
