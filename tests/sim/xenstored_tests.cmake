# Tests of the XenStore half, the daemon and the toolstack (label "sim").
function(xenstored_test name)
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE simtest_support GTest::gtest_main ${ARGN})
  # Discovered at build time: a test binary not built yet then simply has no tests listed.
  gtest_discover_tests(${name} PROPERTIES LABELS sim)
endfunction()

xenstored_test(xenstored_wire_test)
xenstored_test(xenstored_semantics_test PkgConfig::XENSTORE)

add_test(NAME xenstored_utils_test
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/xenstored_utils_test.sh $<TARGET_FILE:xensnd-simxen> $<TARGET_FILE:xensnd-toolstack>)
set_tests_properties(xenstored_utils_test PROPERTIES LABELS sim)

xenstored_test(toolstack_vsnd_config_test simxen_toolstack)
xenstored_test(toolstack_test PkgConfig::XENSTORE)
target_compile_definitions(toolstack_test PRIVATE SIMXEN_TOOLSTACK="$<TARGET_FILE:xensnd-toolstack>")
add_dependencies(toolstack_test xensnd-toolstack)
xenstored_test(xenstored_limits_test PkgConfig::XENSTORE)
xenstored_test(node_store_test simxen_xenstored)
xenstored_test(xenio_xenstore_connections_test xensnd_xenio)
