// AddressSanitizer's defaults for every target (ASAN_OPTIONS, as scripts/fuzz.sh sets it,
// still overrides any of them).
//
// max_uar_stack_size_log=16: stack-use-after-return detection stays on, with a fake stack
// of 64 KiB per frame-size class (1024 frames of up to 64 bytes ... one of 64 KiB) instead
// of the default 1 MiB (16384 ... 16), which is still far deeper than any call chain in
// these targets (a frame that does not fit falls back to the real stack). Why: every C++
// throw makes ASan garbage-collect the whole fake stack at the next call, and the targets
// throw all the time (BackendGoneError, ConfigError, FrontendError are what they check):
// with the default size that scan was 57% of request_ring's time.
extern "C" const char* __asan_default_options() { return "max_uar_stack_size_log=16"; }
