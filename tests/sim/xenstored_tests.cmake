# Tests of the XenStore half, the daemon and the toolstack (label "sim").
function(xenstored_test name)
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE simtest_support GTest::gtest_main ${ARGN})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS sim)
endfunction()

xenstored_test(xenstored_wire_test)
xenstored_test(xenstored_semantics_test PkgConfig::XENSTORE)
