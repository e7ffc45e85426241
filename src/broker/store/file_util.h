#pragma once

#include "rmqc/base/result.h"

#include "base/file_util.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::broker {

// The generic file helpers live in base/ (shared with the worker's state files).
using rmqc::atomic_write_file;
using rmqc::errno_error;
using rmqc::fsync_dir;
using rmqc::make_dirs;
using rmqc::read_file;

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

}  // namespace rmqc::broker
