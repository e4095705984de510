// The kernels for x86-64 with AVX-512 (F, DQ, BW, VL): 16 floats a vector.
#if defined(__x86_64__)
#define VW 16
#define CK_ISA(name) name##_avx512
#define CK_ISA_NAME "avx512"
#define CK_TARGET "avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"
#include "kernels/instantiate.h"
#endif
