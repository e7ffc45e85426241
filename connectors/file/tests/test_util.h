#pragma once

#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace rmqc::connectors::file::testing {

namespace fs = std::filesystem;

using rmqc::testing::FakeOffsetReader;
using rmqc::testing::FakeSinkContext;
using rmqc::testing::FakeSourceContext;
using rmqc::testing::ScratchDir;

inline void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace rmqc::connectors::file::testing
