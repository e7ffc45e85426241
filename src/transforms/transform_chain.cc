#include "transforms/transform_chain.h"

#include "rmqc/api/config_def.h"
#include "rmqc/api/errors.h"

#include "transforms/transform_support.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace rmqc::transforms {
namespace {

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidConfig, std::move(message));
}

// Starts a component with its prefixed config, turning any exception into an error naming the
// full key.
template <typename C>
Result<void> start_component(C& component, const KeyValue& config, const std::string& prefix) {
  try {
    component.validate(config);
    component.start(config);
  } catch (const ConfigError& e) {
    return invalid(prefix + e.key() + ": " + e.what());
  } catch (const std::exception& e) {
    std::string where = prefix.substr(0, prefix.size() - 1);  // without the trailing '.'
    return invalid(where + ": " + e.what());
  }
  return {};
}

const std::string* class_of(const KeyValue& config, const std::string& prefix,
                            std::string_view first, std::string_view second) {
  if (const auto* c = config.find(prefix + std::string(first))) return c;
  return config.find(prefix + std::string(second));
}

Result<bool> parse_bool(const KeyValue& config, const std::string& key) {
  const std::string* v = config.find(key);
  if (!v) return false;
  std::string lower = *v;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true") return true;
  if (lower == "false") return false;
  return invalid(key + ": expected true or false, got '" + *v + "'");
}

}  // namespace

TransformChain::~TransformChain() {
  stop();
}

Result<TransformChain> TransformChain::build(const KeyValue& connector_config,
                                             const plugins::PluginRegistry& registry) {
  TransformChain chain;
  std::map<std::string, std::shared_ptr<Predicate>, std::less<>> predicates;
  for (const auto& name : split_list(connector_config.get_string("predicates"))) {
    std::string prefix = "predicates." + name + ".";
    const std::string* type = class_of(connector_config, prefix, "type", "class");
    if (!type) return invalid("Missing required configuration \"" + prefix + "type\"");
    auto created = registry.create_predicate(*type);
    if (!created.ok()) return invalid(prefix + "type: " + created.error().message());
    std::shared_ptr<Predicate> predicate = std::move(created).value();
    KeyValue config = connector_config.with_prefix_stripped(prefix);
    config.erase("type");
    config.erase("class");
    if (auto started = start_component(*predicate, config, prefix); !started.ok()) {
      predicate->stop();
      return std::move(started).error();
    }
    predicates.emplace(name, predicate);
    chain.predicates_.push_back(std::move(predicate));
  }

  for (const auto& alias : split_list(connector_config.get_string("transforms"))) {
    std::string prefix = "transforms." + alias + ".";
    if (std::any_of(chain.stages_.begin(), chain.stages_.end(),
                    [&](const Stage& s) { return s.alias == alias; })) {
      return invalid("transforms: alias '" + alias + "' is listed twice");
    }
    const std::string* cls = class_of(connector_config, prefix, "class", "type");
    if (!cls) return invalid("Missing required configuration \"" + prefix + "class\"");
    auto created = registry.create_transform(*cls);
    if (!created.ok()) return invalid(prefix + "class: " + created.error().message());
    Stage stage;
    stage.alias = alias;
    stage.transform = std::move(created).value();
    if (const std::string* p = connector_config.find(prefix + "predicate")) {
      auto it = predicates.find(*p);
      if (it == predicates.end()) {
        return invalid(prefix + "predicate: no predicate named '" + *p +
                       "' is defined in 'predicates'");
      }
      stage.predicate = it->second;
    }
    RMQC_ASSIGN_OR_RETURN(stage.negate, parse_bool(connector_config, prefix + "negate"));
    if (stage.negate && !stage.predicate) {
      return invalid(prefix + "negate: needs " + prefix + "predicate");
    }
    KeyValue config = connector_config.with_prefix_stripped(prefix);
    for (const char* k : {"class", "type", "predicate", "negate"}) config.erase(k);
    auto started = start_component(*stage.transform, config, prefix);
    if (!started.ok()) {
      // The chain's destructor stops the stages already built; this one is not in it yet.
      stage.transform->stop();
      return std::move(started).error();
    }
    chain.stages_.push_back(std::move(stage));
  }
  return chain;
}

Result<void> TransformChain::validate(const KeyValue& connector_config,
                                      const plugins::PluginRegistry& registry) {
  RMQC_ASSIGN_OR_RETURN(TransformChain chain, build(connector_config, registry));
  chain.stop();
  return {};
}

std::optional<ConnectRecord> TransformChain::apply(ConnectRecord record) const {
  for (const auto& stage : stages_) {
    if (stage.predicate && stage.predicate->test(record) == stage.negate) continue;
    auto out = stage.transform->do_transform(std::move(record));
    if (!out) return std::nullopt;
    record = std::move(*out);
  }
  return record;
}

void TransformChain::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& s : stages_) s.transform->stop();
  for (auto& p : predicates_) p->stop();
}

std::vector<std::string> TransformChain::aliases() const {
  std::vector<std::string> out;
  out.reserve(stages_.size());
  for (const auto& s : stages_) out.push_back(s.alias);
  return out;
}

}  // namespace rmqc::transforms
