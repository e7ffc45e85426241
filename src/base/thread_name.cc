#include "base/thread_name.h"

#include <algorithm>
#include <pthread.h>

namespace rmqc {
namespace {

// `s` cut to at most `n` bytes, not inside a UTF-8 sequence.
std::string_view cut(std::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

void set_thread_name(std::string_view name) {
  char buf[kMaxThreadNameLength + 1] = {};
  const std::string_view fitted = cut(name, kMaxThreadNameLength);
  std::copy(fitted.begin(), fitted.end(), buf);
  (void)pthread_setname_np(pthread_self(), buf);
}

std::string current_thread_name() {
  char buf[64] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return {};
  return buf;
}

std::string fit_thread_name(std::string_view prefix, std::string_view middle,
                            std::string_view suffix) {
  suffix = cut(suffix, kMaxThreadNameLength);
  std::size_t room = kMaxThreadNameLength - suffix.size();
  prefix = cut(prefix, room);
  room -= prefix.size();
  middle = cut(middle, room);
  std::string out;
  out.reserve(prefix.size() + middle.size() + suffix.size());
  out.append(prefix).append(middle).append(suffix);
  return out;
}

std::string tagged_thread_name(std::string_view prefix, std::string_view tag) {
  const auto dash = tag.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return fit_thread_name(prefix, tag, "");
  return fit_thread_name(prefix, tag.substr(0, dash), tag.substr(dash));
}

}  // namespace rmqc
