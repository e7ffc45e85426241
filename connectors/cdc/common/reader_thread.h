#pragma once

// The name of a connector's reader thread (binlog or replication stream): the task thread that
// starts it is "t:<connector>-<id>", the reader becomes "r:<connector>-<id>" (docs/architecture.md,
// Threads), so `top -H` and per-thread CPU tell the two apart.

#include <pthread.h>
#include <string>

namespace rmqc::connectors::cdc {

// Called on the task thread, before starting the reader; fallback when that thread has another
// name (a test's or a benchmark's own thread).
inline std::string reader_thread_name(const char* fallback) {
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0 || name[0] != 't' ||
      name[1] != ':') {
    return fallback;
  }
  name[0] = 'r';
  return name;
}

// Names the calling thread (at most 15 bytes, as Linux keeps).
inline void name_reader_thread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace rmqc::connectors::cdc
