#pragma once

#include "rest/rest_server.h"
#include "rest/tests/fake_controller.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <httplib.h>
#include <memory>
#include <string>

namespace rmqc::rest::testing {

using nlohmann::json;

struct Reply {
  int status = 0;
  json body;  // discarded when the body is not JSON (or empty)
  std::string raw;
  std::string header(const std::string& key) const {
    return headers.count(key) ? headers.find(key)->second : "";
  }
  httplib::Headers headers;
};

// A server on a free port over a FakeController, and a client to drive it.
class RestTest : public ::testing::Test {
 protected:
  void SetUp() override { start(RestOptions{}); }

  void start(RestOptions options) {
    server_.reset();
    options.port = 0;
    auto s = RestServer::start(std::move(options), fake_);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    server_ = std::move(s).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  static Reply convert(const httplib::Result& r) {
    Reply out;
    if (!r) {
      ADD_FAILURE() << "request failed: " << httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }

  Reply get(const std::string& path) { return convert(client_->Get(path)); }
  Reply del(const std::string& path) { return convert(client_->Delete(path)); }
  Reply post(const std::string& path, const std::string& body = "") {
    return convert(client_->Post(path, body, "application/json"));
  }
  Reply put(const std::string& path, const std::string& body = "") {
    return convert(client_->Put(path, body, "application/json"));
  }

  // Creates a connector directly on the fake.
  void create(const std::string& name, KeyValue config) {
    auto r = fake_.put_connector(name, std::move(config), {});
    ASSERT_TRUE(r.ok());
  }
  static KeyValue source_config() {
    return KeyValue{{"connector.class", "org.apache.rocketmq.connect.file.FileSourceConnector"},
                    {"max.tasks", "1"},
                    {"connect.topicname", "fileTopic"},
                    {"connection.password", "hunter2"}};
  }

  FakeController fake_;
  std::unique_ptr<RestServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace rmqc::rest::testing
