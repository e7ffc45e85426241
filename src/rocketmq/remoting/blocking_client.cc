#include "rocketmq/remoting/blocking_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

namespace rmqc::remoting {
namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

BlockingClient::~BlockingClient() {
  close();
}

void BlockingClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  decoder_ = rocketmq::FrameDecoder();
}

Result<void> BlockingClient::connect(std::string_view address, std::chrono::milliseconds timeout) {
  close();
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, "address '" + std::string(address) + "' has no port");
  }
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error::retriable(ErrorCode::kUnavailable,
                            "cannot resolve " + std::string(address) + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
        errno = err ? err : errno;
        rc = -1;
      } else if (rc != 0) {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    return Error::retriable(ErrorCode::kUnavailable,
                            "cannot connect to " + std::string(address) + ": " + last_error);
  }
  return {};
}

Result<void> BlockingClient::write_all(std::string_view bytes) {
  if (fd_ < 0) return Error(ErrorCode::kUnavailable, "not connected");
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      std::string why = std::strerror(errno);
      close();
      return Error::retriable(ErrorCode::kUnavailable, "send failed: " + why);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> BlockingClient::send_raw(std::string_view bytes) {
  return write_all(bytes);
}

Result<rocketmq::RemotingCommand> BlockingClient::read_one(
    std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto next = decoder_.next();
    if (!next.ok()) {
      close();
      return std::move(next).error();
    }
    if (next->has_value()) return std::move(**next);
    if (fd_ < 0) return Error(ErrorCode::kUnavailable, "not connected");
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc == 0) return Error::retriable(ErrorCode::kTimeout, "timed out waiting for a reply");
    if (rc < 0 && errno != EINTR) return Error(ErrorCode::kIoError, std::strerror(errno));
    auto buf = decoder_.prepare(64 * 1024);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n == 0) {
      decoder_.commit(0);
      close();
      return Error::retriable(ErrorCode::kUnavailable, "connection closed by peer");
    }
    if (n < 0) {
      decoder_.commit(0);
      if (errno == EAGAIN || errno == EINTR) continue;
      std::string why = std::strerror(errno);
      close();
      return Error::retriable(ErrorCode::kUnavailable, "receive failed: " + why);
    }
    decoder_.commit(static_cast<std::size_t>(n));
  }
}

Result<rocketmq::RemotingCommand> BlockingClient::invoke(rocketmq::RemotingCommand request,
                                                         std::chrono::milliseconds timeout) {
  request.opaque = next_opaque_++;
  request.flag &= ~rocketmq::RPC_TYPE;
  RMQC_ASSIGN_OR_RETURN(std::string frame, rocketmq::encode_frame(request));
  RMQC_RETURN_IF_ERROR(write_all(frame));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    RMQC_ASSIGN_OR_RETURN(rocketmq::RemotingCommand reply, read_one(deadline));
    if (!reply.is_response()) {
      server_requests_.push_back(std::move(reply));
      continue;
    }
    if (reply.opaque == request.opaque) return reply;
    // A late reply to an earlier request that timed out: drop it.
  }
}

Result<void> BlockingClient::invoke_oneway(rocketmq::RemotingCommand request) {
  request.opaque = next_opaque_++;
  request.mark_oneway();
  RMQC_ASSIGN_OR_RETURN(std::string frame, rocketmq::encode_frame(request));
  return write_all(frame);
}

Result<rocketmq::RemotingCommand> BlockingClient::take_server_request(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (server_requests_.empty()) {
    RMQC_ASSIGN_OR_RETURN(rocketmq::RemotingCommand cmd, read_one(deadline));
    if (!cmd.is_response()) server_requests_.push_back(std::move(cmd));
  }
  auto cmd = std::move(server_requests_.front());
  server_requests_.pop_front();
  return cmd;
}

}  // namespace rmqc::remoting
