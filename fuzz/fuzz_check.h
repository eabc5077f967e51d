// What every fuzz target shares: FUZZ_CHECK, an invariant that aborts (a crash libFuzzer
// records, with the input) when it does not hold. A target checks what must be true of the
// code under test, not only that it did not crash.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                  \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant does not hold: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
