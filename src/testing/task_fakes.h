#pragma once

// Test support for code that runs connector tasks outside a worker: in-memory task contexts and
// a scratch directory per test. Header-only; tests of any module include it.

#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace rmqc::testing {

// Committed source positions, set by the test.
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
  std::string_view connector_name() const override { return connector; }
  std::string_view task_name() const override { return task; }
  const KeyValue& configs() const override { return config; }
  ErrorRecordReporter* error_record_reporter() override { return reporter; }
  FakeOffsetReader reader;
  KeyValue config;
  ErrorRecordReporter* reporter = nullptr;  // set by a test of errors.tolerance=all
  std::string connector = "test-source";
  std::string task = "test-source-0";
};

// A sink context without a consumer: offset resets, pauses and the assignment are no-ops.
class FakeSinkContext final : public SinkTaskContext {
 public:
  std::string_view connector_name() const override { return connector; }
  std::string_view task_name() const override { return task; }
  const KeyValue& configs() const override { return config; }
  void reset_offset(const RecordPartition&, const RecordOffset&) override {}
  void reset_offset(const OffsetMap&) override {}
  void pause(const std::vector<RecordPartition>&) override {}
  void resume(const std::vector<RecordPartition>&) override {}
  std::vector<RecordPartition> assignment() const override { return {}; }
  ErrorRecordReporter* error_record_reporter() override { return nullptr; }
  KeyValue config;
  std::string connector = "test-sink";
  std::string task = "test-sink-0";
};

// A scratch directory per test (named after it), removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("rmqc-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace rmqc::testing
