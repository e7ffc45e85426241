// The plugin's one entry point: what the library registers, under which names.
#define RMQC_PLUGIN_VERSION "1.0.0"
#include "rmqc/plugin/entry.h"

#include "counter_source.h"
#include "uppercase_transform.h"

RMQC_PLUGIN_ENTRY(example) {
  registrar.add_source_connector<example::CounterSourceConnector>(
      {"com.example.connect.CounterSourceConnector",
       {"CounterSourceConnector"},
       "1.0.0",
       "emits increasing INT64 numbers"});
  registrar.add_transform<example::UppercaseTransform>({"com.example.connect.transforms.Uppercase",
                                                        {"Uppercase"},
                                                        "1.0.0",
                                                        "upper-cases STRING values"});
}
