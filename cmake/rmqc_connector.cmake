# Connector families: one set of sources built either into rmq-connect or as a loadable plugin.
#
#   rmqc_connector_family(NAME jdbc ENTRY jdbc_plugin.cc SRCS a.cc b.cc LIBS PkgConfig::X)
#
# The cache variable RMQC_CONNECTOR_<NAME> chooses, per family:
#   BUILTIN  linked into rmq-connect and registered at start (the default)
#   MODULE   built as plugins/librmqc-connector-<name>.so, loaded from a pluginPaths directory
#   OFF      not built
# Either way the family's code sees only the SDK (include/rmqc) and its own folder: there is no
# include path into src/, so a connector cannot reach worker internals.
#
# Targets:
#   rmqc::connector_<name>_core  the family without its plugin entry (tests link this and rmqc::data)
#   rmqc::connector_<name>       BUILTIN only: core + the entry compiled with RMQC_PLUGIN_BUILTIN
#   rmqc-connector-<name>        MODULE only: the .so
# The global property RMQC_BUILTIN_CONNECTORS lists the BUILTIN families; connectors/CMakeLists.txt
# generates the registration of all of them from it (rmqc_builtin_connectors()).

function(rmqc_connector_family)
  cmake_parse_arguments(ARG "" "NAME;ENTRY" "SRCS;LIBS" ${ARGN})
  string(TOUPPER "${ARG_NAME}" upper)
  set(RMQC_CONNECTOR_${upper} BUILTIN CACHE STRING
      "How to build the ${ARG_NAME} connectors: BUILTIN, MODULE or OFF")
  set_property(CACHE RMQC_CONNECTOR_${upper} PROPERTY STRINGS BUILTIN MODULE OFF)
  set(mode "${RMQC_CONNECTOR_${upper}}")
  if(mode STREQUAL "OFF")
    message(STATUS "connector family ${ARG_NAME}: off")
    return()
  elseif(NOT mode MATCHES "^(BUILTIN|MODULE)$")
    message(FATAL_ERROR "RMQC_CONNECTOR_${upper}=${mode}: expected BUILTIN, MODULE or OFF")
  endif()
  message(STATUS "connector family ${ARG_NAME}: ${mode}")

  set(core rmqc_connector_${ARG_NAME}_core)
  add_library(${core} STATIC ${ARG_SRCS})
  target_include_directories(${core} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            ${PROJECT_SOURCE_DIR}/connectors)
  target_link_libraries(${core} PUBLIC ${ARG_LIBS})
  # Hidden: a module exports its entry only; SDK symbols resolve against the worker at load.
  set_target_properties(${core} PROPERTIES POSITION_INDEPENDENT_CODE ON
                        CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  add_library(rmqc::connector_${ARG_NAME}_core ALIAS ${core})

  if(mode STREQUAL "BUILTIN")
    set(target rmqc_connector_${ARG_NAME})
    add_library(${target} STATIC ${ARG_ENTRY})
    target_compile_definitions(${target} PRIVATE RMQC_PLUGIN_BUILTIN)
    # LINK_ONLY: the worker's SDK implementation is linked, its src/ include path is not.
    target_link_libraries(${target} PUBLIC ${core} $<LINK_ONLY:rmqc::data>)
    add_library(rmqc::connector_${ARG_NAME} ALIAS ${target})
    set_property(GLOBAL APPEND PROPERTY RMQC_BUILTIN_CONNECTORS ${ARG_NAME})
    if(RMQC_BUILD_TESTS)
      # The same sources as a .so too, so connectors/tests proves every built-in family also
      # loads as a plugin (connector-modules/ in the build tree; not installed).
      _rmqc_connector_module(${ARG_NAME} rmqc-connector-${ARG_NAME}-module
                             ${CMAKE_BINARY_DIR}/connector-modules "${ARG_ENTRY}")
      set_property(GLOBAL APPEND PROPERTY RMQC_CONNECTOR_TEST_MODULES
                   rmqc-connector-${ARG_NAME}-module)
    endif()
  else()
    set(target rmqc-connector-${ARG_NAME})
    _rmqc_connector_module(${ARG_NAME} ${target} ${CMAKE_BINARY_DIR}/plugins "${ARG_ENTRY}")
    install(TARGETS ${target} LIBRARY DESTINATION lib/rmq-connect/plugins COMPONENT runtime)
    set_property(GLOBAL APPEND PROPERTY RMQC_MODULE_CONNECTORS ${ARG_NAME})
  endif()
endfunction()

# A family's plugin .so: its entry over its core, exporting the entry symbol only.
function(_rmqc_connector_module name target output_dir entry)
    get_property(fingerprint GLOBAL PROPERTY RMQC_SDK_FINGERPRINT)
    add_library(${target} MODULE ${entry})
    set_target_properties(${target} PROPERTIES OUTPUT_NAME rmqc-connector-${name})
    target_link_libraries(${target} PRIVATE rmqc_connector_${name}_core)
    target_compile_definitions(${target} PRIVATE RMQC_SDK_FINGERPRINT="${fingerprint}"
                                                 RMQC_PLUGIN_VERSION="${PROJECT_VERSION}")
    set_target_properties(${target} PROPERTIES PREFIX "lib" CXX_VISIBILITY_PRESET hidden
                          VISIBILITY_INLINES_HIDDEN ON
                          LIBRARY_OUTPUT_DIRECTORY ${output_dir})
endfunction()

# Generates builtin_connectors.cc, whose register_builtin_connectors(registrar) calls the entry
# of every BUILTIN family, and the library rmqc::builtin_connectors that links them all.
function(rmqc_builtin_connectors)
  get_property(families GLOBAL PROPERTY RMQC_BUILTIN_CONNECTORS)
  set(declarations "")
  set(calls "")
  set(names "")
  set(libs "")
  foreach(f IN LISTS families)
    string(APPEND declarations "RMQC_PLUGIN_DECLARE(${f});\n")
    string(APPEND calls "  rmqc_plugin_register_${f}(registrar);\n")
    string(APPEND names "\"${f}\", ")
    list(APPEND libs rmqc::connector_${f})
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/builtin_connectors.cc)
  file(WRITE ${out}.in
       "// Generated by rmqc_builtin_connectors() (cmake/rmqc_connector.cmake); do not edit.\n"
       "#include \"builtin_connectors.h\"\n\n"
       "#define RMQC_PLUGIN_BUILTIN\n#include \"rmqc/plugin/entry.h\"\n\n"
       "${declarations}\n"
       "namespace rmqc::connectors {\n\n"
       "std::vector<std::string> builtin_connector_families() { return {${names}}; }\n\n"
       "void register_builtin_connectors(PluginRegistrar& registrar) {\n"
       "  (void)registrar;\n${calls}}\n\n}  // namespace rmqc::connectors\n")
  # Rewritten only when the text changes, so a re-configure does not rebuild the worker.
  configure_file(${out}.in ${out} COPYONLY)
  rmqc_cc_library(NAME builtin_connectors SRCS ${out} DEPS ${libs} rmqc::data)
  target_include_directories(rmqc_builtin_connectors PUBLIC ${PROJECT_SOURCE_DIR}/connectors)
endfunction()
