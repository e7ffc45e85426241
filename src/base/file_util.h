#pragma once

#include "rmqc/base/error.h"
#include "rmqc/base/result.h"

#include <string>
#include <string_view>

namespace rmqc {

// errno -> Error. ENOSPC/EDQUOT/EFBIG become kResourceExhausted (disk or quota full, retriable),
// the rest kIoError.
Error errno_error(std::string_view what, const std::string& path, int err);

Result<void> make_dirs(const std::string& dir);
Result<void> fsync_dir(const std::string& dir);

// Replaces `path` atomically and durably: write path.tmp, fsync it, rename over path, fsync the
// directory. A crash leaves either the old or the new content, never a mix.
Result<void> atomic_write_file(const std::string& path, std::string_view content);
// Whole file; kNotFound if it does not exist.
Result<std::string> read_file(const std::string& path);

}  // namespace rmqc
