#pragma once

// The one entry point of a plugin. In a plugin source:
//
//   #include "rmqc/plugin/entry.h"
//
//   RMQC_PLUGIN_ENTRY(echo) {
//     registrar.add_source_connector<EchoSourceConnector>({"com.example.EchoSource", {"Echo"}});
//   }
//
// Built as a shared library (the default) this expands to the single exported C symbol
// `rmqc_plugin_entry_v1`, which the loader calls twice: with nullptr to read the ABI record
// (nothing of the plugin runs yet), then, if the record matches the worker's, with the registrar.
// Compiled with RMQC_PLUGIN_BUILTIN defined (the same source linked into the worker) it expands
// to the plain function `void rmqc_plugin_register_<name>(rmqc::PluginRegistrar&)`, declared
// for callers by RMQC_PLUGIN_DECLARE(name). No static initializers register anything.

#include "rmqc/plugin/abi.h"
#include "rmqc/plugin/registrar.h"

#define RMQC_PLUGIN_ENTRY_SYMBOL "rmqc_plugin_entry_v1"

extern "C" {
// With registrar == nullptr: returns the ABI record only. Otherwise registers the plugin's
// factories through registrar (may throw) and returns the record again.
using RmqcPluginEntryFn = const RmqcPluginAbi* (*)(rmqc::PluginRegistrar* registrar);
}

// Free text shown in logs; a plugin may define it before including this header.
#ifndef RMQC_PLUGIN_VERSION
#define RMQC_PLUGIN_VERSION "undefined"
#endif

#define RMQC_PLUGIN_DECLARE(name) \
  void rmqc_plugin_register_##name(::rmqc::PluginRegistrar& registrar)

#if defined(RMQC_PLUGIN_BUILTIN)
#define RMQC_PLUGIN_ENTRY(name) \
  RMQC_PLUGIN_DECLARE(name);    \
  RMQC_PLUGIN_DECLARE(name)
#else
#define RMQC_PLUGIN_ENTRY(name)                                                                    \
  static void rmqc_plugin_register_##name(::rmqc::PluginRegistrar& registrar);                     \
  extern "C" __attribute__((visibility("default"))) const RmqcPluginAbi* rmqc_plugin_entry_v1(     \
      ::rmqc::PluginRegistrar* registrar) {                                                        \
    static constexpr RmqcPluginAbi kAbi = ::rmqc::plugin::current_abi(#name, RMQC_PLUGIN_VERSION); \
    if (registrar != nullptr) rmqc_plugin_register_##name(*registrar);                             \
    return &kAbi;                                                                                  \
  }                                                                                                \
  static void rmqc_plugin_register_##name(::rmqc::PluginRegistrar& registrar)
#endif
