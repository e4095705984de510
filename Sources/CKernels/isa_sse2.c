// The kernels for baseline x86-64 (SSE2): 4 floats a vector. Runs on every x86-64 machine.
#if defined(__x86_64__)
#define VW 4
#define CK_ISA(name) name##_sse2
#define CK_ISA_NAME "sse2"
#include "kernels/instantiate.h"
#endif
