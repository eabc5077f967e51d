#include "backend_fixture.h"
