// A packed, cache-blocked single-precision matrix product.
//
// Design (after Goto and van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", 2008): B is packed into KC x NR column panels that stay in
// L2, A into MR x KC row panels that stay in L1, and an MR x NR register tile
// of C accumulates in vector registers. Packing also absorbs the transposes,
// so one micro-kernel serves all four cases.
//
// The vectors are clang's ext_vector_type, so the same source compiles to
// AVX-512, AVX2, SSE2 or NEON (one isa_*.c file each, with -O3 and
// -ffp-contract=fast, which turns the multiply-adds into FMA instructions
// where the instruction set has them).

#include "microkernel.h"

#define KC 512
#define MC 96   /* a multiple of MR */
#define NC 2048 /* a multiple of NR */


long ck_vector_width(void) { return VW; }
long ck_sgemm_tile_rows(void) { return MR; }
long ck_sgemm_tile_cols(void) { return NR; }

/// Packs the mc x kc block of op(A) starting at (i0, p0) into MR-row panels,
/// zero-padding the last panel.
static void pack_a(bool transA, const float *A, long lda, long i0, long p0,
                   long mc, long kc, float *dst) {
    for (long ir = 0; ir < mc; ir += MR) {
        long mr = mc - ir < MR ? mc - ir : MR;
        for (long p = 0; p < kc; p++) {
            for (long i = 0; i < MR; i++) {
                float v = 0;
                if (i < mr) {
                    long row = i0 + ir + i, col = p0 + p;
                    v = transA ? A[col * lda + row] : A[row * lda + col];
                }
                *dst++ = v;
            }
        }
    }
}

/// Packs the kc x nc block of op(B) starting at (p0, j0) into NR-column
/// panels, zero-padding the last panel.
static void pack_b(bool transB, const float *B, long ldb, long p0, long j0,
                   long kc, long nc, float *dst) {
    for (long jr = 0; jr < nc; jr += NR) {
        long nr = nc - jr < NR ? nc - jr : NR;
        for (long p = 0; p < kc; p++) {
            long row = p0 + p;
            if (!transB && nr == NR) {
                memcpy(dst, B + row * ldb + j0 + jr, NR * sizeof(float));
                dst += NR;
                continue;
            }
            for (long j = 0; j < NR; j++) {
                float v = 0;
                if (j < nr) {
                    long col = j0 + jr + j;
                    v = transB ? B[col * ldb + row] : B[row * ldb + col];
                }
                *dst++ = v;
            }
        }
    }
}

/// C[0..mr, 0..nr] = alpha * (a-panel . b-panel) + beta * C.
static void micro_kernel(long kc, const float *restrict a, const float *restrict b,
                         float *restrict C, long ldc, long mr, long nr,
                         float alpha, float beta) {
    TILE_ACCUMULATORS;
    for (long p = 0; p < kc; p++) {
        vf b0 = load(b), b1 = load(b + VW);
        TILE_STEP(a[0], a[1], a[2], a[3], a[4], a[5], b0, b1);
        a += MR;
        b += NR;
    }
    TILE_ARRAY(acc, 0, 0);
    store_tile(acc, C, ldc, mr, nr, alpha, beta);
}

/// The same product as micro_kernel, reading an unpacked A: element (i, p)
/// of the MR x kc block is a[i * rs + p * cs]. Used when each row of A meets
/// only one or two panels of B, where packing A would cost more than it saves.
static void micro_kernel_direct(long kc, const float *restrict a, long rs, long cs, const float *restrict b,
                                float *restrict C, long ldc, long nr, float alpha, float beta) {
    TILE_ACCUMULATORS;
    const float *a0p = a, *a1p = a + rs, *a2p = a + 2 * rs, *a3p = a + 3 * rs, *a4p = a + 4 * rs, *a5p = a + 5 * rs;
    for (long p = 0; p < kc; p++) {
        long o = p * cs;
        vf b0 = load(b), b1 = load(b + VW);
        TILE_STEP(a0p[o], a1p[o], a2p[o], a3p[o], a4p[o], a5p[o], b0, b1);
        b += NR;
    }
    TILE_ARRAY(acc, 0, 0);
    store_tile(acc, C, ldc, MR, nr, alpha, beta);
}

