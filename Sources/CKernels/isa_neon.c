// The kernels for arm64 (NEON is baseline there): 8 floats a vector, two registers each.
#if defined(__aarch64__)
#define VW 8
#define CK_ISA(name) name##_neon
#define CK_ISA_NAME "neon"
#include "kernels/instantiate.h"
#endif
