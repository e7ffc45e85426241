// A plugin built "with another compiler": its ABI record claims a different compiler major and
// SDK fingerprint. The loader must refuse it before calling it with a registrar.
#include "rmqc/plugin/entry.h"

#include <cstdlib>

extern "C" __attribute__((visibility("default"))) const RmqcPluginAbi* rmqc_plugin_entry_v1(
    rmqc::PluginRegistrar* registrar) {
  static constexpr RmqcPluginAbi kAbi = [] {
    RmqcPluginAbi abi = rmqc::plugin::current_abi("wrong_abi", "0");
    abi.compiler_major += 1;
    abi.sdk_fingerprint = "0000000000000000";
    return abi;
  }();
  if (registrar != nullptr) std::abort();  // never reached: the loader checks the record first
  return &kAbi;
}
