#pragma once

// Names of the threads this process starts, as `top -H`, `ps -L`, gdb and /proc/<pid>/task/*/comm
// show them. Linux keeps at most 15 bytes of a thread's name.

#include <cstddef>
#include <string>
#include <string_view>

namespace rmqc {

inline constexpr std::size_t kMaxThreadNameLength = 15;

// Names the calling thread; a longer name is cut to 15 bytes (never inside a UTF-8 sequence).
void set_thread_name(std::string_view name);

// The calling thread's name ("" when it cannot be read).
std::string current_thread_name();

// "<prefix><middle><suffix>" in at most 15 bytes: the middle (say, a connector name) is shortened
// first, then the prefix, so the suffix (say, "-<task id>") stays readable. A suffix longer than
// the limit is cut at its end.
std::string fit_thread_name(std::string_view prefix, std::string_view middle,
                            std::string_view suffix);

// "<prefix><tag>" in at most 15 bytes, keeping the tag's last "-..." part (a task id):
// ("io:", "orders-sink-12") -> "io:orders-si-12".
std::string tagged_thread_name(std::string_view prefix, std::string_view tag);

}  // namespace rmqc
