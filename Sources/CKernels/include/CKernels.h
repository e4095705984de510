#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdbool.h>

/// Single-precision general matrix product on row-major storage:
///
///     C = alpha * op(A) * op(B) + beta * C
///
/// op(A) is M x K (A is K x M when transA), op(B) is K x N (B is N x K when
/// transB). lda, ldb and ldc are the row strides of A, B and C as stored.
/// When beta == 0, C is not read (it may hold garbage or NaN).
void ck_sgemm(bool transA, bool transB, long M, long N, long K,
              float alpha, const float *A, long lda, const float *B, long ldb,
              float beta, float *C, long ldc);

/// The floats in one vector register of the kernels (16 with AVX-512).
long ck_vector_width(void);

/// The register tile of the micro-kernel, for the benchmark's report.
long ck_sgemm_tile_rows(void);
long ck_sgemm_tile_cols(void);

/// A 3 x 3 convolution with stride 1 and zero padding 1 on channels-last images:
///
///     out[n, y, x, o] = bias[o] + sum over dy, dx, c of image[n, y + dy - 1, x + dx - 1, c] * kernel[(3 dy + dx) C + c, o]
///
/// `padded` holds the images with a one-pixel zero border, [images, H + 2, W + 2, C],
/// followed by ck_conv3x3_padding_slack(C) more floats (read, never used).
/// `bias` has O entries, or is NULL for none. `out` is [images * H * W, O].
void ck_conv3x3(const float *padded, long images, long H, long W, long C,
                const float *kernel, const float *bias, long O, float *out);
long ck_conv3x3_padding_slack(long C);

/// The same convolution by Winograd's F(outputs x outputs, 3 x 3), outputs
/// 2, 4 or 7: 2.25, 4 or 5.4 times fewer multiply-adds per whole tile. `input` is
/// the images [images, H, W, C] as they are (no padding): any H and W are
/// covered by whole tiles, and the border and the pixels past H or W read
/// as zero. `packed` is the kernel from ck_winograd_pack_kernel on the
/// active path; `out` as for ck_conv3x3. For F(4 x 4) and F(7 x 7), C and
/// O must be multiples of ck_vector_width().
void ck_winograd_convolve_packed(long outputs, const float *input, long images, long H, long W, long C,
                                 const float *packed, const float *bias, long O, float *out);

/// The floats of a kernel packed by ck_winograd_pack_kernel for F(outputs x
/// outputs, 3 x 3), outputs 2, 4 or 7, on the active kernel path.
long ck_winograd_packed_kernel_floats(long outputs, long C, long O);

/// Transforms and packs a kernel [9C, O] (rows (dy, dx, c)) for
/// ck_winograd_convolve_packed, once for any number of convolutions. The
/// layout belongs to the active kernel path: a kernel packed on one path
/// must not be used on another.
void ck_winograd_pack_kernel(long outputs, const float *kernel, long C, long O, float *packed);

/// The gradient of that convolution's kernel, [9C, O] with rows (dy, dx, c),
/// from the images (as for ck_winograd_convolve_packed) and the output
/// gradient [images, H, W, O], by the same transforms of F(outputs x
/// outputs, 3 x 3) (for F(4 x 4) and F(7 x 7), C and O multiples of
/// ck_vector_width()). F(7 x 7) has no gradient transforms: outputs 7
/// computes F(4 x 4)'s.
void ck_winograd_kernel_gradient(long outputs, const float *input, const float *gradient, long images, long H, long W,
                                 long C, long O, float *kernelGradient);

/// Per channel of channels-last data x [positions, channels]: sum[c] and
/// square[c], the sums of x and x^2 over the positions.
void ck_channel_sums(const float *x, long positions, long channels, float *sum, float *square);

/// Per channel: sumG[c] = sum of g, sumGX[c] = sum of g * x over the positions.
void ck_channel_dot_sums(const float *g, const float *x, long positions, long channels, float *sumG, float *sumGX);

/// y = x * scale[c] + shift[c] (y must not overlap x).
void ck_channel_affine(const float *x, long positions, long channels, const float *scale, const float *shift, float *y);

/// y = silu(x * scale[c] + shift[c]) in one pass: the values of
/// ck_channel_affine followed by ck_silu (y must not overlap x).
void ck_channel_affine_silu(const float *x, long positions, long channels, const float *scale, const float *shift, float *y);

