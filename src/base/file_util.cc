#include "base/file_util.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace rmqc {

Error errno_error(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return Error(ErrorCode::kResourceExhausted, "disk full: " + msg, /*retriable=*/true);
  }
  return Error(ErrorCode::kIoError, std::move(msg));
}

Result<void> make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errno_error("mkdir", dir, ec.value());
  return {};
}

Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open dir", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error("fsync dir", dir, err);
  return {};
}

namespace {

Result<void> write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_error("write", path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

}  // namespace

Result<void> atomic_write_file(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("open", tmp, errno);
  auto written = write_all(fd, content.data(), content.size(), tmp);
  if (written.ok() && ::fsync(fd) != 0) written = errno_error("fsync", tmp, errno);
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());  // never leave a half-written temp behind on a full disk
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = errno_error("rename", tmp, errno);
    ::unlink(tmp.c_str());
    return err;
  }
  return fsync_dir(std::filesystem::path(path).parent_path().string());
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, "no such file: " + path);
    return errno_error("open", path, errno);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errno_error("read", path, err);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

}  // namespace rmqc
