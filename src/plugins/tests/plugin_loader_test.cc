#include "plugins/plugin_loader.h"

#include "rmqc/api/source_task.h"

#include "testing/task_fakes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rmqc::plugins {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

const fs::path kPluginDir = RMQC_TEST_PLUGIN_DIR;
const fs::path kGoodLibrary = kPluginDir / "good" / "librmqc-test-example.so";
const fs::path kBadDir = kPluginDir / "bad";
constexpr std::string_view kCounterClass = "com.example.connect.CounterSourceConnector";

using rmqc::testing::FakeSourceContext;
using rmqc::testing::ScratchDir;

std::string problems_text(const PluginLoader& loader) {
  std::string out;
  for (const auto& p : loader.problems()) out += p.to_string() + "\n";
  return out;
}

// Runs the counter source end to end through the SDK interfaces: connector -> task config ->
// task -> poll, and a second task resuming from a committed position.
void exercise_counter(PluginRegistry& registry, std::string_view name) {
  auto connector = registry.create_source_connector(name);
  ASSERT_TRUE(connector.ok()) << connector.error().to_string();
  auto& c = **connector;
  EXPECT_FALSE(c.config_def().keys().empty());
  KeyValue config{{"connect.topicname", "numbers"}, {"batch.size", "3"}, {"poll.interval.ms", "0"}};
  c.start(config);
  auto tasks = c.task_configs(4);
  ASSERT_EQ(tasks.size(), 1u);
  auto task = c.create_task();
  auto* source = dynamic_cast<SourceTask*>(task.get());
  ASSERT_NE(source, nullptr);
  FakeSourceContext context;
  source->init(context);
  source->start(tasks[0]);
  auto records = source->poll();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].value.as_int64(), 0);
  EXPECT_EQ(records[2].value.as_int64(), 2);
  EXPECT_EQ(records[2].topic(), "numbers");
  source->stop();

  // Resume: the worker committed {"count": 3}.
  FakeSourceContext resumed;
  resumed.reader.offsets.emplace(records[2].position.partition, records[2].position.offset);
  auto task2 = c.create_task();
  auto* source2 = dynamic_cast<SourceTask*>(task2.get());
  source2->init(resumed);
  source2->start(tasks[0]);
  auto more = source2->poll();
  ASSERT_FALSE(more.empty());
  EXPECT_EQ(more[0].value.as_int64(), 3);
  c.stop();
}

TEST(PluginLoaderTest, SplitsPluginPaths) {
  EXPECT_THAT(PluginLoader::split_paths(" /a, /b;/c ,,; "),
              ::testing::ElementsAre("/a", "/b", "/c"));
  EXPECT_TRUE(PluginLoader::split_paths("").empty());
}

TEST(PluginLoaderTest, AbiMismatchNamesBothSides) {
  const RmqcPluginAbi& worker = PluginLoader::worker_abi();
  EXPECT_EQ(PluginLoader::abi_mismatch(worker, worker), "");
  EXPECT_FALSE(std::string(worker.sdk_fingerprint).empty()) << "the build defines the fingerprint";

  RmqcPluginAbi plugin = worker;
  plugin.compiler_major += 1;
  plugin.stdlib_dual_abi = plugin.stdlib_dual_abi == 0 ? 1 : 0;
  const std::string msg = PluginLoader::abi_mismatch(worker, plugin);
  EXPECT_THAT(msg, AllOf(HasSubstr("compiler: plugin " + std::string(worker.compiler_id) + " " +
                                   std::to_string(worker.compiler_major + 1)),
                         HasSubstr("worker " + std::string(worker.compiler_id) + " " +
                                   std::to_string(worker.compiler_major)),
                         HasSubstr("_GLIBCXX_USE_CXX11_ABI")));

  plugin = worker;
  plugin.abi_version = 99;
  EXPECT_THAT(PluginLoader::abi_mismatch(worker, plugin),
              HasSubstr("plugin ABI version: plugin 99, worker " +
                        std::to_string(RMQC_PLUGIN_ABI_VERSION)));

  plugin = worker;
  plugin.sdk_fingerprint = "";
  EXPECT_THAT(PluginLoader::abi_mismatch(worker, plugin), HasSubstr("SDK header fingerprint"));

  plugin = worker;
  plugin.sdk_minor = worker.sdk_minor + 1;
  EXPECT_THAT(PluginLoader::abi_mismatch(worker, plugin), HasSubstr("SDK minor version"));
  plugin.sdk_minor = 0;
  EXPECT_EQ(PluginLoader::abi_mismatch(worker, plugin), "") << "an older minor is fine";
}

