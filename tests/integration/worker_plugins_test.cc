// Plugins in a real worker: the example plugin (examples/plugin, built by src/plugins as
// rmqc-test-example) loads from pluginPaths and its connector and transform run; a library
// built for another ABI in the same directory is reported and skipped, and the worker keeps
// serving (also across /plugin/reload).
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <set>

namespace rmqc::itest {
namespace {

TEST(WorkerPluginsTest, ExamplePluginRunsWrongAbiIsSkipped) {
  ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
  const char* good = std::getenv("RMQC_EXAMPLE_PLUGIN");
  const char* bad = std::getenv("RMQC_WRONG_ABI_PLUGIN");
  ASSERT_TRUE(good && bad) << "RMQC_EXAMPLE_PLUGIN and RMQC_WRONG_ABI_PLUGIN must be set";
  TempDir dir("rmqc_plugins");
  fs::create_directories(dir.path / "plugins");
  fs::copy_file(good, dir.path / "plugins" / "librmqc-example-plugin.so");
  fs::copy_file(bad, dir.path / "plugins" / "librmqc-wrong-abi.so");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store", "pluginPaths=" + (dir / "plugins") + "\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();

  // The wrong-ABI library is reported (by name) in the log, and skipped.
  ASSERT_TRUE(eventually(
      [&] {
        return read_text(dir / "worker.log").find("librmqc-wrong-abi.so") != std::string::npos;
      },
      5s))
      << w.log_tail();
  auto list = w.get("/plugin/list");
  ASSERT_EQ(list.status, 200);
  bool counter = false, upper = false;
  Json list_json = list.json();
  for (const auto& p : list_json["body"]) {
    counter |=
        p["className"] == "com.example.connect.CounterSourceConnector" && p["type"] == "SOURCE";
    upper |= p["className"] == "com.example.connect.transforms.Uppercase" &&
             p["type"] == "TRANSFORMATION";
  }
  EXPECT_TRUE(counter) << list.body;
  EXPECT_TRUE(upper) << list.body;
  auto kplugins = w.get("/connector-plugins");
  EXPECT_NE(kplugins.body.find("com.example.connect.CounterSourceConnector"), std::string::npos);

  // The plugin's connector runs: 0..19 through the broker into a file.
  const std::string out = dir / "out.txt";
  ASSERT_EQ(w.post("/connectors/counter", Json{{"connector.class", "CounterSourceConnector"},
                                               {"connect.topicname", "numbers"},
                                               {"max.count", "20"},
                                               {"poll.interval.ms", "10"}}
                                              .dump())
                .status,
            200);
  ASSERT_EQ(
      w.post("/connectors/numbers-out", Json{{"connector.class", "FileSinkConnector"},
                                             {"filename", out},
                                             {"connect.topicnames", "numbers"},
                                             {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}}
                                            .dump())
          .status,
      200);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 20; }, 30s)) << w.log_tail();
  auto got = read_lines(out);
  ASSERT_EQ(got.size(), 20u);
  std::set<std::string> values(got.begin(), got.end());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(values.count(std::to_string(i))) << i;
  EXPECT_TRUE(w.all_in("counter", "RUNNING")) << w.status("counter");

  // A reload with the bad library still there: reported again, never fatal.
  fs::copy_file(bad, dir.path / "plugins" / "librmqc-wrong-abi-2.so");
  auto reload = w.post("/plugin/reload");
  EXPECT_LT(reload.status, 500) << reload.body;
  EXPECT_EQ(w.get("/health").status, 200);
  EXPECT_TRUE(w.all_in("counter", "RUNNING")) << w.status("counter");

  int status = w.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace rmqc::itest
