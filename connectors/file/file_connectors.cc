#include "file/file_connectors.h"

#include "rmqc/plugin/entry.h"

#include "file/file_sink_connector.h"
#include "file/file_source_connector.h"

namespace rmqc::connectors::file {

void register_file_connectors(PluginRegistrar& registrar) {
  registrar.add_source_connector<FileSourceConnector>(
      {"org.apache.rocketmq.connect.file.FileSourceConnector",
       {"FileSourceConnector"},
       "1.0",
       "Tails a file into a topic, one record per line; resumes at the committed byte offset and "
       "follows truncation and rotation."});
  registrar.add_sink_connector<FileSinkConnector>(
      {"org.apache.rocketmq.connect.file.FileSinkConnector",
       {"FileSinkConnector"},
       "1.0",
       "Appends one line per record to a file and syncs it before offsets are committed."});
}

}  // namespace rmqc::connectors::file

// The same registration through the plugin entry: a built-in here (RMQC_PLUGIN_BUILTIN), so this
// defines rmqc_plugin_register_file(); a build as a .so would export rmqc_plugin_entry_v1.
RMQC_PLUGIN_ENTRY(file) {
  rmqc::connectors::file::register_file_connectors(registrar);
}
