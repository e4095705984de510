// Compiles every kernel for one instruction set and defines its table. The
// including isa_*.c file defines VW (floats a vector), CK_ISA(name) (the
// suffixed names), CK_ISA_NAME and, for sets beyond the baseline, CK_TARGET
// (clang's target features for every function compiled here).
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rename.h"
#include "CKernels.h"

#define CK_PRAGMA(text) _Pragma(#text)
#define CK_PUSH_TARGET(features) CK_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))

#ifdef CK_TARGET
CK_PUSH_TARGET(CK_TARGET)
#endif
#include "all.h"
#ifdef CK_TARGET
#pragma clang attribute pop
#endif

#include "table.h"

#define CK_TABLE_NAME CK_ISA(ck_kernels)
const struct ck_kernel_table CK_TABLE_NAME = {
    .name = CK_ISA_NAME,
    .sgemm = ck_sgemm,
    .vector_width = ck_vector_width,
    .sgemm_tile_rows = ck_sgemm_tile_rows,
    .sgemm_tile_cols = ck_sgemm_tile_cols,
    .conv3x3 = ck_conv3x3,
    .conv3x3_padding_slack = ck_conv3x3_padding_slack,
    .winograd_packed_kernel_floats = ck_winograd_packed_kernel_floats,
    .winograd_pack_kernel = ck_winograd_pack_kernel,
    .winograd_convolve_packed = ck_winograd_convolve_packed,
    .winograd_kernel_gradient = ck_winograd_kernel_gradient,
    .channel_sums = ck_channel_sums,
    .channel_dot_sums = ck_channel_dot_sums,
    .channel_affine = ck_channel_affine,
    .channel_affine_silu = ck_channel_affine_silu,
    .channel_combine = ck_channel_combine,
    .sum_rows = ck_sum_rows,
    .add_repeated = ck_add_repeated,
    .spread_blocks_2x2 = ck_spread_blocks_2x2,
    .gather_blocks_2x2 = ck_gather_blocks_2x2,
    .average_pool_2x2 = ck_average_pool_2x2,
    .average_pool_2x2_backward = ck_average_pool_2x2_backward,
    .exp = ck_exp,
    .log = ck_log,
    .log_softmax_rows = ck_log_softmax_rows,
    .log_softmax_rows_backward = ck_log_softmax_rows_backward,
    .argmax_rows = ck_argmax_rows,
    .silu = ck_silu,
    .silu_backward = ck_silu_backward,
    .multiply_add_chains = ck_multiply_add_chains,
};
