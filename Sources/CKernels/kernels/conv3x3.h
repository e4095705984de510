// A 3 x 3 convolution (stride 1, zero padding 1) on channels-last images
// without materialising the patches ("implicit GEMM").
//
// With the image copied once into a zero-padded buffer [H + 2, W + 2, C], the
// patch row dy of an output pixel is 3C contiguous floats. So the GEMM
// micro-kernel can read its A operand straight from the image, one pointer
// per pixel of its tile: three segments of 3C columns, accumulated in the
// same registers. This saves writing and reading the
// 9C-wide patch matrix (115 MB for a 28 x 28 x 32 batch of 128).

#include "microkernel.h"

/// Six output pixels, whose top-left patch values start at `pixels[i]`
/// (patch row dy is `dy * segmentStride` further), against one packed panel
/// of B (9C rows of NR): three segments of 3C accumulated in one tile.
static void conv_kernel(const float *const pixels[MR], long C, long segmentStride, const float *restrict b,
                        const float *restrict bias, float *restrict out, long ldo, long mr, long nr) {
    TILE_ACCUMULATORS;
    long kc = 3 * C;
    for (int segment = 0; segment < 3; segment++) {
        long offset = segment * segmentStride;
        const float *restrict a0p = pixels[0] + offset, *restrict a1p = pixels[1] + offset;
        const float *restrict a2p = pixels[2] + offset, *restrict a3p = pixels[3] + offset;
        const float *restrict a4p = pixels[4] + offset, *restrict a5p = pixels[5] + offset;
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
    // The tile's six pixels run on across rows and images (the output is
    // [pixels, O] either way), so that a 7 x 7 image takes 9 tiles, not 14.
    long rowStride = (W + 2) * C, area = H * W, total = images * area;
    for (long q = 0; q < total; q += MR) {
        long mr = total - q < MR ? total - q : MR;
        const float *pixels[MR];
        for (long i = 0; i < MR; i++) {
            long pixel = q + (i < mr ? i : mr - 1), n = pixel / area, y = pixel % area / W, x = pixel % W;
            pixels[i] = padded + ((n * (H + 2) + y) * (W + 2) + x) * C;
        }
        for (long panel = 0; panel < panels; panel++) {
            long nr = O - panel * NR < NR ? O - panel * NR : NR;
            conv_kernel(pixels, C, rowStride, packed + panel * K * NR, paddedBias + panel * NR,
                        out + q * O + panel * NR, O, mr, nr);
        }
    }
    free(packed);
    free(paddedBias);
}
