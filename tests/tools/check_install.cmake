cmake_minimum_required(VERSION 3.25)
# `cmake --install` into a DESTDIR: lists what it installed and checks it against what the
# product is (plugins, conf snippet and function, xensnd-info, the blacklist example, docs).
# Run by ctest: cmake -DBUILD=<build dir> -DSTAGE=<empty dir> -DPLUGIN_DIR=<alsa-lib dir> -P this
file(REMOVE_RECURSE ${STAGE})
set(ENV{DESTDIR} ${STAGE})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix /usr
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed:\n${output}")
endif()
file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE ${STAGE} ${STAGE}/*)
list(SORT installed)
string(REPLACE ";" "\n  " listing "${installed}")
message(STATUS "installed into ${STAGE}:\n  ${listing}")

string(REGEX REPLACE "^/" "" plugin_dir "${PLUGIN_DIR}")
set(required
  etc/alsa/conf.d/50-xensnd.conf
  etc/pipewire/pipewire.conf.d/50-xensnd.conf
  etc/pulse/default.pa.d/xensnd.pa
  usr/bin/xensnd-info
  ${plugin_dir}/libasound_module_pcm_xensnd.so
  ${plugin_dir}/libasound_module_conf_xensnd.so
  ${plugin_dir}/libasound_module_ctl_xensnd.so
  usr/share/xensnd/modprobe.d/xensnd-blacklist-snd-xen-front.conf
  usr/share/doc/xensnd/README.md
  usr/share/doc/xensnd/README.plugin.md)
set(problems "")
foreach(file IN LISTS required)
  if(NOT file IN_LIST installed)
    string(APPEND problems "missing: ${file}\n")
  endif()
endforeach()
foreach(file IN LISTS installed)
  if(file IN_LIST required OR file STREQUAL "usr/bin/xensnd-backend"
     OR file MATCHES "^${plugin_dir}/libasound_module_[a-z]+_xensnd\\.so$")
    continue()
  endif()
  string(APPEND problems "unexpected: ${file}\n")
endforeach()
# What is installed must not point back into the build tree.
file(READ ${STAGE}/etc/alsa/conf.d/50-xensnd.conf conf)
string(FIND "${conf}" "${BUILD}" at)
if(NOT at EQUAL -1)
  string(APPEND problems "50-xensnd.conf names the build tree\n")
endif()
foreach(binary usr/bin/xensnd-info ${plugin_dir}/libasound_module_pcm_xensnd.so ${plugin_dir}/libasound_module_conf_xensnd.so)
  execute_process(COMMAND readelf -d ${STAGE}/${binary} OUTPUT_VARIABLE dynamic)
  if(dynamic MATCHES "(RPATH|RUNPATH)")
    string(APPEND problems "${binary} keeps an RPATH/RUNPATH\n")
  endif()
endforeach()
file(REMOVE_RECURSE ${STAGE})
if(problems)
  message(FATAL_ERROR "${problems}")
endif()
