// A shared library in a plugin directory that is not a plugin: no rmqc_plugin_entry_v1.
extern "C" __attribute__((visibility("default"))) int rmqc_test_not_a_plugin() {
  return 42;
}
