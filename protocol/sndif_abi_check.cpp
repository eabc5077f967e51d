// Compiled on its own (also with -m32) so sndif_abi.h's static_asserts run even when no
// other source of a configuration happens to include it.
#include "protocol/sndif_abi.h"
