#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include <string>
#include <string_view>

namespace rmqc::config {

// Parses Java .properties / .conf text: `key=value`, `key: value` or `key value`; `#` and `!`
// comment lines; a trailing backslash continues the line; surrounding blanks trimmed. Later keys
// override earlier ones. (Java's \uXXXX escapes are decoded; other escapes keep the character.)
Result<KeyValue> parse_properties(std::string_view text);
Result<KeyValue> load_properties_file(const std::string& path);

}  // namespace rmqc::config