TEST(PluginLoaderTest, LoadsPluginAndCreatesItsConnectorByClassNameAndAlias) {
  PluginRegistry registry;
  PluginLoader loader(registry, {(kPluginDir / "good").string()});
  EXPECT_EQ(loader.load(), 1u) << problems_text(loader);
  EXPECT_TRUE(loader.problems().empty()) << problems_text(loader);

  auto libs = loader.libraries();
  ASSERT_EQ(libs.size(), 1u);
  EXPECT_EQ(libs[0].name, "example");
  EXPECT_EQ(libs[0].version, "1.0.0");
  EXPECT_EQ(libs[0].plugin_count, 2u);
  EXPECT_EQ(libs[0].path, fs::canonical(kGoodLibrary).string());

  const PluginEntry* entry = registry.find(kCounterClass);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->kind, PluginKind::kSourceConnector);
  EXPECT_EQ(entry->origin, fs::canonical(kGoodLibrary).string());
  EXPECT_EQ(entry->descriptor.version, "1.0.0");

  exercise_counter(registry, kCounterClass);
  exercise_counter(registry, "CounterSourceConnector");

  auto transform = registry.create_transform("Uppercase");
  ASSERT_TRUE(transform.ok()) << transform.error().to_string();
  (*transform)->start({});
  ConnectRecord record({}, {}, std::nullopt, nullptr, Value("hello"));
  auto out = (*transform)->do_transform(std::move(record));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->value.as_string(), "HELLO");

  // Registered after the library: origin is back to builtin.
  registry.add_transform(PluginDescriptor{"later.Transform", {}, "1", ""}, TransformFactory{});
  EXPECT_EQ(registry.find("later.Transform")->origin, "builtin");

  // Loading again is a no-op.
  EXPECT_EQ(loader.reload(), 0u);
  EXPECT_TRUE(registry.conflicts().empty());
}

TEST(PluginLoaderTest, BrokenLibrariesAreReportedAndSkipped) {
  PluginRegistry registry;
  ScratchDir dir;
  // Not even an ELF file.
  std::ofstream(dir.path() / "libgarbage.so") << "not a shared library";
  PluginLoader loader(registry, {kBadDir.string(), dir.path().string(),
                                 (dir.path() / "missing").string(), kGoodLibrary.string()});
  EXPECT_EQ(loader.load(), 1u) << "the good library still loads";
  EXPECT_NE(registry.find(kCounterClass), nullptr);

  std::map<std::string, std::string> by_file;
  for (const auto& p : loader.problems()) by_file[fs::path(p.path).filename().string()] = p.message;
  ASSERT_EQ(by_file.size(), 4u) << problems_text(loader);

  const RmqcPluginAbi& worker = PluginLoader::worker_abi();
  EXPECT_THAT(by_file["librmqc-test-wrong-abi.so"],
              AllOf(HasSubstr("incompatible plugin ABI"),
                    HasSubstr("compiler: plugin " + std::string(worker.compiler_id) + " " +
                              std::to_string(worker.compiler_major + 1) + ", worker " +
                              std::string(worker.compiler_id) + " " +
                              std::to_string(worker.compiler_major)),
                    HasSubstr("'0000000000000000'"), HasSubstr(worker.sdk_fingerprint)));
  EXPECT_THAT(by_file["librmqc-test-no-entry.so"], HasSubstr("no symbol rmqc_plugin_entry_v1"));
  EXPECT_THAT(by_file["librmqc-test-throwing.so"],
              AllOf(HasSubstr("entry threw"), HasSubstr("missing license file")));
  EXPECT_THAT(by_file["libgarbage.so"], HasSubstr("dlopen failed"));
  // The throwing entry registered a transform before throwing: none of it reached the registry.
  EXPECT_EQ(registry.find("ThrowingNoop"), nullptr);

  // Unchanged broken libraries are not retried, but stay reported.
  EXPECT_EQ(loader.reload(), 0u);
  EXPECT_EQ(loader.problems().size(), 4u) << problems_text(loader);

  // A broken library replaced by a good one (a rebuild) is picked up by the next reload.
  fs::remove(dir.path() / "libgarbage.so");
  fs::copy_file(kGoodLibrary, dir.path() / "libgarbage.so");
  EXPECT_EQ(loader.reload(), 1u) << problems_text(loader);
  // Same plugin twice: its names are conflicts, the first registration stays.
  EXPECT_FALSE(registry.conflicts().empty());
  EXPECT_EQ(registry.find(kCounterClass)->origin, fs::canonical(kGoodLibrary).string());
  EXPECT_THAT(problems_text(loader),
              HasSubstr("duplicate plugin name " + std::string(kCounterClass)));
}

