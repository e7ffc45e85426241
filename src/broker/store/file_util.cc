#include "broker/store/file_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace rmqc::broker {

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

}  // namespace rmqc::broker
