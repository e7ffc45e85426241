#include "app/admin_command.h"

#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <unistd.h>

namespace rmqc::app {
namespace {

using namespace rocketmq;

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) {
  g_interrupted = true;
}

int fail(const char* what, const Error& error) {
  std::fprintf(stderr, "rmq-connect admin %s: %s\n", what, error.to_string().c_str());
  return 1;
}

// Local time of a millisecond timestamp, "-" for 0.
std::string time_text(std::int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

ClientConfig client_config(const AdminCommandOptions& o) {
  ClientConfig c;
  c.namesrv_addr = o.namesrv;
  if (c.namesrv_addr.empty()) {
    const char* env = std::getenv("NAMESRV_ADDR");
    c.namesrv_addr = env && *env ? env : "127.0.0.1:9876";
  }
  c.access_key = o.access_key;
  c.secret_key = o.secret_key;
  return c;
}

int topic_command(const AdminCommandOptions& o) {
  auto admin = Admin::start(client_config(o));
  if (!admin.ok()) return fail("topic", admin.error());
  auto& a = **admin;
  if (o.action == "topic create") {
    if (auto r = a.create_topic(o.topic, o.queues, 6, o.cluster); !r.ok()) {
      return fail("topic create", r.error());
    }
    std::printf("created topic %s with %d queues\n", o.topic.c_str(), o.queues);
  } else if (o.action == "topic delete") {
    if (auto r = a.delete_topic(o.topic); !r.ok()) return fail("topic delete", r.error());
    std::printf("deleted topic %s\n", o.topic.c_str());
  } else if (o.action == "topic list") {
    auto list = a.topic_list();
    if (!list.ok()) return fail("topic list", list.error());
    for (const auto& t : *list) std::printf("%s\n", t.c_str());
  } else if (o.action == "topic route") {
    auto route = a.topic_route(o.topic);
    if (!route.ok()) return fail("topic route", route.error());
    std::printf("%-20s %-10s %-6s %-6s %s\n", "broker", "perm", "read", "write", "addresses");
    for (const auto& q : route->queue_datas) {
      std::string addrs;
      for (const auto& b : route->broker_datas) {
        if (b.broker_name != q.broker_name) continue;
        for (const auto& [id, addr] : b.broker_addrs) {
          addrs += (addrs.empty() ? "" : " ") + std::to_string(id) + "=" + addr;
        }
      }
      std::printf("%-20s %-10d %-6d %-6d %s\n", q.broker_name.c_str(), q.perm, q.read_queue_nums,
                  q.write_queue_nums, addrs.c_str());
    }
  } else if (o.action == "topic status") {
    auto status = a.topic_status(o.topic);
    if (!status.ok()) return fail("topic status", status.error());
    std::printf("%-20s %-6s %-14s %-14s %s\n", "broker", "queue", "min offset", "max offset",
                "last updated");
    for (const auto& s : *status) {
      std::printf("%-20s %-6d %-14lld %-14lld %s\n", s.queue.broker_name.c_str(), s.queue.queue_id,
                  static_cast<long long>(s.min_offset), static_cast<long long>(s.max_offset),
                  time_text(s.last_update_timestamp).c_str());
    }
  }
  return 0;
}

int group_command(const AdminCommandOptions& o) {
  auto admin = Admin::start(client_config(o));
  if (!admin.ok()) return fail("group", admin.error());
  auto& a = **admin;
  if (o.action == "group consumers") {
    auto ids = a.consumer_ids(o.group);
    if (!ids.ok()) return fail("group consumers", ids.error());
    for (const auto& id : *ids) std::printf("%s\n", id.c_str());
    if (ids->empty()) std::fprintf(stderr, "no consumer online in group %s\n", o.group.c_str());
    return 0;
  }
  if (o.action == "group connections") {
    auto cc = a.consumer_connections(o.group);
    if (!cc.ok()) return fail("group connections", cc.error());
    std::printf("%-40s %-22s %-10s %s\n", "client id", "address", "language", "version");
    for (const auto& c : cc->connections) {
      std::printf("%-40s %-22s %-10s %d\n", c.client_id.c_str(), c.client_addr.c_str(),
                  c.language.c_str(), c.version);
    }
    std::printf("\nconsume type: %s\nmessage model: %s\nconsume from: %s\n\n",
                cc->consume_type.c_str(), cc->message_model.c_str(),
                cc->consume_from_where.c_str());
    std::printf("%-40s %s\n", "topic", "subscription");
    for (const auto& [topic, sub] : cc->subscriptions) {
      std::printf("%-40s %s\n", topic.c_str(), sub.sub_string.c_str());
    }
    return 0;
  }
  // GET_CONSUME_STATS: with no topic, every topic the group committed offsets for.
  auto progress = a.group_progress(o.group, o.topics);
  if (!progress.ok()) return fail("group progress", progress.error());
  std::printf("%-24s %-20s %-6s %-14s %-16s %-10s %s\n", "topic", "broker", "queue",
              "broker offset", "consumer offset", "lag", "last consumed");
  long long total = 0;
  for (const auto& p : *progress) {
    total += p.lag();
    std::printf("%-24s %-20s %-6d %-14lld %-16lld %-10lld %s\n", p.queue.topic.c_str(),
                p.queue.broker_name.c_str(), p.queue.queue_id,
                static_cast<long long>(p.broker_offset), static_cast<long long>(p.consumer_offset),
                static_cast<long long>(p.lag()), time_text(p.last_timestamp).c_str());
  }
  std::printf("total lag: %lld\n", total);
  return 0;
}

void print_message(const MessageExt& m) {
  std::printf("Topic:               %s\n", std::string(m.topic()).c_str());
  std::printf("Tags:                [%s]\n", std::string(m.tags()).c_str());
  std::printf("Keys:                [%s]\n", std::string(m.keys()).c_str());
  std::printf("Queue ID:            %d\n", m.queue_id());
  std::printf("Queue Offset:        %lld\n", static_cast<long long>(m.queue_offset()));
  std::printf("CommitLog Offset:    %lld\n", static_cast<long long>(m.physical_offset()));
  std::printf("Reconsume Times:     %d\n", m.reconsume_times());
  std::printf("Born Timestamp:      %s\n", time_text(m.born_timestamp()).c_str());
  std::printf("Store Timestamp:     %s\n", time_text(m.store_timestamp()).c_str());
  std::printf("Born Host:           %s\n", m.born_host().to_string().c_str());
  std::printf("Store Host:          %s\n", m.store_host().to_string().c_str());
  std::printf("System Flag:         %d\n", m.sys_flag());
  std::printf("Message ID:          %s\n", m.msg_id().c_str());
  std::printf("Offset Message ID:   %s\n", m.offset_msg_id().c_str());
  std::string props;
  for (const auto& [k, v] : m.properties()) props += (props.empty() ? "" : ", ") + k + "=" + v;
  std::printf("Properties:          {%s}\n", props.c_str());
  std::printf("Body:                %s\n", std::string(m.body()).c_str());
}

int message_command(const AdminCommandOptions& o) {
  auto admin = Admin::start(client_config(o));
  if (!admin.ok()) return fail("message", admin.error());
  if (o.action == "message view") {
    auto m = (*admin)->view_message(o.msg_id, o.topic);
    if (!m.ok()) return fail("message view", m.error());
    print_message(*m);
    return 0;
  }
  auto found = (*admin)->query_messages(o.topic, o.key, o.unique_key, o.max_num);
  if (!found.ok()) return fail("message query", found.error());
  if (found->empty()) {
    std::fprintf(stderr, "rmq-connect admin message query: no message with %s '%s' in %s\n",
                 o.unique_key ? "unique key" : "key", o.key.c_str(), o.topic.c_str());
    return 1;
  }
  std::printf("%-34s %-34s %-20s %-6s %-10s %s\n", "msgId", "offsetMsgId", "broker", "queue",
              "offset", "stored");
  for (const auto& m : *found) {
    std::printf("%-34s %-34s %-20s %-6d %-10lld %s\n", m.msg_id().c_str(),
                m.offset_msg_id().c_str(), m.queue().broker_name.c_str(), m.queue_id(),
                static_cast<long long>(m.queue_offset()), time_text(m.store_timestamp()).c_str());
  }
  std::printf("found %zu messages\n", found->size());
  return 0;
}

int send_command(const AdminCommandOptions& o) {
  ProducerConfig pc;
  pc.client = client_config(o);
  pc.group = "rmq-connect-admin";
  auto producer = Producer::start(pc);
  if (!producer.ok()) return fail("send", producer.error());
  Message base;
  base.topic = o.topic;
  base.tags = o.tags;
  base.keys = o.key;
  for (const auto& kv : o.properties) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "rmq-connect admin send: property '%s' is not k=v\n", kv.c_str());
      return 2;
    }
    base.properties[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto send_one = [&](std::string body) -> bool {
    Message m = base;
    m.body = std::move(body);
    auto r = o.key.empty() ? (*producer)->send(m) : (*producer)->send_by_key(m, o.key);
    if (!r.ok()) {
      fail("send", r.error());
      return false;
    }
    std::printf("%s %s %s queue=%d offset=%lld msgId=%s offsetMsgId=%s\n",
                std::string(send_status_name(r->status)).c_str(), r->queue.topic.c_str(),
                r->queue.broker_name.c_str(), r->queue.queue_id,
                static_cast<long long>(r->queue_offset), r->msg_id.c_str(),
                r->offset_msg_id.c_str());
    return true;
  };
  if (o.lines) {
    std::string line;
    int failures = 0;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      if (!send_one(line)) ++failures;
    }
    return failures == 0 ? 0 : 1;
  }
  std::string body = o.body;
  if (body.empty()) {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return send_one(std::move(body)) ? 0 : 1;
}

int consume_command(const AdminCommandOptions& o) {
  ConsumerConfig cc;
  cc.client = client_config(o);
  const bool grouped = !o.group.empty();
  cc.group = grouped ? o.group : "rmq-connect-console-" + std::to_string(::getpid());
  cc.consume_from =
      o.from_beginning ? ConsumeFromWhere::kFirstOffset : ConsumeFromWhere::kLastOffset;
  cc.auto_commit = grouped;
  auto consumer = LitePullConsumer::start(cc);
  if (!consumer.ok()) return fail("consume", consumer.error());
  auto& c = **consumer;
  if (grouped) {
    // Fail fast on an unknown topic or an unreachable name server instead of waiting forever.
    if (auto q = c.fetch_queues(o.topic); !q.ok()) return fail("consume", q.error());
    if (auto r = c.subscribe(o.topic, o.expression); !r.ok()) return fail("consume", r.error());
  } else {
    // No group: read like a console consumer, from the end (or the beginning) of every queue.
    auto queues = c.fetch_queues(o.topic);
    if (!queues.ok()) return fail("consume", queues.error());
    if (auto r = c.assign(*queues); !r.ok()) return fail("consume", r.error());
    for (const auto& q : *queues) {
      auto r = o.from_beginning ? c.seek_to_begin(q) : c.seek_to_end(q);
      if (!r.ok()) return fail("consume", r.error());
    }
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::int64_t printed = 0;
  while (!g_interrupted && (o.count < 0 || printed < o.count)) {
    auto got = c.poll(std::chrono::milliseconds(200));
    if (!got.ok()) return fail("consume", got.error());
    for (const auto& m : *got) {
      std::fwrite(m.body().data(), 1, m.body().size(), stdout);
      std::fputc('\n', stdout);
      if (o.count >= 0 && ++printed >= o.count) break;
    }
    std::fflush(stdout);
  }
  c.shutdown();
  return 0;
}

int bench_command(const AdminCommandOptions& o) {
  ThroughputOptions t;
  t.topic = o.topic;
  t.count = o.count < 0 ? 100'000 : o.count;
  t.size = o.size;
  t.concurrency = o.concurrency;
  t.batch_size = o.batch_size;
  t.mode = o.mode == "async"   ? ProduceMode::kAsync
           : o.mode == "batch" ? ProduceMode::kBatch
                               : ProduceMode::kSync;
  ThroughputResult r;
  if (o.bench_what == "produce") {
    ProducerConfig pc;
    pc.client = client_config(o);
    pc.group = "rmq-connect-bench";
    pc.compress_over = std::max<std::size_t>(pc.compress_over, o.size + 1);  // measure the wire
    auto producer = Producer::start(pc);
    if (!producer.ok()) return fail("bench", producer.error());
    r = run_produce(**producer, t);
  } else {
    ConsumerConfig cc;
    cc.client = client_config(o);
    cc.group = o.group.empty() ? "rmq-connect-bench-" + std::to_string(::getpid()) : o.group;
    cc.auto_commit = false;
    auto consumer = LitePullConsumer::start(cc);
    if (!consumer.ok()) return fail("bench", consumer.error());
    auto queues = (*consumer)->fetch_queues(o.topic);
    if (!queues.ok()) return fail("bench", queues.error());
    if (auto a = (*consumer)->assign(*queues); !a.ok()) return fail("bench", a.error());
    for (const auto& q : *queues) {
      if (auto s = (*consumer)->seek_to_begin(q); !s.ok()) return fail("bench", s.error());
    }
    r = run_consume(**consumer, t);
  }
  std::printf("%s %s: %s\n", o.bench_what.c_str(),
              o.bench_what == "produce" ? o.mode.c_str() : "poll", r.summary().c_str());
  return r.errors == 0 ? 0 : 1;
}

}  // namespace

void add_admin_options(CLI::App& admin, AdminCommandOptions& o) {
  admin.require_subcommand(1);
  // The connection options are accepted wherever users type them: `admin -n H topic create -t T`
  // and `admin topic create -t T -n H` alike. Subcommands added below inherit fallthrough, so an
  // option a subcommand does not know is tried on its parents (up to --log-level of rmq-connect).
  admin.fallthrough();
  admin.footer(
      "-n/--namesrv, --access-key and --secret-key may also follow the subcommand, e.g. "
      "`rmq-connect admin topic create -t T -n host:9876`.");
  admin.add_option("-n,--namesrv", o.namesrv,
                   "Name server(s) host:port[;host:port] (default $NAMESRV_ADDR or "
                   "127.0.0.1:9876)");
  admin.add_option("--access-key", o.access_key, "ACL access key");
  admin.add_option("--secret-key", o.secret_key, "ACL secret key");
  auto leaf = [&o](CLI::App* app, std::string name) {
    app->callback([&o, name] { o.action = name; });
    return app;
  };

  auto* topic = admin.add_subcommand("topic", "Topics: create, delete, list, route, status");
  topic->require_subcommand(1);
  auto* create = leaf(topic->add_subcommand("create", "Create or update a topic on every master"),
                      "topic create");
  create->add_option("-t,--topic", o.topic, "Topic")->required();
  create->add_option("-q,--queues", o.queues, "Read and write queues per broker")
      ->capture_default_str();
  create->add_option("-c,--cluster", o.cluster, "Only the masters of this cluster");
  auto* del = leaf(topic->add_subcommand("delete", "Delete a topic"), "topic delete");
  del->add_option("-t,--topic", o.topic, "Topic")->required();
  leaf(topic->add_subcommand("list", "List every topic the name server knows"), "topic list");
  auto* route =
      leaf(topic->add_subcommand("route", "Brokers and queues of a topic"), "topic route");
  route->add_option("-t,--topic", o.topic, "Topic")->required();
  auto* status =
      leaf(topic->add_subcommand("status", "Min/max offset of every queue"), "topic status");
  status->add_option("-t,--topic", o.topic, "Topic")->required();

  auto* group = admin.add_subcommand("group", "Consumer groups: consumers, connections, progress");
  group->require_subcommand(1);
  auto* consumers = leaf(group->add_subcommand("consumers", "Client ids of a group's members"),
                         "group consumers");
  consumers->add_option("-g,--group", o.group, "Consumer group")->required();
  auto* connections =
      leaf(group->add_subcommand("connections",
                                 "Members' client id, address, language, version, subscriptions"),
           "group connections");
  connections->add_option("-g,--group", o.group, "Consumer group")->required();
  auto* progress = leaf(group->add_subcommand("progress", "Committed offset and lag per queue"),
                        "group progress");
  progress->add_option("-g,--group", o.group, "Consumer group")->required();
  progress->add_option("-t,--topic", o.topics, "Topic (repeatable; default: every topic)")
      ->allow_extra_args(false);

  auto* message = admin.add_subcommand("message", "Messages: query by key, view by id");
  message->require_subcommand(1);
  auto* query = leaf(message->add_subcommand("query", "Messages of a topic by key (KEYS word)"),
                     "message query");
  query->add_option("-t,--topic", o.topic, "Topic")->required();
  query->add_option("-k,--key", o.key, "Key")->required();
  query->add_flag("-u,--unique", o.unique_key, "The key is a unique key (client message id)");
  query->add_option("--max", o.max_num, "At most this many per broker")->capture_default_str();
  auto* view =
      leaf(message->add_subcommand("view", "One message by offsetMsgId (or msgId with -t)"),
           "message view");
  view->add_option("msgId", o.msg_id, "offsetMsgId, or the client msgId (UNIQ_KEY) with -t")
      ->required();
  view->add_option("-t,--topic", o.topic, "Topic (to look a client msgId up by unique key)");

  auto* send =
      leaf(admin.add_subcommand("send", "Send a message (body argument or stdin)"), "send");
  send->add_option("-t,--topic", o.topic, "Topic")->required();
  send->add_option("-k,--key", o.key, "Message key (also selects the queue by hash)");
  send->add_option("--tags", o.tags, "Message tag");
  send->add_option("-p,--property", o.properties, "User property k=v (repeatable)")
      ->allow_extra_args(false);
  send->add_flag("--lines", o.lines, "One message per line of stdin");
  send->add_option("body", o.body, "Message body (default: stdin)");

  auto* consume =
      leaf(admin.add_subcommand("consume", "Print message bodies, one per line"), "consume");
  consume->add_option("-t,--topic", o.topic, "Topic")->required();
  consume->add_option("-g,--group", o.group,
                      "Consumer group (commits offsets; default: no group, no commits)");
  consume->add_flag("--from-beginning", o.from_beginning, "Start at the first message");
  consume->add_option("--count", o.count, "Exit after this many messages");
  consume->add_option("--tags", o.expression, "Tag expression, e.g. 'TagA || TagB' (with -g)");

  auto* bench = leaf(admin.add_subcommand("bench", "Throughput: msgs/s, MB/s, p50/p99"), "bench");
  bench->add_option("what", o.bench_what, "produce or consume")
      ->required()
      ->check(CLI::IsMember({"produce", "consume"}));
  bench->add_option("-t,--topic", o.topic, "Topic")->required();
  bench->add_option("-c,--count", o.count, "Messages (default 100000)");
  bench->add_option("-s,--size", o.size, "Body bytes")->capture_default_str();
  bench->add_option("--concurrency", o.concurrency, "Threads (sync, batch) or in-flight (async)")
      ->capture_default_str();
  bench->add_option("--mode", o.mode, "Producer: sync, async or batch")
      ->check(CLI::IsMember({"sync", "async", "batch"}))
      ->capture_default_str();
  bench->add_option("--batch-size", o.batch_size, "Messages per batch")->capture_default_str();
  bench->add_option("-g,--group", o.group, "Consumer group (consume)");
}

int run_admin_command(AdminCommandOptions options) {
  const auto& a = options.action;
  if (a.starts_with("topic ")) return topic_command(options);
  if (a.starts_with("group ")) return group_command(options);
  if (a.starts_with("message ")) return message_command(options);
  if (a == "send") return send_command(options);
  if (a == "consume") return consume_command(options);
  if (a == "bench") return bench_command(options);
  std::fprintf(stderr, "rmq-connect admin: nothing to do (see --help)\n");
  return 2;
}

}  // namespace rmqc::app
