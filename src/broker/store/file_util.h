#pragma once

#include "rmqc/base/error.h"
#include "rmqc/base/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// errno -> Error. ENOSPC/EDQUOT/EFBIG become kResourceExhausted (disk or quota full), the rest
// kIoError.
Error errno_error(std::string_view what, const std::string& path, int err);

// RocketMQ segment file name: the starting offset, zero-padded to 20 digits.
std::string segment_file_name(int64_t base_offset);
// Parses a 20-digit segment name; -1 if the name is not one.
int64_t parse_segment_file_name(std::string_view name);

// Segment files of a directory, sorted by base offset (missing directory = empty list).
struct SegmentFileInfo {
  int64_t base_offset;
  std::string path;
};
Result<std::vector<SegmentFileInfo>> list_segment_files(const std::string& dir);

Result<void> make_dirs(const std::string& dir);
Result<void> fsync_dir(const std::string& dir);

// Replaces `path` atomically and durably: write path.tmp, fsync it, rename over path, fsync the
// directory. A crash leaves either the old or the new content, never a mix.
Result<void> atomic_write_file(const std::string& path, std::string_view content);
// Whole file; kNotFound if it does not exist.
Result<std::string> read_file(const std::string& path);

}  // namespace rmqc::broker
