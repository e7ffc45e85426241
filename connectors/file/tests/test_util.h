#pragma once

#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace rmqc::connectors::file::testing {

namespace fs = std::filesystem;

class FakeOffsetReader final : public OffsetStorageReader {
 public:
  std::optional<RecordOffset> read_offset(const RecordPartition& partition) override {
    auto it = offsets.find(partition);
    if (it == offsets.end()) return std::nullopt;
    return it->second;
  }
  OffsetMap read_offsets(const std::vector<RecordPartition>& partitions) override {
    OffsetMap out;
    for (const auto& p : partitions) {
      if (auto o = read_offset(p)) out.emplace(p, *o);
    }
    return out;
  }
  OffsetMap offsets;
};

class FakeSourceContext final : public SourceTaskContext {
 public:
  OffsetStorageReader& offset_storage_reader() override { return reader; }
  std::string_view connector_name() const override { return "file-source"; }
  std::string_view task_name() const override { return "file-source-0"; }
  const KeyValue& configs() const override { return config; }
  FakeOffsetReader reader;
  KeyValue config;
};

class FakeSinkContext final : public SinkTaskContext {
 public:
  std::string_view connector_name() const override { return "file-sink"; }
  std::string_view task_name() const override { return "file-sink-0"; }
  const KeyValue& configs() const override { return config; }
  void reset_offset(const RecordPartition&, const RecordOffset&) override {}
  void reset_offset(const OffsetMap&) override {}
  void pause(const std::vector<RecordPartition>&) override {}
  void resume(const std::vector<RecordPartition>&) override {}
  std::vector<RecordPartition> assignment() const override { return {}; }
  ErrorRecordReporter* error_record_reporter() override { return nullptr; }
  KeyValue config;
};

// A scratch directory per test, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("rmqc-file-" + std::string(info->test_suite_name()) + "-" +
                                         info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

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
