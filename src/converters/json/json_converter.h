#pragma once

#include "rmqc/api/converter.h"

#include "base/lru_cache.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rmqc::converters {

// The Kafka-Connect-compatible JSON envelope of RocketMQ Connect:
//   {"schema": {"type":"struct","fields":[{"field":"id","type":"int64","optional":true}, ...],
//               "optional":true,"name":"..."},
//    "payload": {"id": 12, ...}}
// Config (value.converter.* / key.converter.*):
//   schemas.enable      true | false   (false: bare payload, decoded without a schema)
//   schemas.cache.size  1000           (schemas remembered in each direction)
//   decimal.format      BASE64 | NUMERIC  (how Decimal values are written)
// Schemas are cached by identity when encoding and by their JSON text when decoding, so a stream
// of records with one schema pays for the schema once. Not thread-safe: one instance per task.
class JsonConverter final : public RecordConverter {
 public:
  enum class DecimalFormat { kBase64, kNumeric };

  JsonConverter();
  ~JsonConverter() override;

  Result<void> configure(const KeyValue& config, bool is_key) override;
  ConfigDef config_def() const override;

  Result<void> from_connect_data(std::string_view topic, const SchemaPtr& schema,
                                 const Value& value, std::string& out) override;
  Result<SchemaAndValue> to_connect_data(std::string_view topic, std::string_view bytes) override;
  using RecordConverter::from_connect_data;

  // The JSON form of a schema, and back; exposed for the REST API and tests.
  static Result<void> write_schema(const Schema& schema, DecimalFormat format, std::string& out);
  Result<SchemaPtr> parse_schema(std::string_view json);

  // Encoder internals (json_encode.cc).
  // The keys of a struct schema's fields as written in its JSON object, each with the separator
  // before it ("{\"id\":", ",\"name\":", ...), rendered once per schema instead of escaping every
  // field name of every record.
  struct FieldKeys {
    SchemaPtr schema;  // keeps the key's address valid while cached
    std::string text;
    std::vector<std::uint32_t> ends;  // key i is text[ends[i-1] (0 for i = 0), ends[i])
  };
  class FieldKeyCache {
   public:
    // The keys of a STRUCT schema; recently used ones are found by a scan of a few pointers.
    const FieldKeys& get(const SchemaPtr& schema);
    void set_capacity(std::size_t capacity) { capacity_ = capacity; }

   private:
    static constexpr std::size_t kRecent = 8;
    std::array<std::pair<const Schema*, const FieldKeys*>, kRecent> recent_{};
    std::size_t next_recent_ = 0;
    std::unordered_map<const Schema*, FieldKeys> all_;
    std::size_t capacity_ = 1000;
  };

 private:
  struct Decoder;
  struct CachedSchemaJson {
    SchemaPtr schema;  // keeps the key's address valid while cached
    std::string json;
  };

  Result<const std::string*> schema_json(const SchemaPtr& schema);
  void set_decode_cache_capacity(std::size_t capacity);

  bool schemas_enable_ = true;
  DecimalFormat decimal_format_ = DecimalFormat::kBase64;
  LruCache<const Schema*, CachedSchemaJson> encode_cache_;
  FieldKeyCache field_keys_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace rmqc::converters
