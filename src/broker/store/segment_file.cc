#include "broker/store/segment_file.h"

#include "broker/store/file_util.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace rmqc::broker {

Result<std::shared_ptr<SegmentFile>> SegmentFile::open(const std::string& path, int64_t base_offset,
                                                       int64_t capacity, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_error("open", path, errno);
  void* p = ::mmap(nullptr, static_cast<size_t>(capacity), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    return errno_error("mmap", path, err);
  }
  return std::shared_ptr<SegmentFile>(
      new SegmentFile(path, fd, base_offset, capacity, static_cast<const uint8_t*>(p)));
}

SegmentFile::~SegmentFile() {
  ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(capacity_));
  ::close(fd_);
}

Result<void> SegmentFile::write_at(int64_t pos, const void* bytes, size_t n) {
  iovec iov{const_cast<void*>(bytes), n};
  return writev_at(pos, &iov, 1, n);
}

Result<void> SegmentFile::writev_at(int64_t pos, const iovec* iov, int iovcnt, size_t total) {
  if (pos < 0 || pos + static_cast<int64_t>(total) > capacity_) {
    return Error(ErrorCode::kInternal, "write beyond segment capacity: " + path_);
  }
  size_t done = 0;
  while (done < total) {
    ssize_t w;
    if (done == 0) {
      w = ::pwritev(fd_, iov, iovcnt, pos);
    } else {
      // Short write (rare): finish the remainder iovec by iovec.
      size_t skip = done;
      int i = 0;
      while (skip >= iov[i].iov_len) skip -= iov[i++].iov_len;
      w = ::pwrite(fd_, static_cast<const char*>(iov[i].iov_base) + skip, iov[i].iov_len - skip,
                   pos + static_cast<int64_t>(done));
    }
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_error("write", path_, errno);
    }
    if (w == 0) return errno_error("write", path_, ENOSPC);
    done += static_cast<size_t>(w);
  }
  return {};
}

Result<void> SegmentFile::sync() {
  if (::fdatasync(fd_) != 0) return errno_error("fdatasync", path_, errno);
  return {};
}

Result<void> SegmentFile::truncate(int64_t size) {
  if (::ftruncate(fd_, size) != 0) return errno_error("ftruncate", path_, errno);
  return {};
}

Result<int64_t> SegmentFile::file_size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_error("fstat", path_, errno);
  return static_cast<int64_t>(st.st_size);
}

Result<int64_t> SegmentFile::mtime_ms() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_error("fstat", path_, errno);
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

Result<void> SegmentFile::unlink() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return errno_error("unlink", path_, errno);
  return {};
}

}  // namespace rmqc::broker
