// Per-channel loops over channels-last data [positions, channels], for the
// fused group normalisation: sums, dot products and affine maps, with the
// channel loop innermost so that it vectorises.

#include "microkernel.h"

/// The sums for `V` vectors of channels (channels == V * VW), held in registers.
#define CHANNEL_SUMS_IN_REGISTERS(V)                                              \
    do {                                                                          \
        vf s[V] = {0}, q[V] = {0};                                                \
        for (long p = 0; p < positions; p++)                                      \
            for (int v = 0; v < V; v++) {                                         \
                vf value = load(x + p * channels + v * VW);                       \
                s[v] += value;                                                    \
                q[v] += value * value;                                            \
            }                                                                     \
        for (int v = 0; v < V; v++) { store(sum + v * VW, s[v]); store(square + v * VW, q[v]); } \
    } while (0)

void ck_channel_sums(const float *restrict x, long positions, long channels, float *restrict sum, float *restrict square) {
    // The common widths keep their sums in registers rather than in memory.
    switch (channels) {
    case VW: CHANNEL_SUMS_IN_REGISTERS(1); return;
    case 2 * VW: CHANNEL_SUMS_IN_REGISTERS(2); return;
    case 4 * VW: CHANNEL_SUMS_IN_REGISTERS(4); return;
    case 8 * VW: CHANNEL_SUMS_IN_REGISTERS(8); return;
    }
    for (long c = 0; c < channels; c++) sum[c] = square[c] = 0;
    for (long p = 0; p < positions; p++) {
        const float *row = x + p * channels;
        for (long c = 0; c < channels; c++) {
            sum[c] += row[c];
            square[c] += row[c] * row[c];
        }
    }
}

void ck_channel_dot_sums(const float *restrict g, const float *restrict x, long positions, long channels,
                         float *restrict sumG, float *restrict sumGX) {
    for (long c = 0; c < channels; c++) sumG[c] = sumGX[c] = 0;
    for (long p = 0; p < positions; p++) {
        const float *gRow = g + p * channels, *xRow = x + p * channels;
        for (long c = 0; c < channels; c++) {
            sumG[c] += gRow[c];
            sumGX[c] += gRow[c] * xRow[c];
        }
    }
}

void ck_channel_affine(const float *restrict x, long positions, long channels, const float *restrict scale,
                       const float *restrict shift, float *restrict y) {
    for (long p = 0; p < positions; p++) {
        const float *row = x + p * channels;
        float *out = y + p * channels;
        for (long c = 0; c < channels; c++) out[c] = row[c] * scale[c] + shift[c];
    }
}

void ck_channel_combine(const float *restrict g, const float *restrict x, long positions, long channels,
                        const float *restrict a, const float *restrict b, const float *restrict constant, float *restrict y) {
    for (long p = 0; p < positions; p++) {
        const float *gRow = g + p * channels, *xRow = x + p * channels;
        float *out = y + p * channels;
        for (long c = 0; c < channels; c++) out[c] = a[c] * gRow[c] + b[c] * xRow[c] + constant[c];
    }
}

void ck_sum_rows(const float *restrict x, long rows, long columns, float *restrict out) {
    for (long j = 0; j < columns; j++) out[j] = 0;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * columns;
        for (long j = 0; j < columns; j++) out[j] += row[j];
    }
}

void ck_add_repeated(const float *restrict big, long firstRow, long rows, long inner, const float *restrict small,
                     long rowsPerSmall, float *restrict out) {
    for (long r = firstRow; r < firstRow + rows; r++) {
        const float *s = small + (r / rowsPerSmall) * inner, *b = big + r * inner;
        float *o = out + r * inner;
        for (long i = 0; i < inner; i++) o[i] = b[i] + s[i];
    }
}

void ck_spread_blocks_2x2(const float *restrict blocks, long rows, long W, long O, const float *restrict bias,
                          float *restrict out) {
    for (long r = 0; r < rows; r++)
        for (long dy = 0; dy < 2; dy++) {
            float *line = out + (2 * r + dy) * 2 * W * O;
            for (long x = 0; x < W; x++) {
                const float *block = blocks + ((r * W + x) * 4 + 2 * dy) * O;
                float *pixels = line + 2 * x * O;
                for (long o = 0; o < O; o++) pixels[o] = block[o] + bias[o];
                for (long o = 0; o < O; o++) pixels[O + o] = block[O + o] + bias[o];
            }
        }
}

void ck_gather_blocks_2x2(const float *restrict gradient, long rows, long W, long O, float *restrict blocks) {
    for (long r = 0; r < rows; r++)
        for (long dy = 0; dy < 2; dy++) {
            const float *line = gradient + (2 * r + dy) * 2 * W * O;
            for (long x = 0; x < W; x++) memcpy(blocks + ((r * W + x) * 4 + 2 * dy) * O, line + 2 * x * O, 2 * O * sizeof(float));
        }
}

void ck_average_pool_2x2(const float *restrict x, long rows, long W, long C, float *restrict out) {
    for (long r = 0; r < rows; r++) {
        const float *top = x + 2 * r * W * C, *bottom = top + W * C;
        float *line = out + r * (W / 2) * C;
        for (long p = 0; p < W / 2; p++)
            for (long c = 0; c < C; c++)
                line[p * C + c] = 0.25f * (top[2 * p * C + c] + top[(2 * p + 1) * C + c] + bottom[2 * p * C + c] + bottom[(2 * p + 1) * C + c]);
    }
}

void ck_average_pool_2x2_backward(const float *restrict g, long rows, long W, long C, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        float *top = dx + 2 * r * W * C, *bottom = top + W * C;
        const float *line = g + r * (W / 2) * C;
        for (long p = 0; p < W / 2; p++)
            for (long c = 0; c < C; c++) {
                float share = 0.25f * line[p * C + c];
                top[2 * p * C + c] = share;
                top[(2 * p + 1) * C + c] = share;
                bottom[2 * p * C + c] = share;
                bottom[(2 * p + 1) * C + c] = share;
            }
    }
}
