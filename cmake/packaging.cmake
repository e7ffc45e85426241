# The Debian package of the worker (`make package`, docs/operations.md#packages).
#
# What it holds is the install component "runtime": the rmq-connect binary, the connector families
# built as plugins (RMQC_CONNECTOR_<NAME>=MODULE, installed by cmake/rmqc_connector.cmake), the
# default configs under /etc/rmq-connect (conffiles), the systemd units and the maintainer scripts
# of packaging/. The SDK headers (component "sdk") are not part of it.
#
#   cmake --build <build> --target rmq-connect-runtime
#   cpack --config <build>/CPackConfig.cmake -B <out>
#
# The target rmq-connect-runtime builds exactly what the package (and `make run`) needs.
# The configs install to the absolute /etc/rmq-connect: a `cmake --install` of every component
# writes there too (use DESTDIR for a staged install, or --component sdk for the SDK only).

set(_pkg ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS rmq-connect RUNTIME DESTINATION bin COMPONENT runtime)
install(DIRECTORY DESTINATION lib/rmq-connect/plugins COMPONENT runtime)
install(FILES ${_pkg}/etc/standalone.properties ${_pkg}/etc/distributed.properties
              ${_pkg}/etc/broker.env
        DESTINATION /etc/rmq-connect COMPONENT runtime)
install(FILES ${_pkg}/systemd/rmq-connect.service ${_pkg}/systemd/rmq-connect-distributed.service
              ${_pkg}/systemd/rmq-connect-broker.service
        DESTINATION lib/systemd/system COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/broker.md ${PROJECT_SOURCE_DIR}/docs/distributed.md
              ${PROJECT_SOURCE_DIR}/docs/rest-api.md
        DESTINATION share/doc/rmq-connect COMPONENT runtime)

get_property(_modules GLOBAL PROPERTY RMQC_MODULE_CONNECTORS)
set(_module_targets "")
foreach(m IN LISTS _modules)
  list(APPEND _module_targets rmqc-connector-${m})
endforeach()
add_custom_target(rmq-connect-runtime DEPENDS rmq-connect ${_module_targets})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rmq-connect)
set(CPACK_PACKAGE_VENDOR "rocketmq-connect-cpp")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Native RocketMQ Connect worker with an embedded RocketMQ broker")
set(CPACK_PACKAGE_DESCRIPTION
    "rmq-connect moves data between Apache RocketMQ and other systems (databases, Kafka, files)\n"
    "with source and sink connectors: standalone or distributed workers, a REST API, and an\n"
    "embedded RocketMQ-compatible name server and broker. systemd units: rmq-connect\n"
    "(standalone), rmq-connect-distributed, rmq-connect-broker.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Only the runtime component, whatever else the build installs.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};runtime;/")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "rocketmq-connect-cpp developers <rmq-connect@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://rocketmq.apache.org/")
# Depends: the shared libraries the binary links (dpkg-shlibdeps, from dpkg-dev) and passwd for
# the maintainer scripts' useradd.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_pkg}/debian/conffiles ${_pkg}/debian/postinst ${_pkg}/debian/prerm ${_pkg}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)

if(RMQC_BUILD_TESTS)
  # Builds the package from this build's binary, installs it with dpkg, runs the installed worker
  # with the installed config, purges it (tests/package/package_install_test.sh).
  add_test(NAME package_install
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package/package_install_test.sh
                   ${CMAKE_BINARY_DIR} $<TARGET_FILE:rmq-connect>)
  # RESOURCE_LOCK dpkg: never at the same time as another test that runs apt-get or dpkg (dpkg's
  # lock makes the second one fail at once); tests that install packages declare it too.
  set_tests_properties(package_install PROPERTIES LABELS "integration" TIMEOUT 300
                       SKIP_RETURN_CODE 77 RESOURCE_LOCK dpkg)
  # The Dockerfile: instructions, stages, COPY sources and ports checked without a docker engine.
  add_test(NAME dockerfile_check
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/package/dockerfile_check.sh
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(dockerfile_check PROPERTIES LABELS "unit" TIMEOUT 30)
endif()
