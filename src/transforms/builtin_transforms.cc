#include "transforms/builtin_transforms.h"

#include "transforms/transform_support.h"

namespace rmqc::transforms {

void register_builtin_transforms(PluginRegistrar& registrar) {
  register_seed_transforms(registrar);
  register_field_transforms(registrar);
  register_cast_transforms(registrar);
  register_router_transforms(registrar);
  register_predicates(registrar);
  register_debezium_transforms(registrar);
}

}  // namespace rmqc::transforms
