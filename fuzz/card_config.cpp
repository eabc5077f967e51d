// The vsnd card configuration as a toolstack (or anyone with write access to the guest's
// XenStore) may have written it: a fuzzed tree below device/vsnd, read with
// read_card_config(), list_vsnd_devices() and find_vsnd_device_with_stream().
//
// Checked: bad input is a ConfigError (a FrontendError) naming the XenStore path, never
// another exception; a configuration that is accepted is usable: PCM devices and streams
// numbered 0..N-1 with paths below the card, a known stream type, 1 <= channels-min <=
// channels-max <= 255, rates positive, sorted and unique, at least one format and only
// fixed-size ones, a non-zero buffer; the devices listed are sorted and unique.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

#include "fuzz/fuzz_check.h"
#include "fuzz/store_script.h"
#include "protocol/card_config.h"
#include "protocol/errors.h"
#include "protocol/pcm_format.h"
#include "protocol/vsnd_devices.h"
#include "tests/unit/fakes/fake_xenstore.h"

namespace {

void check_config(const xensnd::CardConfig& card, const std::string& device) {
  FUZZ_CHECK(!card.pcm_devices.empty());
  size_t streams = 0;
  for (size_t p = 0; p < card.pcm_devices.size(); ++p) {
    const xensnd::PcmDeviceConfig& pcm = card.pcm_devices[p];
    FUZZ_CHECK(pcm.index == p);
    FUZZ_CHECK(!pcm.streams.empty());
    for (size_t s = 0; s < pcm.streams.size(); ++s) {
      const xensnd::StreamConfig& stream = pcm.streams[s];
      FUZZ_CHECK(stream.pcm_index == p && stream.stream_index == s);
      FUZZ_CHECK(stream.xenstore_path.find(device) != std::string::npos);
      FUZZ_CHECK(stream.type == xensnd::StreamType::kPlayback || stream.type == xensnd::StreamType::kCapture);
      const xensnd::StreamLimits& l = stream.limits;
      FUZZ_CHECK(l.channels_min >= 1 && l.channels_min <= l.channels_max && l.channels_max <= 255);
      FUZZ_CHECK(!l.rates.empty());
      FUZZ_CHECK(std::is_sorted(l.rates.begin(), l.rates.end()));
      FUZZ_CHECK(std::adjacent_find(l.rates.begin(), l.rates.end()) == l.rates.end());
      FUZZ_CHECK(l.rates.front() > 0);
      FUZZ_CHECK(l.formats != 0 && (l.formats & ~xensnd::sndif_fixed_size_formats_mask()) == 0);
      FUZZ_CHECK(l.buffer_bytes > 0);
      ++streams;
    }
  }
  FUZZ_CHECK(card.streams().size() == streams);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  xensnd::testing::FakeXenStore store(1);
  // Mostly a plausible card to start from, so that single changes matter.
  if (in.ConsumeBool()) {
    store.write("device/vsnd/0/0/0/type", "p");
    store.write("device/vsnd/0/0/1/type", "c");
  }
  while (in.remaining_bytes() > 0) {
    std::string device = "device/vsnd/" + xensnd::fuzz::index_name(in);
    std::string path = xensnd::fuzz::config_node(in, device);
    if (in.ConsumeIntegralInRange<int>(0, 9) == 0) store.remove(path.substr(0, path.rfind('/')));
    else store.write(path, xensnd::fuzz::config_value(in));
  }

  std::vector<unsigned> devices = xensnd::list_vsnd_devices(store);
  FUZZ_CHECK(std::is_sorted(devices.begin(), devices.end()));
  FUZZ_CHECK(std::adjacent_find(devices.begin(), devices.end()) == devices.end());
  for (unsigned id : devices) {
    std::string device = "device/vsnd/" + std::to_string(id);
    try {
      check_config(xensnd::read_card_config(store, device), device);
    } catch (const xensnd::ConfigError& e) {
      FUZZ_CHECK(std::string(e.what()).find("device/vsnd/") != std::string::npos);
    }
  }
  try {
    std::optional<unsigned> found = xensnd::find_vsnd_device_with_stream(store, "alsa<default>");
    if (found) FUZZ_CHECK(std::find(devices.begin(), devices.end(), *found) != devices.end());
  } catch (const xensnd::FrontendError&) {
  }
  return 0;
}
