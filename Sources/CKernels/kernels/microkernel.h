// The register tile shared by the matrix-product and convolution kernels:
// clang's ext_vector_type vectors, so that one source compiles to AVX-512,
// AVX2, SSE2 or NEON. The including translation unit (isa_*.c) defines VW,
// the floats in one vector, and the instruction set of its functions.
#ifndef CKERNELS_MICROKERNEL_H
#define CKERNELS_MICROKERNEL_H

#include <string.h>

#ifndef VW
#error "microkernel.h: define VW, the floats in one vector, before including the kernels"
#endif

/// The tile: MR rows of C by NR columns, held in 2 * MR vector registers.
#define MR 6
#define NR (2 * VW)

typedef float vf __attribute__((ext_vector_type(VW), aligned(4)));

static inline vf load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store(float *p, vf v) { memcpy(p, &v, sizeof v); }

/// The register tile's accumulators: cIJ holds row I, vector J; zeroed.
#define TILE_ACCUMULATORS                                         \
    vf c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0;      \
    vf c30 = 0, c31 = 0, c40 = 0, c41 = 0, c50 = 0, c51 = 0

/// One step of the tile: the values of its six rows of A (broadcast) times
/// the two vectors b0 and b1 of B, added to the accumulators.
#define TILE_STEP(r0, r1, r2, r3, r4, r5, b0, b1)                 \
    do {                                                          \
        vf a0 = (r0), a1 = (r1), a2 = (r2);                       \
        c00 += a0 * (b0); c01 += a0 * (b1);                       \
        c10 += a1 * (b0); c11 += a1 * (b1);                       \
        c20 += a2 * (b0); c21 += a2 * (b1);                       \
        vf a3 = (r3), a4 = (r4), a5 = (r5);                       \
        c30 += a3 * (b0); c31 += a3 * (b1);                       \
        c40 += a4 * (b0); c41 += a4 * (b1);                       \
        c50 += a5 * (b0); c51 += a5 * (b1);                       \
    } while (0)

/// The accumulators as the array store_tile takes, plus a bias vector pair.
#define TILE_ARRAY(name, bias0, bias1)                                                      \
    vf name[MR][2] = {{c00 + (bias0), c01 + (bias1)}, {c10 + (bias0), c11 + (bias1)},       \
                      {c20 + (bias0), c21 + (bias1)}, {c30 + (bias0), c31 + (bias1)},       \
                      {c40 + (bias0), c41 + (bias1)}, {c50 + (bias0), c51 + (bias1)}}

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
