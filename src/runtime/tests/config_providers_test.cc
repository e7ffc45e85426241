// ${env:...}, ${file:...}, ${dir:...}: allow-lists, errors that never quote a secret, and task
// configs that get their references back.
#include "runtime/config_providers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;

class ConfigProvidersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rmqc_providers_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "secrets");
    fs::create_directories(dir_ / "other");
    std::ofstream(dir_ / "secrets" / "db.properties") << "db.password=pw-from-file\nuser=app\n";
    std::ofstream(dir_ / "secrets" / "token") << "tok-from-dir\n";
    std::ofstream(dir_ / "other" / "x.properties") << "k=v\n";
    ::setenv("RMQC_TEST_SECRET_A", "env-secret", 1);
    ::setenv("RMQC_OTHER", "not-allowed", 1);
    config_.config_providers = {"env", "file", "dir"};
    config_.config_provider_env_allowlist = {"RMQC_TEST_SECRET_*"};
    config_.config_provider_file_allowed_paths = {(dir_ / "secrets").string()};
    config_.config_provider_dir_allowed_paths = {(dir_ / "secrets").string()};
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string secrets() const { return (dir_ / "secrets").string(); }

  fs::path dir_;
  config::WorkerConfig config_;
};

TEST_F(ConfigProvidersTest, ResolvesEachProvider) {
  ConfigProviders p(config_);
  KeyValue raw{{"a", "${env:RMQC_TEST_SECRET_A}"},
               {"b", "${file:" + secrets() + "/db.properties:db.password}"},
               {"c", "${dir:" + secrets() + ":token}"},
               {"d", "jdbc://${file:" + secrets() + "/db.properties:user}@host"},
               {"e", "plain ${not a reference} $ {x}"}};
  auto r = p.resolve(raw);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->get_string("a"), "env-secret");
  EXPECT_EQ(r->get_string("b"), "pw-from-file");
  EXPECT_EQ(r->get_string("c"), "tok-from-dir");  // the trailing newline is dropped
  EXPECT_EQ(r->get_string("d"), "jdbc://app@host");
  EXPECT_EQ(r->get_string("e"), "plain ${not a reference} $ {x}");
}

TEST_F(ConfigProvidersTest, DisabledLeavesValues) {
  ConfigProviders off{config::WorkerConfig{}};
  EXPECT_FALSE(off.enabled());
  KeyValue raw{{"a", "${env:RMQC_TEST_SECRET_A}"}};
  EXPECT_EQ(off.resolve(raw)->get_string("a"), "${env:RMQC_TEST_SECRET_A}");
  config_.config_providers = {"file"};
  ConfigProviders file_only(config_);
  auto r = file_only.resolve(raw);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("env provider is not enabled"), std::string::npos);
}

TEST_F(ConfigProvidersTest, ErrorsNameTheReferenceNeverAValue) {
  ConfigProviders p(config_);
  auto fails = [&](const std::string& value, const std::string& expected) {
    auto r = p.resolve(KeyValue{{"k", value}});
    ASSERT_FALSE(r.ok()) << value;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(r.error().message().find(expected), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("config key k"), std::string::npos);
    for (const char* secret : {"env-secret", "pw-from-file", "tok-from-dir", "not-allowed"}) {
      EXPECT_EQ(r.error().message().find(secret), std::string::npos) << r.error().message();
    }
  };
  fails("${vault:/a:b}", "unknown config provider 'vault'");
  fails("${env:RMQC_OTHER}", "not in config.providers.env.param.allowlist");
  fails("${env:RMQC_TEST_SECRET_UNSET}", "is not set");
  fails("${file:" + secrets() + "/db.properties:nope}", "no key nope");
  fails("${file:" + secrets() + "/missing.properties:k}", "cannot read");
  fails("${file:" + (dir_ / "other").string() + "/x.properties:k}", "allowed.paths");
  fails("${file:" + secrets() + "/../other/x.properties:k}", "allowed.paths");
  fails("${dir:" + secrets() + ":../other/x.properties}", "file name");
  fails("${dir:" + secrets() + ":missing}", "cannot read");
  fails("${file:relative.properties:k}", "absolute path");
  fails("${file:" + secrets() + "}", "expected ${file:<path>:<key>}");
}

TEST_F(ConfigProvidersTest, UnresolveAndScrub) {
  ConfigProviders p(config_);
  KeyValue raw{{"password", "${env:RMQC_TEST_SECRET_A}"},
               {"host", "h"},
               {"url", "db://u:${file:" + secrets() + "/db.properties:db.password}@h/x"},
               {"short", "${file:" + secrets() + "/db.properties:user}x"}};
  SecretScrubber scrubber;
  auto resolved = p.resolve(raw, &scrubber);
  ASSERT_TRUE(resolved.ok());
  KeyValue task{{"password", "env-secret"}, {"renamed.secret", "env-secret"}, {"host", "h"}};
  KeyValue back = p.unresolve(task, raw, *resolved);
  EXPECT_EQ(back.get_string("password"), "${env:RMQC_TEST_SECRET_A}");
  EXPECT_EQ(back.get_string("renamed.secret"), "${env:RMQC_TEST_SECRET_A}");
  EXPECT_EQ(back.get_string("host"), "h");
  // Each reference's own value is hidden, also where it appears without the rest of its key's
  // value, and the reference takes its place.
  EXPECT_EQ(scrubber.scrub("login failed for env-secret! env-secret"),
            "login failed for ${env:RMQC_TEST_SECRET_A}! ${env:RMQC_TEST_SECRET_A}");
  EXPECT_EQ(scrubber.scrub("bad password pw-from-file"),
            "bad password ${file:" + secrets() + "/db.properties:db.password}");
  EXPECT_EQ(scrubber.scrub("user app"), "user ${file:" + secrets() + "/db.properties:user}");
  EXPECT_EQ(scrubber.scrub("nothing here"), "nothing here");
  SecretScrubber none;
  EXPECT_TRUE(none.empty());
  none.add("ab", "${env:X}");  // too short to hide
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace rmqc::runtime
