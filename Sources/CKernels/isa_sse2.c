// The kernels for baseline x86-64 (SSE2): 4 floats a vector. Runs on every x86-64 machine.
#if defined(__x86_64__)
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VW 4
#define CK_ISA(name) name##_sse2
#include "kernels/rename.h"
#include "CKernels.h"

#include "kernels/all.h"

#include "kernels/table.h"

const struct ck_kernel_table ck_kernels_sse2 = {
    .name = "sse2",
    .sgemm = ck_sgemm,
    .vector_width = ck_vector_width,
    .sgemm_tile_rows = ck_sgemm_tile_rows,
    .sgemm_tile_cols = ck_sgemm_tile_cols,
    .conv3x3 = ck_conv3x3,
    .conv3x3_padding_slack = ck_conv3x3_padding_slack,
    .winograd3x3 = ck_winograd3x3,
    .winograd4x4_3x3 = ck_winograd4x4_3x3,
    .winograd3x3_kernel_gradient = ck_winograd3x3_kernel_gradient,
    .winograd4x4_3x3_kernel_gradient = ck_winograd4x4_3x3_kernel_gradient,
    .channel_sums = ck_channel_sums,
    .channel_dot_sums = ck_channel_dot_sums,
    .channel_affine = ck_channel_affine,
    .channel_combine = ck_channel_combine,
    .sum_rows = ck_sum_rows,
    .add_repeated = ck_add_repeated,
    .spread_blocks_2x2 = ck_spread_blocks_2x2,
    .gather_blocks_2x2 = ck_gather_blocks_2x2,
    .average_pool_2x2 = ck_average_pool_2x2,
    .average_pool_2x2_backward = ck_average_pool_2x2_backward,
    .exp = ck_exp,
    .log = ck_log,
    .silu = ck_silu,
    .silu_backward = ck_silu_backward,
};
#endif
