#include "base/thread_name.h"

#include <gtest/gtest.h>

#include <pthread.h>
#include <string>
#include <thread>

namespace rmqc {
namespace {

std::string name_of(pthread_t thread) {
  char buf[64] = {};
  EXPECT_EQ(pthread_getname_np(thread, buf, sizeof(buf)), 0);
  return buf;
}

TEST(ThreadNameTest, NamesTheCallingThread) {
  std::string seen;
  std::string current;
  std::thread t([&] {
    set_thread_name("t:orders-3");
    seen = name_of(pthread_self());
    current = current_thread_name();
  });
  t.join();
  EXPECT_EQ(seen, "t:orders-3");
  EXPECT_EQ(current, "t:orders-3");
}

TEST(ThreadNameTest, CutsLongNamesToFifteenBytes) {
  std::string seen;
  std::thread t([&] {
    set_thread_name("a-very-long-thread-name-indeed");
    seen = name_of(pthread_self());
  });
  t.join();
  EXPECT_EQ(seen, "a-very-long-thr");
}

TEST(ThreadNameTest, DoesNotCutInsideAUtf8Sequence) {
  std::string seen;
  std::thread t([&] {
    // 14 ASCII bytes, then a two-byte character that would straddle the limit.
    set_thread_name("abcdefghijklmn\xC3\xA9z");
    seen = name_of(pthread_self());
  });
  t.join();
  EXPECT_EQ(seen, "abcdefghijklmn");
}

TEST(ThreadNameTest, FitKeepsTheSuffix) {
  EXPECT_EQ(fit_thread_name("t:", "orders", "-3"), "t:orders-3");
  EXPECT_EQ(fit_thread_name("t:", "a-long-connector-name", "-12"), "t:a-long-con-12");
  EXPECT_EQ(fit_thread_name("t:", "x", "-12"), "t:x-12");
  EXPECT_EQ(fit_thread_name("prefix-too-long:", "m", "-7"), "prefix-too-lo-7");
  EXPECT_EQ(fit_thread_name("", "", "0123456789abcdefgh"), "0123456789abcde");
  for (int id : {0, 9, 99, 199, 1234}) {
    const std::string suffix = "-" + std::to_string(id);
    const std::string name = fit_thread_name("t:", "file-sink-connector-number-17", suffix);
    EXPECT_LE(name.size(), kMaxThreadNameLength);
    EXPECT_EQ(name.substr(name.size() - suffix.size()), suffix);
  }
}

TEST(ThreadNameTest, TaggedKeepsTheTagsLastPart) {
  EXPECT_EQ(tagged_thread_name("io:", "orders-sink-12"), "io:orders-si-12");
  EXPECT_EQ(tagged_thread_name("p:", "orders-3"), "p:orders-3");
  EXPECT_EQ(tagged_thread_name("io:", "DEFAULT_PRODUCER"), "io:DEFAULT_PROD");
  EXPECT_EQ(tagged_thread_name("io:", ""), "io:");
}

}  // namespace
}  // namespace rmqc
