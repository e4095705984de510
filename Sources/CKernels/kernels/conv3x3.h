// A 3 x 3 convolution (stride 1, zero padding 1) on channels-last images
// without materialising the patches ("implicit GEMM").
//
// With the image copied once into a zero-padded buffer [H + 2, W + 2, C], the
// patch row dy of output pixel x is 3C contiguous floats, and the patch rows
// of six neighbouring pixels sit C floats apart. So the GEMM micro-kernel can
// read its A operand straight from the image: three segments of 3C columns,
// accumulated in the same registers. This saves writing and reading the
// 9C-wide patch matrix (115 MB for a 28 x 28 x 32 batch of 128).

#include "microkernel.h"

/// Six output pixels starting at `a` (pixel stride C) against one packed
/// panel of B (9C rows of NR): three segments of 3C, `segmentStride` apart.
static void conv_kernel(const float *restrict a, long C, long segmentStride, const float *restrict b,
                        const float *restrict bias, float *restrict out, long ldo, long mr, long nr) {
    TILE_ACCUMULATORS;
    long kc = 3 * C;
    for (int segment = 0; segment < 3; segment++) {
        const float *a0p = a + segment * segmentStride;
        const float *a1p = a0p + C, *a2p = a0p + 2 * C, *a3p = a0p + 3 * C, *a4p = a0p + 4 * C, *a5p = a0p + 5 * C;
        for (long p = 0; p < kc; p++) {
            vf b0 = load(b), b1 = load(b + VW);
            TILE_STEP(a0p[p], a1p[p], a2p[p], a3p[p], a4p[p], a5p[p], b0, b1);
            b += NR;
        }
    }
    vf bias0 = load(bias), bias1 = load(bias + VW);
    TILE_ARRAY(acc, bias0, bias1);
    store_tile(acc, out, ldo, mr, nr, 1, 0);
}

long ck_conv3x3_padding_slack(long C) { return MR * C; }

void ck_conv3x3(const float *padded, long images, long H, long W, long C,
                const float *kernel, const float *bias, long O, float *out) {
    long K = 9 * C;
    long panels = (O + NR - 1) / NR;
    float *packed = aligned_alloc(64, ((panels * K * NR * sizeof(float) + 63) / 64) * 64);
    float *paddedBias = calloc(panels * NR, sizeof(float));
    if (bias) memcpy(paddedBias, bias, O * sizeof(float));
    for (long panel = 0; panel < panels; panel++) {
        float *dst = packed + panel * K * NR;
        for (long p = 0; p < K; p++)
            for (long j = 0; j < NR; j++) {
                long o = panel * NR + j;
                dst[p * NR + j] = o < O ? kernel[p * O + o] : 0;
            }
    }
    long rowStride = (W + 2) * C;
    for (long n = 0; n < images; n++) {
        for (long y = 0; y < H; y++) {
            const float *rowBase = padded + (n * (H + 2) + y) * rowStride;
            float *outRow = out + (n * H + y) * W * O;
            for (long x = 0; x < W; x += MR) {
                long mr = W - x < MR ? W - x : MR;
                for (long panel = 0; panel < panels; panel++) {
                    long nr = O - panel * NR < NR ? O - panel * NR : NR;
                    conv_kernel(rowBase + x * C, C, rowStride, packed + panel * K * NR, paddedBias + panel * NR,
                                outRow + x * O + panel * NR, O, mr, nr);
                }
            }
        }
    }
    free(packed);
    free(paddedBias);
}
