// A vsnd card as xl.cfg describes it, and the frontend entries libxl writes for it.
//
// Accepted syntax (one card):
//   xl.cfg:   vsnd=[['CARD, short-name=X, sample-rates=8000;44100', 'PCM, name=Main',
//                    'STREAM, unique-id=alsa<default>, type=P']]   ("vsnd=" optional)
//   compact:  CARD, short-name=X | PCM, name=Main | STREAM, unique-id=alsa<default>, type=P
// Items and parameters follow xl's parse_vsnd_item(): CARD takes backend, short-name,
// long-name; PCM takes name; STREAM takes unique-id and type (P or C); each level also takes
// sample-rates and sample-formats (';'-separated), channels-min, channels-max, buffer-size.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace simxen::toolstack {

struct VsndParams {
  std::vector<unsigned> sample_rates;
  std::vector<std::string> sample_formats;  // as libxl writes them: "s16_le", ...
  unsigned channels_min = 0, channels_max = 0, buffer_size = 0;  // 0: not given
};

struct VsndStream {
  std::string unique_id;
  std::string type;  // "p" or "c"
  VsndParams params;
};

struct VsndPcm {
  std::string name;
  VsndParams params;
  std::vector<VsndStream> streams;
};

struct VsndCard {
  std::optional<std::string> backend;  // domain name or id from "backend="
  std::string short_name, long_name;
  VsndParams params;
  std::vector<VsndPcm> pcms;
};

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws ConfigError with a message naming what is wrong.
VsndCard parse_vsnd_config(const std::string& text);

// The frontend entries (path relative to device/vsnd/<devid>, value) libxl's
// libxl__set_xenstore_vsnd() produces, in its order. Note that libxl joins lists with ','.
std::vector<std::pair<std::string, std::string>> vsnd_frontend_entries(const VsndCard& card);

}  // namespace simxen::toolstack
