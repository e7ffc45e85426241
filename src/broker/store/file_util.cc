#include "broker/store/file_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace rmqc::broker {

Error errno_error(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return Error(ErrorCode::kResourceExhausted, "disk full: " + msg, /*retriable=*/true);
  }
  return Error(ErrorCode::kIoError, std::move(msg));
}

std::string segment_file_name(int64_t base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(base_offset));
  return buf;
}

int64_t parse_segment_file_name(std::string_view name) {
  if (name.size() != 20) return -1;
  int64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<std::vector<SegmentFileInfo>> list_segment_files(const std::string& dir) {
  std::vector<SegmentFileInfo> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return errno_error("opendir", dir, errno);
  }
  while (dirent* e = ::readdir(d)) {
    int64_t base = parse_segment_file_name(e->d_name);
    if (base >= 0) out.push_back({base, dir + "/" + e->d_name});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.base_offset < b.base_offset; });
  return out;
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

}  // namespace rmqc::broker
