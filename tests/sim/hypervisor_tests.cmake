# Tests of the software Xen's grant tables and event channels (sim/hypervisor and the
# drop-in libraries). Included by tests/sim/CMakeLists.txt.

add_executable(simxen_hypervisor_harness ${CMAKE_CURRENT_LIST_DIR}/hypervisor_harness.cpp)
target_link_libraries(simxen_hypervisor_harness PRIVATE simxen_hypervisor)

# Linked against Debian's libxengnttab/libxenevtchn on purpose and run with LD_LIBRARY_PATH
# pointing at ours: this is how the product meets the drop-ins, and it proves the sonames and
# version nodes are right (the loader refuses a library lacking a node the binary needs).
add_executable(simxen_hypervisor_tests
  ${CMAKE_CURRENT_LIST_DIR}/hypervisor_test_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grant_table_tests.cpp
  ${CMAKE_CURRENT_LIST_DIR}/event_channel_tests.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hypervisor_robustness_tests.cpp
  ${CMAKE_CURRENT_LIST_DIR}/xenio_on_software_xen_tests.cpp)
target_include_directories(simxen_hypervisor_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(simxen_hypervisor_tests PRIVATE
  SIMXEN_HARNESS_PATH="$<TARGET_FILE:simxen_hypervisor_harness>"
  SIMXEN_LIBDIR="${XENSND_SIM_LIBDIR}")
target_link_libraries(simxen_hypervisor_tests PRIVATE
  xensnd_xenio PkgConfig::XENGNTTAB PkgConfig::XENEVTCHN GTest::gtest_main ${CMAKE_DL_LIBS})
add_dependencies(simxen_hypervisor_tests simxen_hypervisor_harness simxen_xengnttab simxen_xenevtchn)
gtest_discover_tests(simxen_hypervisor_tests
  DISCOVERY_MODE PRE_TEST
  PROPERTIES LABELS sim ENVIRONMENT "LD_LIBRARY_PATH=${XENSND_SIM_LIBDIR}")

# Every symbol Debian's libraries export, in the same version node.
foreach(lib xengnttab xenevtchn)
  add_test(NAME simxen_${lib}_exports_match_debian
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/compare_exports.sh
      /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/lib${lib}.so.1 $<TARGET_FILE:simxen_${lib}>)
  set_tests_properties(simxen_${lib}_exports_match_debian PROPERTIES LABELS sim)
endforeach()

# The same service inside the daemon, reached with nothing but the environment it prints.
if(NOT (TARGET simtest_support AND TARGET xensnd-simxen))
  message(FATAL_ERROR "tests/sim: simtest_support or xensnd-simxen is missing, the daemon's hypervisor tests cannot be built")
endif()
add_executable(simxen_hypervisor_daemon_tests ${CMAKE_CURRENT_LIST_DIR}/hypervisor_daemon_tests.cpp)
target_link_libraries(simxen_hypervisor_daemon_tests PRIVATE
  simtest_support PkgConfig::XENGNTTAB PkgConfig::XENEVTCHN GTest::gtest_main)
add_dependencies(simxen_hypervisor_daemon_tests simxen_xengnttab simxen_xenevtchn)
gtest_discover_tests(simxen_hypervisor_daemon_tests
  DISCOVERY_MODE PRE_TEST
  PROPERTIES LABELS sim ENVIRONMENT "LD_LIBRARY_PATH=${XENSND_SIM_LIBDIR}")

# Figures for the fast paths (not a test): run with LD_LIBRARY_PATH=${XENSND_SIM_LIBDIR}.
find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(simxen_hypervisor_bench
    ${CMAKE_CURRENT_LIST_DIR}/hypervisor_bench.cpp
    ${CMAKE_CURRENT_LIST_DIR}/hypervisor_test_support.cpp)
  target_include_directories(simxen_hypervisor_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(simxen_hypervisor_bench PRIVATE
    SIMXEN_HARNESS_PATH="$<TARGET_FILE:simxen_hypervisor_harness>")
  target_link_libraries(simxen_hypervisor_bench PRIVATE
    PkgConfig::XENGNTTAB PkgConfig::XENEVTCHN benchmark::benchmark GTest::gtest)
  add_dependencies(simxen_hypervisor_bench simxen_hypervisor_harness simxen_xengnttab simxen_xenevtchn)
endif()