static void scale_c(long M, long N, float beta, float *C, long ldc) {
    for (long i = 0; i < M; i++) {
        float *row = C + i * ldc;
        if (beta == 0) memset(row, 0, N * sizeof(float));
        else for (long j = 0; j < N; j++) row[j] *= beta;
    }
}

/// Plain loops for products too small to repay packing (the per-image
/// 4 x 4 transition products of the posterior, for example).
static void small_sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float *A, long lda,
                        const float *B, long ldb, float beta, float *C, long ldc) {
    for (long i = 0; i < M; i++) {
        float *row = C + i * ldc;
        for (long j = 0; j < N; j++) row[j] = beta != 0 ? beta * row[j] : 0;
        for (long p = 0; p < K; p++) {
            float a = alpha * (transA ? A[p * lda + i] : A[i * lda + p]);
            if (transB) { for (long j = 0; j < N; j++) row[j] += a * B[j * ldb + p]; }
            else { const float *b = B + p * ldb; for (long j = 0; j < N; j++) row[j] += a * b[j]; }
        }
    }
}

/// C = alpha A op(B) + beta C for C at most one vector wide (N <= VW): the
/// 1 x 1 convolution to K gray levels, say. The register tile would waste
/// most of its columns there; here each row of C is one vector, four rows
/// at a time.
static void narrow_sgemm(bool transB, long M, long N, long K, float alpha, const float *A, long lda,
                         const float *B, long ldb, float beta, float *C, long ldc) {
    float *packed = aligned_alloc(64, ((K * VW * sizeof(float) + 63) / 64) * 64);
    for (long p = 0; p < K; p++)
        for (long j = 0; j < VW; j++) packed[p * VW + j] = j < N ? (transB ? B[j * ldb + p] : B[p * ldb + j]) : 0;
    float rows[4][VW];
    for (long i = 0; i < M; i += 4) {
        long mr = M - i < 4 ? M - i : 4;
        const float *a0 = A + i * lda, *a1 = a0 + (mr > 1) * lda, *a2 = a0 + (mr > 2) * 2 * lda, *a3 = a0 + (mr > 3) * 3 * lda;
        vf c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        for (long p = 0; p < K; p++) {
            vf b = load(packed + p * VW);
            c0 += a0[p] * b; c1 += a1[p] * b; c2 += a2[p] * b; c3 += a3[p] * b;
        }
        store(rows[0], c0); store(rows[1], c1); store(rows[2], c2); store(rows[3], c3);
        for (long r = 0; r < mr; r++) {
            float *row = C + (i + r) * ldc;
            for (long j = 0; j < N; j++) row[j] = beta != 0 ? alpha * rows[r][j] + beta * row[j] : alpha * rows[r][j];
        }
    }
    free(packed);
}

