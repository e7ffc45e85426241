// ErrorHandler without a broker: retries of RetriableException within errors.retry.timeout,
// tolerance none/all, and cancel() cutting a back-off short. (The dead letter queue itself is
// tested against the embedded broker in tests/integration/worker_dlq_test.cc.)
#include "runtime/errors/error_handler.h"

#include "rmqc/api/errors.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace rmqc::runtime {
namespace {

using namespace std::chrono_literals;

ErrorConfig config(KeyValue keys) {
  auto c = parse_error_config(keys);
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return c.ok() ? *c : ErrorConfig{};
}

FailedRecord describe() {
  FailedRecord f;
  f.topic = "t";
  f.body = "payload";
  return f;
}

TEST(ErrorHandlerTest, RetriableFailuresAreRetriedUntilTheySucceed) {
  ErrorHandler handler(
      config({{"errors.retry.timeout", "10000"}, {"errors.retry.delay.max.ms", "10"}}), "c", 0,
      nullptr);
  int calls = 0;
  auto r = handler.run(
      Stage::kTaskPut,
      [&] {
        if (++calls < 3) throw RetriableException("busy");
        return 42;
      },
      describe);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(handler.tolerated(), 0);
}

TEST(ErrorHandlerTest, NoRetryByDefaultAndToleranceNoneFails) {
  ErrorHandler handler(config({}), "c", 0, nullptr);
  int calls = 0;
  auto r = handler.run(
      Stage::kTransformation,
      [&]() -> int {
        ++calls;
        throw RetriableException("busy");
      },
      describe);
  EXPECT_EQ(calls, 1) << "errors.retry.timeout defaults to 0: no retry";
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is_fatal());
  EXPECT_NE(r.error().message().find("Tolerance exceeded"), std::string::npos);
  EXPECT_NE(r.error().message().find("TRANSFORMATION"), std::string::npos) << r.error().message();
}

TEST(ErrorHandlerTest, ToleranceAllSkipsAfterTheRetryTimeout) {
  ErrorHandler handler(config({{"errors.tolerance", "all"},
                               {"errors.retry.timeout", "300"},
                               {"errors.retry.delay.max.ms", "20"}}),
                       "c", 0, nullptr);
  int calls = 0;
  auto r = handler.run(
      Stage::kTaskPut,
      [&]() -> int {
        ++calls;
        throw RetriableException("still busy");
      },
      describe);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->has_value()) << "a tolerated failure yields no value";
  EXPECT_GT(calls, 1) << "retried within errors.retry.timeout";
  EXPECT_EQ(handler.tolerated(), 1);

  // Other exceptions are not retried, only tolerated.
  calls = 0;
  auto data = handler.run(
      Stage::kValueConverter,
      [&]() -> int {
        ++calls;
        throw DataException("not a number");
      },
      describe);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(handler.tolerated(), 2);
}

TEST(ErrorHandlerTest, CancelEndsAWaitingRetry) {
  // Retry forever with back-offs of up to a minute: only cancel() can end this.
  ErrorHandler handler(
      config({{"errors.retry.timeout", "-1"}, {"errors.retry.delay.max.ms", "60000"}}), "c", 0,
      nullptr);
  std::atomic<int> calls{0};
  std::thread canceller([&] {
    while (calls.load() < 3) std::this_thread::sleep_for(5ms);  // in its longer back-offs now
    handler.cancel();
  });
  auto r = handler.run(
      Stage::kTaskPut,
      [&]() -> int {
        ++calls;
        throw RetriableException("down");
      },
      describe);
  canceller.join();
  ASSERT_FALSE(r.ok()) << "a cancelled retry is a failure (tolerance none)";
  EXPECT_GE(calls.load(), 3);
}

TEST(ErrorHandlerTest, ReportHonoursTolerance) {
  ErrorHandler strict(config({}), "c", 1, nullptr);
  auto failed = describe();
  failed.stage = Stage::kProduce;
  failed.error = "boom";
  failed.error_class = "X";
  EXPECT_FALSE(strict.report(failed).ok());
  ErrorHandler lenient(config({{"errors.tolerance", "all"}, {"errors.log.enable", "true"}}), "c", 1,
                       nullptr);
  EXPECT_TRUE(lenient.report(failed).ok());
  EXPECT_EQ(lenient.tolerated(), 1);
  // A dead letter queue that cannot be written fails the task rather than dropping the record.
  ErrorHandler no_dlq_producer(
      config({{"errors.tolerance", "all"}, {"errors.deadletterqueue.topic.name", "dlq"}}), "c", 1,
      nullptr);
  auto r = no_dlq_producer.report(failed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("dead letter queue"), std::string::npos);
}

// Kafka Connect's task-error-metrics (GET /metrics): every failed attempt, retries, records that
// failed for good, skipped, logged, and dead letter sends.
TEST(ErrorHandlerTest, MetricsCountFailuresRetriesSkipsAndDeadLetters) {
  ErrorHandler handler(config({{"errors.tolerance", "all"},
                               {"errors.retry.timeout", "10000"},
                               {"errors.retry.delay.max.ms", "10"},
                               {"errors.log.enable", "true"}}),
                       "c", 0, nullptr);
  const ErrorMetrics& m = handler.metrics();
  int calls = 0;
  auto ok = handler.run(
      Stage::kTaskPut,
      [&] {
        if (++calls < 3) throw RetriableException("busy");
        return 1;
      },
      describe);
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ(read(m.record_failures), 2u);
  EXPECT_EQ(read(m.retries), 2u);
  EXPECT_EQ(read(m.record_errors), 0u);

  auto skipped = handler.run(
      Stage::kValueConverter, []() -> int { throw DataException("not a number"); }, describe);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(read(m.record_failures), 3u);
  EXPECT_EQ(read(m.record_errors), 1u);
  EXPECT_EQ(read(m.records_skipped), 1u);
  EXPECT_EQ(read(m.errors_logged), 1u);
  EXPECT_EQ(read(m.dlq_produce_requests), 0u);

  // A dead letter queue that cannot be written (no producer): the send is counted, and failed.
  ErrorHandler dlq(
      config({{"errors.tolerance", "all"}, {"errors.deadletterqueue.topic.name", "dlq"}}), "c", 0,
      nullptr);
  EXPECT_FALSE(dlq.report(describe()).ok());
  EXPECT_EQ(read(dlq.metrics().dlq_produce_requests), 1u);
  EXPECT_EQ(read(dlq.metrics().dlq_produce_failures), 1u);

  // Not tolerated: an error, not a skip.
  ErrorHandler strict(config({}), "c", 0, nullptr);
  EXPECT_FALSE(strict.report(describe()).ok());
  EXPECT_EQ(read(strict.metrics().record_errors), 1u);
  EXPECT_EQ(read(strict.metrics().records_skipped), 0u);
}

}  // namespace
}  // namespace rmqc::runtime
