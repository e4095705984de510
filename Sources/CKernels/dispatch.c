// Chooses the kernels for the processor the program runs on, once, at load:
// AVX-512 where the CPU and the operating system support it, else AVX2 with
// FMA, else SSE2 (every x86-64 processor); NEON on arm64. Nothing is compiled
// for the build machine only, so a binary built anywhere runs everywhere.
//
// D3PM_KERNELS=avx512|avx2|sse2|neon forces a path before anything runs, as
// OPENBLAS_CORETYPE does for OpenBLAS (it must act before the first kernel,
// from outside the program); an unknown or unsupported value is ignored
// here and reported by the executables. ck_select_kernels() changes the path
// later, between computations.
#include "CKernels.h"
#include "kernels/table.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
extern const struct ck_kernel_table ck_kernels_avx512, ck_kernels_avx2, ck_kernels_sse2;

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/// 2: AVX-512 (F, DQ, BW, VL); 1: AVX2 and FMA; 0: SSE2. Each needs the
/// operating system to save its registers (XCR0), not only the CPU.
static int x86_level(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return 0;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    if (!avx2) return 0;
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
    return avx512 && (xcr0 & 0xe6) == 0xe6 ? 2 : 1;
}

static const struct ck_kernel_table *const all_tables[] = {&ck_kernels_avx512, &ck_kernels_avx2, &ck_kernels_sse2};

static int supported(const struct ck_kernel_table *table) {
    int level = x86_level();
    if (table == &ck_kernels_avx512) return level >= 2;
    if (table == &ck_kernels_avx2) return level >= 1;
    return 1;
}

static const struct ck_kernel_table *best(void) {
    int level = x86_level();
    return level == 2 ? &ck_kernels_avx512 : level == 1 ? &ck_kernels_avx2 : &ck_kernels_sse2;
}
#elif defined(__aarch64__)
extern const struct ck_kernel_table ck_kernels_neon;
static const struct ck_kernel_table *const all_tables[] = {&ck_kernels_neon};
static int supported(const struct ck_kernel_table *table) { (void)table; return 1; }
static const struct ck_kernel_table *best(void) { return &ck_kernels_neon; }
#else
extern const struct ck_kernel_table ck_kernels_portable;
static const struct ck_kernel_table *const all_tables[] = {&ck_kernels_portable};
static int supported(const struct ck_kernel_table *table) { (void)table; return 1; }
static const struct ck_kernel_table *best(void) { return &ck_kernels_portable; }
#endif

#define TABLE_COUNT ((long)(sizeof all_tables / sizeof all_tables[0]))

static const struct ck_kernel_table *active;

static const struct ck_kernel_table *named(const char *name) {
    for (long i = 0; i < TABLE_COUNT; i++) {
        if (strcmp(all_tables[i]->name, name) == 0) return all_tables[i];
    }
    return NULL;
}

__attribute__((constructor)) static void choose_kernels(void) {
    active = best();
    const char *forced = getenv("D3PM_KERNELS");
    const struct ck_kernel_table *table = forced ? named(forced) : NULL;
    if (table && supported(table)) active = table;
}

int ck_select_kernels(const char *name) {
    const struct ck_kernel_table *table = name ? named(name) : best();
    if (!table || !supported(table)) return -1;
    active = table;
    return 0;
}

const char *ck_kernels_name(void) { return active->name; }

const char *ck_best_kernels_name(void) { return best()->name; }

long ck_kernel_path_count(void) { return TABLE_COUNT; }

const char *ck_kernel_path_name(long index) { return index >= 0 && index < TABLE_COUNT ? all_tables[index]->name : NULL; }

int ck_kernel_path_supported(long index) { return index >= 0 && index < TABLE_COUNT && supported(all_tables[index]); }

