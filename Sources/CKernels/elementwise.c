// Elementwise kernels whose loops the compiler vectorises (-O3, and
// -march=native on Linux): exp by range reduction and a polynomial, and the
// SiLU activation with its derivative built on it.
#include "CKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

/// e^x to about 1 ulp for |x| < 87 (Cephes' expf polynomial), saturating outside.
static inline float fast_exp(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    // e^x = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2].
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// The loops below are elementwise: each output depends on its own index
// only, so vectorising them is safe even when an output is its input
// (in place), where the compiler's run-time overlap check would otherwise
// fall back to scalar code.
void ck_exp(const float *x, float *y, long n) {
#pragma clang loop vectorize(assume_safety)
    for (long i = 0; i < n; i++) y[i] = fast_exp(x[i]);
}

void ck_silu(const float *x, float *y, long n) {
#pragma clang loop vectorize(assume_safety)
    for (long i = 0; i < n; i++) y[i] = x[i] / (1.0f + fast_exp(-x[i]));
}

void ck_silu_backward(const float *x, const float *g, float *dx, long n) {
#pragma clang loop vectorize(assume_safety)
    for (long i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + fast_exp(-x[i]));
        dx[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}
