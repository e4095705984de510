// The entry points of one instruction set's kernels, which the dispatcher
// (dispatch.c) forwards to.
#ifndef CKERNELS_TABLE_H
#define CKERNELS_TABLE_H

#include "CKernels.h"

struct ck_kernel_table {
    const char *name;
    __typeof__(ck_sgemm) *sgemm;
    __typeof__(ck_vector_width) *vector_width;
    __typeof__(ck_sgemm_tile_rows) *sgemm_tile_rows;
    __typeof__(ck_sgemm_tile_cols) *sgemm_tile_cols;
    __typeof__(ck_conv3x3) *conv3x3;
    __typeof__(ck_conv3x3_padding_slack) *conv3x3_padding_slack;
    __typeof__(ck_winograd_packed_kernel_floats) *winograd_packed_kernel_floats;
    __typeof__(ck_winograd_pack_kernel) *winograd_pack_kernel;
    __typeof__(ck_winograd_convolve_packed) *winograd_convolve_packed;
    __typeof__(ck_winograd_kernel_gradient) *winograd_kernel_gradient;
    __typeof__(ck_channel_sums) *channel_sums;
    __typeof__(ck_channel_dot_sums) *channel_dot_sums;
    __typeof__(ck_channel_affine) *channel_affine;
    __typeof__(ck_channel_affine_silu) *channel_affine_silu;
    __typeof__(ck_channel_combine) *channel_combine;
    __typeof__(ck_sum_rows) *sum_rows;
    __typeof__(ck_add_repeated) *add_repeated;
    __typeof__(ck_spread_blocks_2x2) *spread_blocks_2x2;
    __typeof__(ck_gather_blocks_2x2) *gather_blocks_2x2;
    __typeof__(ck_average_pool_2x2) *average_pool_2x2;
    __typeof__(ck_average_pool_2x2_backward) *average_pool_2x2_backward;
    __typeof__(ck_exp) *exp;
    __typeof__(ck_log) *log;
    __typeof__(ck_log_softmax_rows) *log_softmax_rows;
    __typeof__(ck_log_softmax_rows_backward) *log_softmax_rows_backward;
    __typeof__(ck_argmax_rows) *argmax_rows;
    __typeof__(ck_silu) *silu;
    __typeof__(ck_silu_backward) *silu_backward;
    __typeof__(ck_multiply_add_chains) *multiply_add_chains;
};

#endif
