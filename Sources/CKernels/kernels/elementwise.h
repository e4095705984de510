// Elementwise kernels whose loops the compiler vectorises (-O3, for the
// instruction set of the isa_*.c file that includes them): exp by range
// reduction and a polynomial, and the SiLU activation with its derivative.

/// The bits of a float, and a float of given bits: integer tests of NaN and
/// infinity survive -ffast-math, which assumes floats are finite.
static inline int32_t bits_of(float x) { int32_t b; memcpy(&b, &x, sizeof b); return b; }
static inline float float_of(int32_t b) { float x; memcpy(&x, &b, sizeof x); return x; }

#define POSITIVE_INFINITY_BITS 0x7f800000
#define NEGATIVE_INFINITY_BITS ((int32_t)0xff800000)
#define QUIET_NAN_BITS 0x7fc00000

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
//
// Each output is a long chain of dependent operations (a polynomial, a
// division), and the compiler, left to itself, runs one vector per
// iteration, so that a chain mostly waits on its own latency. Four
// vectors an iteration give the floating-point units four independent
// chains: 0.75-0.8x the time for SiLU on Zen 3's AVX2, the same results.
#define INTERLEAVED _Pragma("clang loop vectorize(assume_safety) interleave_count(4)")
// A row of 32 channels is four AVX2 vectors but two AVX-512 ones: rows are
// taken CHANNEL_BLOCK channels an iteration, and what is left of a row (a
// whole row of 8 or 16 channels, say) one vector an iteration.
#if VW >= 16
#define CHANNEL_BLOCK (2 * VW)
#define CHANNELS_INTERLEAVED _Pragma("clang loop vectorize(enable) interleave_count(2)")
#else
#define CHANNEL_BLOCK (4 * VW)
#define CHANNELS_INTERLEAVED _Pragma("clang loop vectorize(enable) interleave_count(4)")
#endif
#define CHANNELS_REMAINING _Pragma("clang loop vectorize(enable) interleave_count(1)")

/// e^x with the edges of ck_exp.
static inline float exp_with_edges(float v) {
    int32_t magnitude = bits_of(v) & 0x7fffffff;
    float r = fast_exp(v);
    r = v < -87.3365447504f ? 0.0f : r;                                       // subnormal results flush to 0
    r = v > 88.7228394f ? float_of(POSITIVE_INFINITY_BITS) : r;                // overflow, +infinity
    return magnitude > POSITIVE_INFINITY_BITS ? v : r;                        // NaN stays NaN
}

void ck_exp(const float *x, float *y, long n) {
    INTERLEAVED
    for (long i = 0; i < n; i++) y[i] = exp_with_edges(x[i]);
}

/// ln x to about 1 ulp (Cephes' logf polynomial on the mantissa in
/// [sqrt(1/2), sqrt(2))), for positive normal and subnormal x.
static inline float fast_log(float x) {
    int32_t subnormal = bits_of(x) < 0x00800000;
    float scaled = subnormal ? x * 8388608.0f : x;  // 2^23
    int32_t bits = bits_of(scaled);
    float e = (float)(((bits >> 23) & 0xff) - 126) - (subnormal ? 23.0f : 0.0f);
    float m = float_of((bits & 0x007fffff) | 0x3f000000);  // in [1/2, 1)
    int32_t below = m < 0.707106781186547524f;
    e = below ? e - 1.0f : e;
    m = below ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float p = 7.0376836292e-2f;
    p = p * m - 1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m - 1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m - 1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m - 2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    p = p * m * z;
    p += -2.12194440e-4f * e;
    p += -0.5f * z;
    return m + p + 0.693359375f * e;
}

/// ln x with the edges of ck_log.
static inline float log_with_edges(float v) {
    int32_t b = bits_of(v);
    float r = fast_log(v);
    r = (b & 0x7fffffff) == 0 ? float_of(NEGATIVE_INFINITY_BITS) : r;  // log(±0) = -infinity
    r = b < 0 && (b & 0x7fffffff) != 0 ? float_of(QUIET_NAN_BITS) : r;  // negative: NaN
    return (b & 0x7fffffff) >= POSITIVE_INFINITY_BITS && b > 0 ? v : r; // +infinity and NaN stay
}

void ck_log(const float *x, float *y, long n) {
    INTERLEAVED
    for (long i = 0; i < n; i++) y[i] = log_with_edges(x[i]);
}

// Loops over rows of K classes, one row per vector lane: ROWS(K) is the
// loop, instantiated with K known to the compiler for the common class
// counts so that the loads interleave (rows are independent, so
// vectorising across them is safe), and with K = k otherwise.
#define BY_CLASS_COUNT(ROWS, k)                                                                \
    switch (k) {                                                                               \
    case 4: _Pragma("clang loop vectorize(assume_safety)") ROWS(4); return;                    \
    case 5: _Pragma("clang loop vectorize(assume_safety)") ROWS(5); return;                    \
    default: ROWS(k); return;                                                                  \
    }

