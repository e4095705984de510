// Every kernel, compiled once per instruction set by the isa_*.c files.
#include "sgemm.h"
#include "conv3x3.h"
#include "winograd3x3.h"
#include "channels.h"
#include "elementwise.h"
#include "peak.h"
