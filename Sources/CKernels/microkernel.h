// The register tile shared by the matrix-product and convolution kernels:
// clang/GCC vector extensions, so that one source compiles to AVX-512, AVX2
// or NEON (with -O3, and -march=native on Linux).
#ifndef CKERNELS_MICROKERNEL_H
#define CKERNELS_MICROKERNEL_H

#include <string.h>

#if defined(__AVX512F__)
#define VW 16
#elif defined(__AVX__) || defined(__ARM_NEON)
#define VW 8
#else
#define VW 4
#endif

/// The tile: MR rows of C by NR columns, held in 2 * MR vector registers.
#define MR 6
#define NR (2 * VW)

typedef float vf __attribute__((ext_vector_type(VW), aligned(4)));

static inline vf load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vf v) { memcpy(p, &v, sizeof v); }

/// Writes the mr x nr corner of an accumulated register tile into C:
/// C = alpha * acc + beta * C (C is not read when beta == 0).
static inline void store_tile(vf acc[MR][2], float *restrict C, long ldc, long mr, long nr, float alpha, float beta) {
    if (mr == MR && nr == NR) {
        for (long i = 0; i < MR; i++) {
            float *row = C + i * ldc;
            vf r0 = alpha * acc[i][0], r1 = alpha * acc[i][1];
            if (beta != 0) { r0 += beta * load(row); r1 += beta * load(row + VW); }
            store(row, r0);
            store(row + VW, r1);
        }
        return;
    }
    float tile[MR * NR];
    for (long i = 0; i < MR; i++) { store(tile + i * NR, acc[i][0]); store(tile + i * NR + VW, acc[i][1]); }
    for (long i = 0; i < mr; i++) {
        float *row = C + i * ldc;
        for (long j = 0; j < nr; j++) {
            float v = alpha * tile[i * NR + j];
            row[j] = beta != 0 ? v + beta * row[j] : v;
        }
    }
}

#endif
