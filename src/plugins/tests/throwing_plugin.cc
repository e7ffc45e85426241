// A plugin whose entry registers one transform and then throws: nothing may reach the registry.
#include "rmqc/api/errors.h"
#include "rmqc/plugin/entry.h"

namespace throwing {

class NoopTransform final : public rmqc::Transform {
 public:
  void start(const rmqc::KeyValue&) override {}
  std::optional<rmqc::ConnectRecord> do_transform(rmqc::ConnectRecord record) override {
    return record;
  }
};

}  // namespace throwing

RMQC_PLUGIN_ENTRY(throwing) {
  registrar.add_transform<throwing::NoopTransform>(
      {"test.ThrowingNoop", {"ThrowingNoop"}, "0", "registers, then throws"});
  throw rmqc::ConnectException("cannot initialise: missing license file");
}