/// C = alpha A^T op(B) + beta C for few columns (N <= 8): the weight
/// gradient of a 1 x 1 convolution to K gray levels (A = the pixels'
/// features [K x M], B = their gradients [K x N]). The register tile would
/// waste most of its columns; here C is summed transposed, N rows of two
/// vectors of M, from one row of A and N broadcasts of B per step.
static void narrow_transposed_sgemm(bool transB, long M, long N, long K, float alpha, const float *A, long lda,
                                    const float *B, long ldb, float beta, float *C, long ldc) {
    for (long i0 = 0; i0 < M; i0 += 2 * VW) {
        long width = M - i0 < 2 * VW ? M - i0 : 2 * VW;
        vf acc[8][2];
        for (long j = 0; j < 8; j++) { acc[j][0] = 0; acc[j][1] = 0; }
        for (long p = 0; p < K; p++) {
            const float *row = A + p * lda + i0;
            vf a0, a1;
            if (width == 2 * VW) {
                a0 = load(row);
                a1 = load(row + VW);
            } else {
                float part[2 * VW] = {0};
                memcpy(part, row, width * sizeof(float));
                a0 = load(part);
                a1 = load(part + VW);
            }
            for (long j = 0; j < N; j++) {
                float b = transB ? B[j * ldb + p] : B[p * ldb + j];
                acc[j][0] += a0 * b;
                acc[j][1] += a1 * b;
            }
        }
        for (long j = 0; j < N; j++) {
            float column[2 * VW];
            store(column, acc[j][0]);
            store(column + VW, acc[j][1]);
            for (long i = 0; i < width; i++) {
                float *c = C + (i0 + i) * ldc + j;
                *c = beta != 0 ? alpha * column[i] + beta * *c : alpha * column[i];
            }
        }
    }
}

void ck_sgemm(bool transA, bool transB, long M, long N, long K,
              float alpha, const float *A, long lda, const float *B, long ldb,
              float beta, float *C, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0) { scale_c(M, N, beta, C, ldc); return; }
    if (!transA && N <= VW && M >= 16) {
        narrow_sgemm(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (transA && N <= 8 && K >= 64) {
        narrow_transposed_sgemm(transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // Tall products with a short reduction (the input gradient of a 1 x 1
    // convolution from K gray levels: M = pixels, K = 4) still repay the
    // register tile: the loops below would not vectorise their strided B.
    if ((N * K <= 256 && M < 256) || M * N * K <= 4096) {
        small_sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }

    long ncMax = N < NC ? ((N + NR - 1) / NR) * NR : NC;
    long mcMax = M < MC ? ((M + MR - 1) / MR) * MR : MC;
    float *bPack = aligned_alloc(64, ((KC * ncMax * sizeof(float) + 63) / 64) * 64);
    float *aPack = aligned_alloc(64, ((KC * mcMax * sizeof(float) + 63) / 64) * 64);

    for (long j0 = 0; j0 < N; j0 += NC) {
        long nc = N - j0 < NC ? N - j0 : NC;
        for (long p0 = 0; p0 < K; p0 += KC) {
            long kc = K - p0 < KC ? K - p0 : KC;
            float betaBlock = p0 == 0 ? beta : 1.0f;
            pack_b(transB, B, ldb, p0, j0, kc, nc, bPack);
            long fullRows = 0;
            if (nc <= 2 * NR || (!transA && kc * nc <= 32768)) {
                // Narrow C, or a packed B small enough to stay in L2 while
                // each block of A meets all of it: read A in place for all
                // whole MR-row blocks.
                long rs = transA ? 1 : lda, cs = transA ? lda : 1;
                fullRows = (M / MR) * MR;
                for (long ir = 0; ir < fullRows; ir += MR) {
                    const float *aBlock = A + ir * rs + p0 * cs;
                    for (long jr = 0; jr < nc; jr += NR) {
                        long nr = nc - jr < NR ? nc - jr : NR;
                        micro_kernel_direct(kc, aBlock, rs, cs, bPack + jr * kc, C + ir * ldc + j0 + jr, ldc, nr, alpha, betaBlock);
                    }
                }
            }
            for (long i0 = fullRows; i0 < M; i0 += MC) {
                long mc = M - i0 < MC ? M - i0 : MC;
                pack_a(transA, A, lda, i0, p0, mc, kc, aPack);
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        long mr = mc - ir < MR ? mc - ir : MR;
                        micro_kernel(kc, aPack + ir * kc, bPack + jr * kc,
                                     C + (i0 + ir) * ldc + j0 + jr, ldc, mr, nr,
                                     alpha, betaBlock);
                    }
                }
            }
        }
    }
    free(aPack);
    free(bPack);
}
