// Builds XenStore contents from fuzz input: paths and values are drawn mostly from the
// vsnd vocabulary (so the input reaches deep into the configuration) and sometimes are any
// bytes (so nothing is assumed about what a toolstack or a backend writes).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <string>

namespace xensnd::fuzz {

inline std::string pick(FuzzedDataProvider& in, std::initializer_list<const char*> words) {
  size_t i = in.ConsumeIntegralInRange<size_t>(0, words.size());
  if (i == words.size()) return in.ConsumeRandomLengthString(24);  // anything
  return *(words.begin() + i);
}

// An index as a XenStore directory name: mostly small numbers.
inline std::string index_name(FuzzedDataProvider& in) {
  return pick(in, {"0", "0", "1", "1", "2", "3", "255", "256", "00", "-1", "1 "});
}

// A path below `device` (e.g. "device/vsnd/0"): the card, a PCM device or a stream level.
inline std::string config_node(FuzzedDataProvider& in, const std::string& device) {
  std::string path = device;
  int depth = in.ConsumeIntegralInRange<int>(0, 2);
  for (int level = 0; level < depth; ++level) path += "/" + index_name(in);
  return path + "/" +
         pick(in, {"short-name", "long-name", "sample-rates", "sample-formats", "channels-min", "channels-max",
                   "buffer-size", "name", "type", "unique-id", "state", "backend", "backend-id"});
}

inline std::string config_value(FuzzedDataProvider& in) {
  return pick(in, {"44100,48000", "48000", "8000,44100,48000,96000", "0", "1", "2", "8", "255", "256", "65536",
                   "4096", "-1", "4294967296", "18446744073709551616", "", " 2", "2 ", "0x10", "010", "+2",
                   "s16_le", "s16_le,s32_le", "s24_le,u8,float", "mu_law,ima_adpcm", "mpeg", "gsm",
                   "s16_le,,s32_le", "p", "c", "x", "alsa<default>", "pulse<x>", "48000,44100", "44100,44100",
                   "0,48000"});
}

}  // namespace xensnd::fuzz