TEST(PluginLoaderTest, ReloadPicksUpLibrariesAddedLater) {
  PluginRegistry registry;
  ScratchDir dir;
  PluginLoader loader(registry, PluginLoader::split_paths(dir.path().string()));
  EXPECT_EQ(loader.load(), 0u);
  EXPECT_EQ(registry.find(kCounterClass), nullptr);

  // A plugin folder: the library sits one level down.
  fs::create_directories(dir.path() / "counter");
  fs::copy_file(kGoodLibrary, dir.path() / "counter" / "librmqc-counter.so");
  EXPECT_EQ(loader.reload(), 1u) << problems_text(loader);
  EXPECT_EQ(loader.reload(), 0u);
  exercise_counter(registry, kCounterClass);
  ASSERT_EQ(loader.libraries().size(), 1u);
}

TEST(PluginLoaderTest, LoadLibraryReportsWhy) {
  PluginRegistry registry;
  PluginLoader loader(registry);
  auto missing = loader.load_library("/nonexistent/libx.so");
  EXPECT_FALSE(missing.ok());
  auto bad = loader.load_library((kBadDir / "librmqc-test-no-entry.so").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("not a plugin"));
  auto good = loader.load_library(kGoodLibrary.string());
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->plugin_count, 2u);
  // The same library again: already loaded, the entry does not run twice.
  auto again = loader.load_library(kGoodLibrary.string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(registry.conflicts().empty());
}

// The example plugin as its users build it: its own CMake project that sees only include/.
TEST(PluginLoaderTest, ExamplePluginBuildsOutOfTreeAndLoads) {
  const fs::path build = RMQC_TEST_BUILD_DIR;
  const fs::path log = build.string() + ".log";
  fs::create_directories(build.parent_path());
  // The SDK package installed the way a plugin author gets it, then found by find_package.
  const fs::path sdk = build.string() + "-sdk";
  fs::remove_all(sdk);
  std::ostringstream cmd;
  cmd << "'" << RMQC_TEST_CMAKE << "' --install '" << RMQC_TEST_ROOT_BUILD_DIR
      << "' --component sdk --prefix '" << sdk.string() << "' > '" << log.string() << "' 2>&1 && '"
      << RMQC_TEST_CMAKE << "' -S '" << RMQC_SOURCE_DIR << "/examples/plugin' -B '"
      << build.string() << "' -G '" << RMQC_TEST_GENERATOR << "' -DCMAKE_CXX_COMPILER='"
      << RMQC_TEST_CXX << "' -DCMAKE_BUILD_TYPE=Release -Drmqc-sdk_DIR='" << sdk.string()
      << "/lib/cmake/rmqc-sdk' >> '" << log.string() << "' 2>&1 && '" << RMQC_TEST_CMAKE
      << "' --build '" << build.string() << "' >> '" << log.string() << "' 2>&1";
  const int rc = std::system(cmd.str().c_str());
  if (rc != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    FAIL() << "out-of-tree build failed (" << rc << "): " << cmd.str() << "\n" << text.str();
  }
  const fs::path library = build / "librmqc-example-plugin.so";
  ASSERT_TRUE(fs::exists(library));

  PluginRegistry registry;
  PluginLoader loader(registry, {build.string()});
  EXPECT_EQ(loader.load(), 1u) << problems_text(loader);
  exercise_counter(registry, "CounterSourceConnector");
  EXPECT_EQ(registry.find("Uppercase")->origin, fs::canonical(library).string());
}

}  // namespace
}  // namespace rmqc::plugins
