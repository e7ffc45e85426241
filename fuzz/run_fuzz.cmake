# Builds the fuzz targets with clang in their own build tree and runs each for a bounded time
# over a copy of its seed corpus. Fails on a build error or on any crash, leak, timeout or OOM.
#   cmake -DSOURCE_DIR=<repo>/fuzz -DBINARY_DIR=<dir> [-DMAX_TIME=6] -P run_fuzz.cmake
if(NOT MAX_TIME)
  set(MAX_TIME 6)
endif()
find_program(CLANGXX clang++ REQUIRED)
find_program(CLANG clang REQUIRED)
find_program(NINJA ninja)
set(generator)
if(NINJA)
  set(generator -G Ninja)
endif()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} ${generator}
          -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=${CLANGXX}
          -DCMAKE_C_COMPILER=${CLANG}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring fuzz targets failed:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} -j2
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building fuzz targets failed:\n${out}")
endif()

foreach(target frame message body)
  set(work ${BINARY_DIR}/work/${target})
  file(REMOVE_RECURSE ${work})
  file(MAKE_DIRECTORY ${work}/corpus ${work}/artifacts)
  file(GLOB seeds ${SOURCE_DIR}/corpus/${target}/*)
  file(COPY ${seeds} DESTINATION ${work}/corpus)
  execute_process(
    COMMAND ${BINARY_DIR}/${target}_fuzz -max_total_time=${MAX_TIME} -rss_limit_mb=2048
            -timeout=10 -max_len=65536 -print_final_stats=1
            -artifact_prefix=${work}/artifacts/ ${work}/corpus
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${out}")
  message(STATUS "${target}_fuzz: exit ${rc}, ${runs}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${target}_fuzz failed (artifacts in ${work}/artifacts):\n${out}")
  endif()
endforeach()
