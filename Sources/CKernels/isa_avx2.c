// The kernels for x86-64 with AVX2 and FMA: 8 floats a vector.
#if defined(__x86_64__)
#define VW 8
#define CK_ISA(name) name##_avx2
#define CK_ISA_NAME "avx2"
#define CK_TARGET "avx2,fma"
#include "kernels/instantiate.h"
#endif
