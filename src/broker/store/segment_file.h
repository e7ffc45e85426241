#pragma once

#include "rmqc/base/result.h"

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

namespace rmqc::broker {

// One fixed-capacity file of a segmented log (commit log or consume queue), named by the offset
// of its first byte.
//
// Writes use pwrite, reads use a read-only MAP_SHARED mapping of the whole capacity:
//  - pwrite reports a full disk as ENOSPC, which we turn into a clean rejection; a store through
//    a writable mapping of a sparse file would instead raise SIGBUS in the middle of an append.
//  - the mapping shares the page cache with pwrite, so readers get zero-copy views of committed
//    bytes without a syscall. Readers only touch bytes below the published write position, which
//    are always inside the file (no SIGBUS past EOF).
//  - files are not preallocated: the file length is the written length, so disk usage is exact
//    and recovery never mistakes preallocated zeros for data.
// Shared ownership keeps the mapping alive for readers while retention unlinks the file.
class SegmentFile {
 public:
  static Result<std::shared_ptr<SegmentFile>> open(const std::string& path, int64_t base_offset,
                                                   int64_t capacity, bool create);
  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  int64_t base_offset() const { return base_offset_; }
  int64_t capacity() const { return capacity_; }
  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }

  Result<void> write_at(int64_t pos, const void* bytes, size_t n);
  Result<void> writev_at(int64_t pos, const iovec* iov, int iovcnt, size_t total);
  Result<void> sync();  // fdatasync: data and the file length, which is all recovery needs
  Result<void> truncate(int64_t size);
  Result<int64_t> file_size() const;
  Result<int64_t> mtime_ms() const;
  Result<void> unlink();  // the mapping stays valid until the last reference goes away

 private:
  SegmentFile(std::string path, int fd, int64_t base, int64_t capacity, const uint8_t* data)
      : path_(std::move(path)), fd_(fd), base_offset_(base), capacity_(capacity), data_(data) {}

  std::string path_;
  int fd_;
  int64_t base_offset_;
  int64_t capacity_;
  const uint8_t* data_;
};

}  // namespace rmqc::broker
