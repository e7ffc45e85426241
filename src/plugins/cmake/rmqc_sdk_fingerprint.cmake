# rmqc_sdk_fingerprint(<include_dir> <out_var>)
# A fingerprint of every header under <include_dir>/rmqc/: the SHA-256 of "relative-path sha256"
# lines in sorted order, first 16 hex digits. Worker and plugins compute it the same way (the
# example plugin's CMakeLists.txt carries a copy of this function), and the loader refuses a
# plugin whose fingerprint differs: it was compiled against other SDK headers. Every header is a
# configure dependency, so an edit recomputes it.
function(rmqc_sdk_fingerprint include_dir out_var)
  file(GLOB_RECURSE headers RELATIVE "${include_dir}" CONFIGURE_DEPENDS "${include_dir}/rmqc/*.h")
  list(SORT headers)
  set(lines "")
  foreach(h IN LISTS headers)
    file(SHA256 "${include_dir}/${h}" digest)
    string(APPEND lines "${h} ${digest}\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${include_dir}/${h}")
  endforeach()
  string(SHA256 all "${lines}")
  string(SUBSTRING "${all}" 0 16 fingerprint)
  set(${out_var} "${fingerprint}" PARENT_SCOPE)
endfunction()