void ck_sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc) { active->sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); }
long ck_vector_width(void) { return active->vector_width(); }
long ck_sgemm_tile_rows(void) { return active->sgemm_tile_rows(); }
long ck_sgemm_tile_cols(void) { return active->sgemm_tile_cols(); }
void ck_conv3x3(const float *padded, long images, long H, long W, long C, const float *kernel, const float *bias, long O, float *out) { active->conv3x3(padded, images, H, W, C, kernel, bias, O, out); }
long ck_conv3x3_padding_slack(long C) { return active->conv3x3_padding_slack(C); }
void ck_winograd_pack_kernel(long outputs, const float *kernel, long C, long O, float *packed) { active->winograd_pack_kernel(outputs, kernel, C, O, packed); }
void ck_winograd_convolve_packed(long outputs, const float *input, long images, long H, long W, long C, const float *packed, const float *bias, long O, float *out) { active->winograd_convolve_packed(outputs, input, images, H, W, C, packed, bias, O, out); }
long ck_winograd_packed_kernel_floats(long outputs, long C, long O) { return active->winograd_packed_kernel_floats(outputs, C, O); }
void ck_winograd_kernel_gradient(long outputs, const float *input, const float *gradient, long images, long H, long W, long C, long O, float *kernelGradient) { active->winograd_kernel_gradient(outputs, input, gradient, images, H, W, C, O, kernelGradient); }
void ck_channel_sums(const float *x, long positions, long channels, float *sum, float *square) { active->channel_sums(x, positions, channels, sum, square); }
void ck_channel_dot_sums(const float *g, const float *x, long positions, long channels, float *sumG, float *sumGX) { active->channel_dot_sums(g, x, positions, channels, sumG, sumGX); }
void ck_channel_affine(const float *x, long positions, long channels, const float *scale, const float *shift, float *y) { active->channel_affine(x, positions, channels, scale, shift, y); }
void ck_channel_affine_silu(const float *x, long positions, long channels, const float *scale, const float *shift, float *y) { active->channel_affine_silu(x, positions, channels, scale, shift, y); }
void ck_channel_combine(const float *g, const float *x, long positions, long channels, const float *a, const float *b, const float *constant, float *y) { active->channel_combine(g, x, positions, channels, a, b, constant, y); }
void ck_sum_rows(const float *x, long rows, long columns, float *out) { active->sum_rows(x, rows, columns, out); }
void ck_add_repeated(const float *big, long firstRow, long rows, long inner, const float *small, long rowsPerSmall, float *out) { active->add_repeated(big, firstRow, rows, inner, small, rowsPerSmall, out); }
void ck_spread_blocks_2x2(const float *blocks, long rows, long W, long O, const float *bias, float *out) { active->spread_blocks_2x2(blocks, rows, W, O, bias, out); }
void ck_gather_blocks_2x2(const float *gradient, long rows, long W, long O, float *blocks) { active->gather_blocks_2x2(gradient, rows, W, O, blocks); }
void ck_average_pool_2x2(const float *x, long rows, long W, long C, float *out) { active->average_pool_2x2(x, rows, W, C, out); }
void ck_average_pool_2x2_backward(const float *g, long rows, long W, long C, float *dx) { active->average_pool_2x2_backward(g, rows, W, C, dx); }
void ck_exp(const float *x, float *y, long n) { active->exp(x, y, n); }
void ck_log(const float *x, float *y, long n) { active->log(x, y, n); }
void ck_log_softmax_rows(const float *x, long rows, long k, float *y) { active->log_softmax_rows(x, rows, k, y); }
void ck_log_softmax_rows_backward(const float *g, const float *y, long rows, long k, float *dx) { active->log_softmax_rows_backward(g, y, rows, k, dx); }
void ck_argmax_rows(const float *x, long rows, long k, long *index) { active->argmax_rows(x, rows, k, index); }
void ck_silu(const float *x, float *y, long n) { active->silu(x, y, n); }
void ck_silu_backward(const float *x, const float *g, float *dx, long n) { active->silu_backward(x, g, dx, n); }
float ck_multiply_add_chains(long iterations) { return active->multiply_add_chains(iterations); }