#define LOG_SOFTMAX_ROWS(K)                                                                    \
    for (long r = 0; r < rows; r++) {                                                          \
        const float *row = x + r * (K);                                                        \
        float m = float_of(NEGATIVE_INFINITY_BITS);                                            \
        for (long j = 0; j < (K); j++) m = row[j] >= m ? row[j] : m;                           \
        m = (bits_of(m) & 0x7fffffff) >= POSITIVE_INFINITY_BITS ? 0.0f : m;                    \
        float total = 0;                                                                       \
        for (long j = 0; j < (K); j++) total += exp_with_edges(row[j] - m);                    \
        float logTotal = log_with_edges(total);                                                \
        for (long j = 0; j < (K); j++) y[r * (K) + j] = (row[j] - m) - logTotal;               \
    }

void ck_log_softmax_rows(const float *x, long rows, long k, float *y) { BY_CLASS_COUNT(LOG_SOFTMAX_ROWS, k) }

#define LOG_SOFTMAX_ROWS_BACKWARD(K)                                                           \
    for (long r = 0; r < rows; r++) {                                                          \
        float total = 0;                                                                       \
        for (long j = 0; j < (K); j++) total += g[r * (K) + j];                                \
        for (long j = 0; j < (K); j++)                                                         \
            dx[r * (K) + j] = g[r * (K) + j] - exp_with_edges(y[r * (K) + j]) * total;         \
    }

void ck_log_softmax_rows_backward(const float *g, const float *y, long rows, long k, float *dx) { BY_CLASS_COUNT(LOG_SOFTMAX_ROWS_BACKWARD, k) }

#define ARGMAX_ROWS(K)                                                                         \
    for (long r = 0; r < rows; r++) {                                                          \
        const float *row = x + r * (K);                                                        \
        float best = row[0];                                                                   \
        long bestIndex = 0;                                                                    \
        for (long j = 1; j < (K); j++) {                                                       \
            float v = row[j];                                                                  \
            int better = v > best || (best != best && v == v);                                 \
            best = better ? v : best;                                                          \
            bestIndex = better ? j : bestIndex;                                                \
        }                                                                                      \
        index[r] = bestIndex;                                                                  \
    }

void ck_argmax_rows(const float *x, long rows, long k, long *index) { BY_CLASS_COUNT(ARGMAX_ROWS, k) }

/// e^x for the sigmoid of the SiLU kernels: 2^z with z = x log2(e), split
/// into a whole power n and a fraction f in [-1/2, 1/2], 2^f by a
/// degree-5 polynomial (a near-minimax fit of relative error, 9e-8 on that
/// interval). Five multiply-adds where fast_exp's reduction and polynomial
/// take ten: SiLU ran 1.38x faster (GroupNorm-affine + SiLU on one 28 x 28
/// x 32 image, AVX2 on Zen 3, best of 40 rounds), the activation being
/// most of the elementwise time of a forward pass. The price is the
/// rounding of z, a relative error of about |z| 4e-8 in e^x: the SiLU is
/// within 1e-6 of its value (relative) for |x| < 20 and 4e-6 at x = -72,
/// where it is 1e-30; fast_exp kept it within 2e-7. Its derivative in
/// ck_silu_backward likewise.
static inline float sigmoid_exp(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    float z = x * 1.44269504088896341f;
    float n = floorf(z + 0.5f);
    float f = z - n;
    float p = 1.3264727e-3f;
    p = p * f + 9.6715129e-3f;
    p = p * f + 5.5507337e-2f;
    p = p * f + 2.4022242e-1f;
    p = p * f + 6.9314698e-1f;
    p = p * f + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/// x * sigmoid(x), as ck_silu computes it.
static inline float silu(float x) { return x / (1.0f + sigmoid_exp(-x)); }

void ck_silu(const float *x, float *y, long n) {
    INTERLEAVED
    for (long i = 0; i < n; i++) y[i] = silu(x[i]);
}

void ck_channel_affine_silu(const float *restrict x, long positions, long channels, const float *restrict scale,
                            const float *restrict shift, float *restrict y) {
    long blocked = channels - channels % CHANNEL_BLOCK;
    for (long p = 0; p < positions; p++) {
        const float *row = x + p * channels;
        float *out = y + p * channels;
        CHANNELS_INTERLEAVED
        for (long c = 0; c < blocked; c++) out[c] = silu(row[c] * scale[c] + shift[c]);
        CHANNELS_REMAINING
        for (long c = blocked; c < channels; c++) out[c] = silu(row[c] * scale[c] + shift[c]);
    }
}

void ck_silu_backward(const float *x, const float *g, float *dx, long n) {
    INTERLEAVED
    for (long i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + sigmoid_exp(-x[i]));
        dx[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}
