// Issue 15 against a real `rmq-connect standalone`: the REST API over TLS (a self-signed
// certificate made here with `openssl req`) with basic auth, bearer tokens and an admin listener
// (401/403/200); config providers that resolve at task start and never leak into a REST answer,
// a stored file or the log; offsets of a stopped connector altered and reset, and honoured after
// resume (a file source re-reads from the position set, a sink's queue offsets go back to the
// start).
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <httplib.h>
#include <regex>

namespace rmqc::itest {
namespace {

constexpr const char* kFileSource = "org.apache.rocketmq.connect.file.FileSourceConnector";
constexpr const char* kFileSink = "org.apache.rocketmq.connect.file.FileSinkConnector";

std::string basic(const std::string& user, const std::string& password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + password;
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return "Basic " + out;
}

std::string sha256_hex(const std::string& text) {
  std::string cmd = "printf %s '" + text + "' | sha256sum";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[128];
    while (std::fgets(buf, sizeof(buf), p)) out += buf;
    ::pclose(p);
  }
  return out.substr(0, 64);
}

// The admin listener's port from the worker's log ("REST admin listener on https://h:PORT").
std::uint16_t admin_port_from_log(const std::string& log) {
  std::smatch m;
  std::string text = read_text(log);
  static const std::regex re("REST admin listener on https?://[^:]+:([0-9]+)");
  if (!std::regex_search(text, m, re)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

TEST(WorkerSecurityTest, TlsAuthRolesAndAdminListener) {
  TempDir dir("rmqc_itest_security");
  const std::string cert = dir / "cert.pem";
  const std::string key = dir / "key.pem";
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed";
  const std::string conf = dir / "worker.conf";
  write_file(
      conf, worker_conf(dir / "store",
                        "rest.tls.cert.file=" + cert + "\nrest.tls.key.file=" + key +
                            "\nrest.auth.basic.users=alice:admin:sha256:" + sha256_hex("alice-pw") +
                            ", bob:read:bob-pw\n"
                            "rest.auth.bearer.tokens=dash:read:dash-token\n"
                            "rest.auth.public.paths=/health,/metrics\n"
                            "rest.admin.listener=127.0.0.1:0\n"
                            "rest.cors.allowed.origins=https://ops.example\n"));
  WorkerProcess w;
  const std::string log = dir / "worker.log";
  ASSERT_TRUE(w.start(conf, {}, log)) << w.error();
  EXPECT_NE(w.ready_line().find("rest=https://"), std::string::npos) << w.ready_line();
  const std::uint16_t admin_port = admin_port_from_log(log);
  ASSERT_NE(admin_port, 0) << w.log_tail();

  auto client = [&](std::uint16_t port) {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path(cert.c_str());
    c->enable_server_certificate_verification(true);
    return c;
  };
  auto main = client(w.port());
  auto admin = client(admin_port);
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };

  // 401 without or with wrong credentials, with the challenges.
  auto r = main->Get("/connectors");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(r->has_header("WWW-Authenticate"));
  EXPECT_EQ(status(main->Get("/connectors", {{"Authorization", basic("alice", "nope")}})), 401);
  // Public paths.
  EXPECT_EQ(status(main->Get("/health")), 200);
  EXPECT_EQ(status(main->Get("/metrics")), 200);
  // Reads with the read role, by basic auth and bearer token.
  EXPECT_EQ(status(main->Get("/connectors", {{"Authorization", basic("bob", "bob-pw")}})), 200);
  EXPECT_EQ(status(main->Get("/connectors", {{"Authorization", "Bearer dash-token"}})), 200);

  Json body = {{"name", "src"},
               {"config",
                {{"connector.class", kFileSource},
                 {"filename", dir / "in.txt"},
                 {"connect.topicname", "sec-topic"}}}};
  // A change: 403 for the read role (either listener), 403 on the main listener for admin,
  // 201 on the admin listener.
  EXPECT_EQ(status(admin->Post("/connectors", {{"Authorization", basic("bob", "bob-pw")}},
                               body.dump(), "application/json")),
            403);
  auto on_main = main->Post("/connectors", {{"Authorization", basic("alice", "alice-pw")}},
                            body.dump(), "application/json");
  ASSERT_TRUE(on_main);
  EXPECT_EQ(on_main->status, 403);
  EXPECT_NE(on_main->body.find("admin listener"), std::string::npos);
  EXPECT_EQ(status(admin->Post("/connectors", {{"Authorization", basic("alice", "alice-pw")}},
                               body.dump(), "application/json")),
            201);
  EXPECT_EQ(status(admin->Get("/connectors/src/pause", {{"Authorization", "Bearer dash-token"}})),
            403);  // the seed's mutating GET alias needs admin
  EXPECT_EQ(
      status(admin->Put("/connectors/src/pause", {{"Authorization", basic("alice", "alice-pw")}},
                        "", "application/json")),
      202);
  auto info = main->Get("/connectors/src", {{"Authorization", "Bearer dash-token"}});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  EXPECT_EQ(Json::parse(info->body)["name"], "src");
  // CORS as configured: a preflight from the allowed origin is answered without credentials,
  // another origin's is refused, and a real request carries the header.
  auto pre = main->Options("/connectors/src/pause", {{"Origin", "https://ops.example"},
                                                     {"Access-Control-Request-Method", "PUT"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://ops.example");
  auto evil = main->Options("/connectors/src/pause", {{"Origin", "https://evil.example"},
                                                      {"Access-Control-Request-Method", "PUT"}});
  ASSERT_TRUE(evil);
  EXPECT_EQ(evil->status, 403);
  EXPECT_FALSE(evil->has_header("Access-Control-Allow-Origin"));
  auto cross = main->Get(
      "/connectors", {{"Origin", "https://ops.example"}, {"Authorization", "Bearer dash-token"}});
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->status, 200);
  EXPECT_EQ(cross->get_header_value("Access-Control-Allow-Origin"), "https://ops.example");
  // Plain HTTP to the TLS port gets no answer.
  EXPECT_NE(http(w.port(), "GET", "/health").status, 200);
  // The log holds no credential.
  std::string text = read_text(log);
  for (const char* secret : {"alice-pw", "bob-pw", "dash-token"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST(WorkerSecurityTest, ConfigProvidersResolveAtStartAndNeverLeak) {
  TempDir dir("rmqc_itest_providers");
  const std::string env_secret = "EnvSecret-7f3a9c";
  const std::string file_secret = "FileSecret-51be02";
  ::setenv("RMQC_ITEST_SECRET", env_secret.c_str(), 1);
  const std::string secrets = dir / "secrets";
  fs::create_directories(secrets);
  const std::string in = dir / "in.txt";
  const std::string out = dir / "out.txt";
  // The sink's output path comes from a properties file, the source's input path from a file
  // of a directory: the records only flow when both resolved.
  write_file(secrets + "/app.properties", "sink.path=" + out + "\napi.key=" + file_secret + "\n");
  write_file(secrets + "/input", in + "\n");
  write_file(in, "a\nb\nc\n");
  const std::string conf = dir / "worker.conf";
  write_file(conf, worker_conf(dir / "store",
                               "config.providers=env,file,dir\n"
                               "config.providers.env.param.allowlist=RMQC_ITEST_*\n"
                               "config.providers.file.param.allowed.paths=" +
                                   secrets +
                                   "\nconfig.providers.dir.param.allowed.paths=" + secrets + "\n"));
  WorkerProcess w;
  const std::string log = dir / "worker.log";
  ASSERT_TRUE(w.start(conf, {}, log)) << w.error();

  // Keys the redactor does not hide: only the providers keep the secrets out.
  Json source = {{"name", "src"},
                 {"config",
                  {{"connector.class", kFileSource},
                   {"filename", "${dir:" + secrets + ":input}"},
                   {"connect.topicname", "prov-topic"},
                   {"custom.env", "${env:RMQC_ITEST_SECRET}"},
                   {"custom.file", "key=${file:" + secrets + "/app.properties:api.key}"}}}};
  Json sink = {{"name", "sink"},
               {"config",
                {{"connector.class", kFileSink},
                 {"filename", "${file:" + secrets + "/app.properties:sink.path}"},
                 {"connect.topicnames", "prov-topic"},
                 {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
                 {"custom.env", "${env:RMQC_ITEST_SECRET}"}}}};
  ASSERT_EQ(w.post("/connectors", source.dump()).status, 201);
  ASSERT_EQ(w.post("/connectors", sink.dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 3; }, 30s)) << w.log_tail();

  // A missing variable and an unknown provider fail the connector with a clear trace.
  Json missing = {{"name", "missing"},
                  {"config",
                   {{"connector.class", kFileSource},
                    {"filename", in},
                    {"connect.topicname", "prov-topic2"},
                    {"custom", "${env:RMQC_ITEST_MISSING}"}}}};
  ASSERT_EQ(w.post("/connectors", missing.dump()).status, 201);
  Json unknown = missing;
  unknown["name"] = "unknown";
  unknown["config"]["custom"] = "${vault:/a:b}";
  ASSERT_EQ(w.post("/connectors", unknown.dump()).status, 201);
  auto trace_of = [&](const std::string& name) {
    Json s = w.status(name);
    return s.is_object() && s["connector"]["state"] == "FAILED" &&
                   s["connector"]["trace"].is_string()
               ? s["connector"]["trace"].get<std::string>()
               : std::string();
  };
  ASSERT_TRUE(eventually([&] { return !trace_of("missing").empty(); }, 20s)) << w.status("missing");
  EXPECT_NE(trace_of("missing").find("RMQC_ITEST_MISSING is not set"), std::string::npos)
      << trace_of("missing");
  ASSERT_TRUE(eventually([&] { return !trace_of("unknown").empty(); }, 20s));
  EXPECT_NE(trace_of("unknown").find("unknown config provider 'vault'"), std::string::npos)
      << trace_of("unknown");

  // Every answer shows the references, none a resolved value.
  std::string answers;
  for (const char* path :
       {"/connectors?expand=info&expand=status", "/connectors/src", "/connectors/src/config",
        "/connectors/src/config?format=kafka", "/connectors/src/tasks",
        "/connectors/sink/tasks?format=kafka", "/connectors/src/status", "/connectors/list",
        "/getConnectorTask", "/getConnectors", "/allocated/tasks", "/allocated/connectors",
        "/getAllTask/true", "/connectors/src/offsets", "/metrics"}) {
    auto r = w.get(path);
    EXPECT_EQ(r.status, 200) << path;
    answers += r.body;
  }
  EXPECT_NE(answers.find("${env:RMQC_ITEST_SECRET}"), std::string::npos);
  // CORS is off without rest.cors.allowed.origins: no headers, no preflight answer.
  httplib::Client plain("127.0.0.1", w.port());
  const httplib::Headers from_page{{"Origin", "https://ops.example"},
                                   {"Access-Control-Request-Method", "PUT"}};
  auto no_pre = plain.Options("/connectors/src/pause", from_page);
  ASSERT_TRUE(no_pre);
  EXPECT_NE(no_pre->status, 204);
  EXPECT_FALSE(no_pre->has_header("Access-Control-Allow-Origin"));
  auto no_cors = plain.Get("/connectors", from_page);
  ASSERT_TRUE(no_cors);
  EXPECT_EQ(no_cors->status, 200);
  EXPECT_FALSE(no_cors->has_header("Access-Control-Allow-Origin"));
  Json tasks = w.get("/connectors/src/tasks?format=kafka").json();
  ASSERT_FALSE(tasks.empty());
  EXPECT_EQ(tasks[0]["config"]["custom.env"], "${env:RMQC_ITEST_SECRET}") << tasks;
  std::string stored;
  for (const auto& e : fs::recursive_directory_iterator(dir / "store")) {
    if (e.is_regular_file() && e.path().extension() == ".json") stored += read_text(e.path());
  }
  EXPECT_NE(stored.find("${env:RMQC_ITEST_SECRET}"), std::string::npos);
  const std::string logged = read_text(log);
  for (const std::string& secret : {env_secret, file_secret}) {
    EXPECT_EQ(answers.find(secret), std::string::npos) << secret;
    EXPECT_EQ(stored.find(secret), std::string::npos) << secret;
    EXPECT_EQ(logged.find(secret), std::string::npos) << secret;
  }
  // The same after a restart (configs and task configs come back from the store).
  w.stop();
  WorkerProcess again;
  ASSERT_TRUE(again.start(conf, {}, log)) << again.error();
  ASSERT_TRUE(eventually([&] { return again.all_in("src", "RUNNING"); }, 20s));
  auto after = again.get("/connectors/src/tasks?format=kafka");
  EXPECT_EQ(after.body.find(env_secret), std::string::npos);
  EXPECT_EQ(read_text(log).find(env_secret), std::string::npos);
}

TEST(WorkerSecurityTest, OffsetsOfAStoppedConnectorAreHonouredAfterResume) {
  TempDir dir("rmqc_itest_offsets");
  const std::string in = dir / "in.txt";
  const std::string out = dir / "out.txt";
  write_file(in, "line-1\nline-2\nline-3\nline-4\n");  // 7 bytes a line
  const std::string conf = dir / "worker.conf";
  write_file(conf, worker_conf(dir / "store"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(conf, {}, dir / "worker.log")) << w.error();
  Json source = {
      {"name", "src"},
      {"config",
       {{"connector.class", kFileSource}, {"filename", in}, {"connect.topicname", "off-topic"}}}};
  Json sink = {{"name", "sink"},
               {"config",
                {{"connector.class", kFileSink},
                 {"filename", out},
                 {"connect.topicnames", "off-topic"},
                 {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}}}};
  ASSERT_EQ(w.post("/connectors", source.dump()).status, 201);
  ASSERT_EQ(w.post("/connectors", sink.dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 4; }, 30s)) << w.log_tail();
  auto count = [&](const std::string& line) {
    std::size_t n = 0;
    for (const auto& l : read_lines(out)) n += l.find(line) != std::string::npos;
    return n;
  };
  // The committed position is at the end of the file.
  ASSERT_TRUE(eventually([&] {
    Json o = w.get("/connectors/src/offsets").json();
    return o["offsets"].size() == 1 && o["offsets"][0]["offset"]["position"] == 28;
  })) << w.get("/connectors/src/offsets").body;

  // Running: 400.
  const std::string rewind =
      R"({"offsets":[{"partition":{"filename":")" + in + R"("},"offset":{"position":14}}]})";
  EXPECT_EQ(http(w.port(), "PATCH", "/connectors/src/offsets", rewind).status, 400);
  EXPECT_EQ(w.del("/connectors/sink/offsets").status, 400);

  // The source, stopped, rewound to line 3, resumed: lines 3 and 4 come again.
  ASSERT_EQ(w.put("/connectors/src/stop").status, 202);
  auto altered = http(w.port(), "PATCH", "/connectors/src/offsets", rewind);
  ASSERT_EQ(altered.status, 200) << altered.body;
  Json shown = w.get("/connectors/src/offsets").json();
  ASSERT_EQ(shown["offsets"].size(), 1u) << shown;
  EXPECT_EQ(shown["offsets"][0]["offset"]["position"], 14);
  ASSERT_EQ(w.put("/connectors/src/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return count("line-3") >= 2 && count("line-4") >= 2; }, 30s))
      << read_text(out);
  EXPECT_EQ(count("line-1"), 1u);
  EXPECT_EQ(count("line-2"), 1u);

  // The sink, stopped, its group's offsets reset (to the first, its consume.from.where),
  // resumed: every message of the topic is written again.
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 6; }, 30s));
  ASSERT_EQ(w.put("/connectors/sink/stop").status, 202);
  ASSERT_TRUE(eventually([&] {
    Json s = w.status("sink");
    return s.is_object() && s["connector"]["state"] == "STOPPED";
  }));
  const std::size_t before = count_lines(out);
  auto reset = w.del("/connectors/sink/offsets");
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(reset.json()["message"], "The offsets for this connector have been reset successfully");
  ASSERT_EQ(w.put("/connectors/sink/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= before + 6; }, 30s))
      << before << " then " << count_lines(out);
  EXPECT_GE(count("line-1"), 2u);
  EXPECT_GE(count("line-2"), 2u);

  // A source partition removed with a null offset: the source reads the whole file again.
  ASSERT_EQ(w.put("/connectors/src/stop").status, 202);
  const std::string forget =
      R"({"offsets":[{"partition":{"filename":")" + in + R"("},"offset":null}]})";
  ASSERT_EQ(http(w.port(), "PATCH", "/connectors/src/offsets", forget).status, 200);
  EXPECT_TRUE(w.get("/connectors/src/offsets").json()["offsets"].empty());
  ASSERT_EQ(w.put("/connectors/src/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return count("line-1") >= 3; }, 30s)) << read_text(out);

  // The sink's queue offsets, as its running tasks committed them, set back to 0 on a stopped
  // sink: every message of the topic (4 + 2 + 4 sent so far) is written again.
  Json queues;
  std::int64_t consumed = 0;
  ASSERT_TRUE(eventually(
      [&] {
        queues = w.get("/connectors/sink/offsets").json()["offsets"];
        consumed = 0;
        for (const auto& q : queues) consumed += q["offset"]["queueOffset"].get<std::int64_t>();
        return consumed >= 10;
      },
      30s))
      << queues;
  ASSERT_EQ(w.put("/connectors/sink/stop").status, 202);
  Json to_zero = {{"offsets", Json::array()}};
  for (const auto& q : queues) {
    EXPECT_TRUE(q["partition"].contains("brokerName")) << q;
    to_zero["offsets"].push_back({{"partition", q["partition"]}, {"offset", {{"queueOffset", 0}}}});
  }
  const std::size_t lines_before = count_lines(out);
  auto patched = http(w.port(), "PATCH", "/connectors/sink/offsets", to_zero.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  // A stopped sink's offsets are its group's, read from the broker: all 0 now.
  Json zeroed = w.get("/connectors/sink/offsets").json()["offsets"];
  // (every queue of the topic: the DELETE above committed an offset for the empty ones too)
  EXPECT_GE(zeroed.size(), queues.size()) << zeroed;
  for (const auto& q : zeroed) EXPECT_EQ(q["offset"]["queueOffset"], 0) << zeroed;
  ASSERT_EQ(w.put("/connectors/sink/resume").status, 202);
  ASSERT_TRUE(eventually(
      [&] { return count_lines(out) >= lines_before + static_cast<std::size_t>(consumed); }, 30s))
      << lines_before << " + " << consumed << " then " << count_lines(out);
  // A sink partition that is not a queue is refused.
  ASSERT_EQ(w.put("/connectors/sink/stop").status, 202);
  EXPECT_EQ(http(w.port(), "PATCH", "/connectors/sink/offsets",
                 R"({"offsets":[{"partition":{"filename":"x"},"offset":{"queueOffset":0}}]})")
                .status,
            400);

  // The plugin's ConfigDef as Kafka Connect's list of key descriptions.
  Json defs = w.get("/connector-plugins/" + std::string(kFileSource) + "/config").json();
  ASSERT_TRUE(defs.is_array()) << defs;
  bool has_filename = false;
  for (const auto& d : defs) {
    EXPECT_TRUE(d.contains("name") && d.contains("type") && d.contains("required") &&
                d.contains("default_value") && d.contains("importance") &&
                d.contains("documentation"))
        << d;
    has_filename |= d["name"] == "filename";
  }
  EXPECT_TRUE(has_filename) << defs;
}

}  // namespace
}  // namespace rmqc::itest
