// Umbrella header of the C shims: one header per system area.
#include "SystemShims.h"
#include "OpenSSLShims.h"
#include "ExternalPSK.h"