/// y = a[c] * g + b[c] * x + constant[c] (y must not overlap g or x).
void ck_channel_combine(const float *g, const float *x, long positions, long channels,
                        const float *a, const float *b, const float *constant, float *y);

/// out[j] = sum over the rows of x[r, j] (x is [rows, columns]).
void ck_sum_rows(const float *x, long rows, long columns, float *out);

/// out = big + small repeated, for rows firstRow ..< firstRow + rows of big
/// and out ([*, inner]): row r adds row r / rowsPerSmall of small (a bias:
/// one row of small for all; a per-image vector: one row per image's rows).
void ck_add_repeated(const float *big, long firstRow, long rows, long inner, const float *small, long rowsPerSmall,
                     float *out);

/// The 2 x 2 blocks of a transposed convolution spread into place:
/// blocks [rows, W, 2, 2, O] (rows = images x H) give out [2 rows, 2W, O] with
/// out[2r + dy, 2x + dx, o] = blocks[r, x, dy, dx, o] + bias[o].
void ck_spread_blocks_2x2(const float *blocks, long rows, long W, long O, const float *bias, float *out);

/// The adjoint of ck_spread_blocks_2x2 without the bias: each block gathered back.
void ck_gather_blocks_2x2(const float *gradient, long rows, long W, long O, float *blocks);

/// 2 x 2 average pooling of channels-last images: x [2 rows, W, C] (rows =
/// images x H / 2, W even) gives out [rows, W / 2, C].
void ck_average_pool_2x2(const float *x, long rows, long W, long C, float *out);

/// Its adjoint: each output gradient shared equally by its four pixels.
void ck_average_pool_2x2_backward(const float *g, long rows, long W, long C, float *dx);

/// y = e^x elementwise, to about 1 ulp; 0 where it would be subnormal,
/// +infinity above the float range, NaN for NaN. y may be x.
void ck_exp(const float *x, float *y, long n);

/// y = ln x elementwise, to about 1 ulp; -infinity at ±0, NaN below 0 and
/// for NaN, +infinity at +infinity. y may be x.
void ck_log(const float *x, float *y, long n);

/// y = log softmax(x) along rows of k: y = (x - m) - ln sum e^(x - m), with
/// m the row's maximum (0 if that is infinite), e^ and ln as ck_exp and
/// ck_log. Rows are vectorised across (k = 4 and 5 in particular).
void ck_log_softmax_rows(const float *x, long rows, long k, float *y);

/// Its adjoint: dx = g - e^y * (sum of g over the row), y the log softmax.
void ck_log_softmax_rows_backward(const float *g, const float *y, long rows, long k, float *dx);

/// The index of each row's largest value, rows of k: the first of equal
/// maxima, and NaN smaller than any number (index 0 if all are NaN).
/// Rows are vectorised across (k = 4 and 5 in particular).
void ck_argmax_rows(const float *x, long rows, long k, long *index);

/// y = x * sigmoid(x) elementwise (y may be x).
void ck_silu(const float *x, float *y, long n);

/// dx = g * d silu(x) / dx elementwise (dx may be x or g).
void ck_silu_backward(const float *x, const float *g, float *dx, long n);

/// Runs `iterations` steps of twelve independent chains of vector
/// multiply-adds (24 x ck_vector_width() flops a step) and returns a value
/// that depends on all of them: `bench` times it to measure a core's peak.
float ck_multiply_add_chains(long iterations);

/// The kernel paths (instruction sets) compiled in: "avx512", "avx2",
/// "sse2" on x86-64, "neon" on arm64. ck_kernels_name() is the one in use,
/// chosen at load for this processor (or by D3PM_KERNELS);
/// ck_select_kernels(name) changes it between computations (NULL: the best
/// one) and returns -1 for an unknown or unsupported path.
int ck_select_kernels(const char *name);
const char *ck_kernels_name(void);
const char *ck_best_kernels_name(void);
long ck_kernel_path_count(void);
const char *ck_kernel_path_name(long index);
int ck_kernel_path_supported(long index);

/// Makes glibc keep freed memory for reuse (see heap.c); called by the
/// executables, safe to call from any thread, acts once.
void ck_keep_freed_memory(void);


#endif
