// The kernels for any other processor: 4 floats a vector, as the compiler can.
#if !defined(__x86_64__) && !defined(__aarch64__)
#define VW 4
#define CK_ISA(name) name##_portable
#define CK_ISA_NAME "portable"
#include "kernels/instantiate.h"
#endif
