#include "uppercase_transform.h"

#include <cctype>

namespace example {

std::optional<rmqc::ConnectRecord> UppercaseTransform::do_transform(rmqc::ConnectRecord record) {
  if (auto* text = record.value.get_if<std::string>()) {
    for (auto& c : *text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return record;
}

}  // namespace example
