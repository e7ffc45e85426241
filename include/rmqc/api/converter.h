#pragma once

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/schema.h"
#include "rmqc/base/result.h"

#include <string>
#include <string_view>

namespace rmqc {

// Turns connect data into message bytes and back (key.converter / value.converter). Configured
// from the connector keys under "key.converter." / "value.converter." with the prefix removed.
// One instance serves one task thread: implementations need not be thread-safe.
class RecordConverter {
 public:
  virtual ~RecordConverter() = default;

  virtual Result<void> configure(const KeyValue& config, bool is_key) {
    (void)config;
    (void)is_key;
    return {};
  }
  virtual ConfigDef config_def() const { return {}; }

  // Writes the encoding of value into out (replacing its content; the caller reuses the buffer).
  virtual Result<void> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                         const Value& value, std::string& out) = 0;
  virtual Result<SchemaAndValue> to_connect_data(std::string_view topic,
                                                 std::string_view bytes) = 0;

  Result<std::string> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                        const Value& value) {
    std::string out;
    RMQC_RETURN_IF_ERROR(from_connect_data(topic, schema, value, out));
    return out;
  }
};

}  // namespace rmqc
