// A 3 x 3 convolution (stride 1, zero padding 1) by Winograd's minimal
// filtering F(2 x 2, 3 x 3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016).
//
// Each 2 x 2 block of output pixels comes from a 4 x 4 block of input pixels.
// Transformed by fixed matrices, V = B^T d B and U = G g G^T, the 16 entries
// of a block meet the kernel elementwise: M = U . V, summed over input
// channels, and Y = A^T M A gives the 2 x 2 outputs. Summed over channels,
// the elementwise products are 16 matrix products (tiles x C) . (C x O):
// 16 multiply-adds per channel pair for 4 outputs instead of 36, 2.25 times
// fewer, and the products run on the same register tile as the GEMM.
//
//     B^T = | 1  0 -1  0 |    G = | 1    0    0   |    A^T = | 1  1  1  0 |
//           | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
//           | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
//           | 0  1  0 -1 |        | 0    0    1   |

#include "microkernel.h"

/// The bytes a chunk's transforms (input and output sides) may take: about
/// half of a core's L2 cache, so that they are still there when read back.
#define CHUNK_BYTES (384 * 1024)

/// Tiles per chunk for `tiles` tiles of `entries` entries with C input and
/// O output channels: as many as CHUNK_BYTES holds (at least 2 MR, at most
/// 16 MR), spread evenly over whole MR-row blocks, so that no chunk is left
/// with a sliver of tiles.
static long chunk_size(long tiles, long entries, long C, long O) {
    long limit = CHUNK_BYTES / (entries * (C + O) * (long)sizeof(float)) / MR * MR;
    limit = limit < 2 * MR ? 2 * MR : limit > 16 * MR ? 16 * MR : limit;
    long chunks = (tiles + limit - 1) / limit;
    long size = (tiles + chunks - 1) / chunks;
    return (size + MR - 1) / MR * MR;
}

/// Up to MR tiles (rows of `a`, `lda` apart) against one packed panel of
/// U (C rows of NR): an MR x NR block of M.
static void tile_product(const float *restrict a, long lda, long C, const float *restrict b,
                         float *restrict out, long ldo, long mr, long nr) {
    TILE_ACCUMULATORS;
    // Rows past mr read row 0 again; their results are not stored.
    const float *a0p = a, *a1p = a + (mr > 1) * lda, *a2p = a + (mr > 2) * 2 * lda;
    const float *a3p = a + (mr > 3) * 3 * lda, *a4p = a + (mr > 4) * 4 * lda, *a5p = a + (mr > 5) * 5 * lda;
    for (long p = 0; p < C; p++) {
        vf b0 = load(b), b1 = load(b + VW);
        TILE_STEP(a0p[p], a1p[p], a2p[p], a3p[p], a4p[p], a5p[p], b0, b1);
        b += NR;
    }
    TILE_ARRAY(acc, 0, 0);
    store_tile(acc, out, ldo, mr, nr, 1, 0);
}

/// U = G g G^T for every (c, o), with G n x 3 (n = 4, 6 or 9), packed per
/// entry as panels of NR output channels: packed[entry][panel][c][NR], zero
/// beyond O, VW output channels at a time.
static inline void pack_transformed_kernel(const float *kernel, long C, long O, float *packed, int n, const float G[][3]) {
    long panels = (O + NR - 1) / NR, width = panels * NR;
    // A kernel whose channels do not fill the last panel is copied into one that does.
    const float *source = kernel;
    float *widened = NULL;
    if (width != O) {
        widened = calloc(9 * C * width, sizeof(float));
        for (long row = 0; row < 9 * C; row++) memcpy(widened + row * width, kernel + row * O, O * sizeof(float));
        source = widened;
    }
    for (long c = 0; c < C; c++) {
        for (long panel = 0; panel < panels; panel++) {
            for (long j = 0; j < NR; j += VW) {
                long o = panel * NR + j;
                vf g[3][3];
                for (int dy = 0; dy < 3; dy++)
                    for (int dx = 0; dx < 3; dx++) g[dy][dx] = load(source + ((3 * dy + dx) * C + c) * width + o);
                vf gg[9][3];  // G g
                for (int i = 0; i < n; i++)
                    for (int dx = 0; dx < 3; dx++) gg[i][dx] = G[i][0] * g[0][dx] + G[i][1] * g[1][dx] + G[i][2] * g[2][dx];
                for (int i = 0; i < n; i++)
                    for (int k = 0; k < n; k++)
                        store(packed + (((long)(n * i + k) * panels + panel) * C + c) * NR + j,
                              gg[i][0] * G[k][0] + gg[i][1] * G[k][1] + gg[i][2] * G[k][2]);
            }
        }
    }
    free(widened);
}

static const float G4[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};

static void transform_kernel(const float *kernel, long C, long O, float *packed) {
    pack_transformed_kernel(kernel, C, O, packed, 4, G4);
}

/// Where the tiles of a batch lie. Tiles are numbered across the whole batch
/// (image by image, row by row), so that a chunk of tiles may span images:
/// a 7 x 7 image has only four 4 x 4 tiles. Sizes that are not multiples of
/// the tile side are covered by whole tiles. The transforms read the images
/// as they are, [images, H, W, C]: the zero border and the rows and columns
/// past H or W read as zero (the tiles that reach them load pixel by
/// pixel), outputs past H or W are not written, and output gradients past
/// them read as zero.
typedef struct {
    long side;           // output pixels per tile side: 2, 4 or 7
    long H, W;           // the image's and the output's size
    long tilesAcross, tilesPerImage;
    long rowStride;      // floats per image row
    long imageStride;    // floats per image
} Grid;

static Grid make_grid(long side, long H, long W, long C) {
    long tilesDown = (H + side - 1) / side, tilesAcross = (W + side - 1) / side;
    return (Grid){side, H, W, tilesAcross, tilesDown * tilesAcross, W * C, H * W * C};
}

/// The image of a tile and its top-left output pixel.
static inline void locate(const Grid *g, long tile, long *n, long *y, long *x) {
    *n = tile / g->tilesPerImage;
    long within = tile % g->tilesPerImage;
    *y = within / g->tilesAcross * g->side;
    *x = within % g->tilesAcross * g->side;
}

/// Whether a tile's input block, `size` pixels square from (top, left), lies
/// inside the image (no zero border or rows past the image to supply).
static inline bool block_inside(const Grid *g, long top, long left, long size) {
    return top >= 0 && left >= 0 && top + size <= g->H && left + size <= g->W;
}

/// Whether pixel (row, column) lies inside the image.
static inline bool pixel_inside(const Grid *g, long row, long column) {
    return row >= 0 && column >= 0 && row < g->H && column < g->W;
}

/// V = B^T d B for `tiles` tiles from tile `first` on: v[entry][tile - first][c].
static void transform_input(const Grid *g, const float *restrict images, long C, long first, long tiles,
                            float *restrict v) {
    long rowStride = g->rowStride;
    for (long tile = 0; tile < tiles; tile++) {
        long n, y, x;
        locate(g, first + tile, &n, &y, &x);
        const float *image = images + n * g->imageStride;
        long top = y - 1, left = x - 1;
        bool inside = block_inside(g, top, left, 4);
        for (long c = 0; c < C; c++) {
            float e[4][4];
            for (int r = 0; r < 4; r++)
                for (int s = 0; s < 4; s++)
                    e[r][s] = inside || pixel_inside(g, top + r, left + s)
                                  ? image[(top + r) * rowStride + (left + s) * C + c]
                                  : 0.0f;
            float t[4][4];  // B^T d
            for (int s = 0; s < 4; s++) {
                t[0][s] = e[0][s] - e[2][s];
                t[1][s] = e[1][s] + e[2][s];
                t[2][s] = e[2][s] - e[1][s];
                t[3][s] = e[1][s] - e[3][s];
            }
            for (int r = 0; r < 4; r++) {
                float *row = v + ((long)(4 * r) * tiles + tile) * C + c;
                row[0] = t[r][0] - t[r][2];
                row[tiles * C] = t[r][1] + t[r][2];
                row[2 * tiles * C] = t[r][2] - t[r][1];
                row[3 * tiles * C] = t[r][1] - t[r][3];
            }
        }
    }
}

/// Y = A^T M A + bias for `tiles` tiles from tile `first` on, into out [images, H, W, O].
static void transform_output(const Grid *g, const float *restrict m, long O, long first, long tiles,
                             const float *restrict bias, float *restrict out) {
    long entryStride = tiles * O, H = g->H, W = g->W;
    for (long tile = 0; tile < tiles; tile++) {
        long n, y, x;
        locate(g, first + tile, &n, &y, &x);
        const float *base = m + tile * O;
        float *y0 = out + ((n * H + y) * W + x) * O, *y1 = y0 + W * O;
        bool right = x + 1 < W, below = y + 1 < H;
        for (long o = 0; o < O; o++) {
            float e[4][4];
            for (int r = 0; r < 4; r++)
                for (int s = 0; s < 4; s++) e[r][s] = base[(4 * r + s) * entryStride + o];
            float s0[4], s1[4];  // A^T M
            for (int s = 0; s < 4; s++) {
                s0[s] = e[0][s] + e[1][s] + e[2][s];
                s1[s] = e[1][s] - e[2][s] - e[3][s];
            }
            float b = bias ? bias[o] : 0;
            y0[o] = s0[0] + s0[1] + s0[2] + b;
            if (right) y0[O + o] = s0[1] - s0[2] - s0[3] + b;
            if (below) y1[o] = s1[0] + s1[1] + s1[2] + b;
            if (right && below) y1[O + o] = s1[1] - s1[2] - s1[3] + b;
        }
    }
}

// The kernel gradient by the same transforms. The forward map
// Y = A^T [U . V] A is linear in U = G g G^T, so for an output gradient dY
// dL/dU = V . Z with Z = A dY A^T, summed over tiles: per entry, the matrix
// product V^T Z of (C x tiles) and (tiles x O); then dL/dg = G^T (dL/dU) G.
//
//     A = | 1  0 |
//         | 1  1 |
//         | 1 -1 |
//         | 0 -1 |

/// Z = A dY A^T for `tiles` tiles of the output gradient [images, H, W, O]
/// from tile `first` on: z[entry][tile - first][o].
static void transform_output_gradient(const Grid *g, const float *restrict gradient, long O, long first, long tiles,
                                      float *restrict z) {
    long H = g->H, W = g->W;
    for (long tile = 0; tile < tiles; tile++) {
        long n, y, x;
        locate(g, first + tile, &n, &y, &x);
        const float *g0 = gradient + ((n * H + y) * W + x) * O, *g1 = g0 + W * O;
        bool right = x + 1 < W, below = y + 1 < H;
        for (long o = 0; o < O; o++) {
            float a = g0[o], b = right ? g0[O + o] : 0, c = below ? g1[o] : 0, d = right && below ? g1[O + o] : 0;
            float r[4][2] = {{a, b}, {a + c, b + d}, {a - c, b - d}, {-c, -d}};  // A dY
            for (int i = 0; i < 4; i++) {
                float *row = z + ((long)(4 * i) * tiles + tile) * O + o;
                row[0] = r[i][0];
                row[tiles * O] = r[i][0] + r[i][1];
                row[2 * tiles * O] = r[i][0] - r[i][1];
                row[3 * tiles * O] = -r[i][1];
            }
        }
    }
}

/// acc[c][o] += sum over the k tiles of v[tile][c] z[tile][o], for up to MR
/// channels from `v` (rows C apart) and up to NR output channels of `z` (rows O apart).
static void transposed_tile_product(const float *restrict v, long C, const float *restrict z, long O, long k,
                                    float *restrict acc, long ldacc, long mr, long nr) {
    TILE_ACCUMULATORS;
    // Channels past mr read channel 0 again, outputs past nr read what lies
    // beyond (inside the buffer: z has NR floats of slack); neither is stored.
    long i1 = mr > 1, i2 = mr > 2 ? 2 : 0, i3 = mr > 3 ? 3 : 0, i4 = mr > 4 ? 4 : 0, i5 = mr > 5 ? 5 : 0;
    for (long p = 0; p < k; p++) {
        const float *row = v + p * C, *b = z + p * O;
        vf b0 = load(b), b1 = load(b + VW);
        TILE_STEP(row[0], row[i1], row[i2], row[i3], row[i4], row[i5], b0, b1);
    }
    TILE_ARRAY(tile, 0, 0);
    store_tile(tile, acc, ldacc, mr, nr, 1, 1);
}


// F(4 x 4, 3 x 3): each 4 x 4 block of outputs from a 6 x 6 block of inputs,
// 36 entries, 36 multiply-adds per channel pair for 16 outputs instead of
// 144: 1.78 times fewer again than F(2 x 2, 3 x 3), for sizes divisible by 4.
//
//     B^T = | 4  0 -5  0  1  0 |   G = |  1/4     0     0  |   A^T = | 1  1  1  1  1  0 |
//           | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6  |         | 0  1 -1  2 -2  0 |
//           | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6  |         | 0  1  1  4  4  0 |
//           | 0 -2 -1  2  1  0 |       |  1/24  1/12  1/6  |         | 0  1 -1  8 -8  1 |
//           | 0  2 -1 -2  1  0 |       |  1/24 -1/12  1/6  |
//           | 0  4  0 -5  0  1 |       |  0     0     1    |

static const float G6[6][3] = {
    {1.0f / 4, 0, 0}, {-1.0f / 6, -1.0f / 6, -1.0f / 6}, {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6}, {1.0f / 24, -1.0f / 12, 1.0f / 6}, {0, 0, 1},
};

static void transform_kernel_f4(const float *kernel, long C, long O, float *packed) {
    pack_transformed_kernel(kernel, C, O, packed, 6, G6);
}

/// B^T applied to six vectors: one column (or row) of a 6 x 6 tile.
static inline void bt6(const vf d[6], vf t[6]) {
    t[0] = 4 * d[0] - 5 * d[2] + d[4];
    t[1] = d[3] + d[4] - 4 * (d[1] + d[2]);
    t[2] = 4 * (d[1] - d[2]) + d[4] - d[3];
    t[3] = 2 * (d[3] - d[1]) + d[4] - d[2];
    t[4] = 2 * (d[1] - d[3]) + d[4] - d[2];
    t[5] = 4 * d[1] - 5 * d[3] + d[5];
}

/// A^T applied to six vectors, giving four.
static inline void at6(const vf e[6], vf y[4]) {
    vf sum12 = e[1] + e[2], difference12 = e[1] - e[2], sum34 = e[3] + e[4], difference34 = e[3] - e[4];
    y[0] = e[0] + sum12 + sum34;
    y[1] = difference12 + 2 * difference34;
    y[2] = sum12 + 4 * sum34;
    y[3] = difference12 + 8 * difference34 + e[5];
}

/// V = B^T d B for `tiles` n x n tiles (stride n - 2) from tile `first` on:
/// v[entry][tile - first][c], VW channels at a time (C a multiple of VW),
/// `bt` applying B^T to one column (or row) of a tile. Shared by F(4 x 4)
/// (n = 6) and F(7 x 7) (n = 9), and inlined into each, so that n and `bt`
/// are constants there and the loops unroll as if written out.
static inline __attribute__((always_inline)) void transform_input_tiles(const Grid *g, const float *restrict images,
                                                                        long C, long first, long tiles,
                                                                        float *restrict v, int n,
                                                                        void (*bt)(const vf *, vf *)) {
    long rowStride = g->rowStride;
    for (long tile = 0; tile < tiles; tile++) {
        long imageIndex, y, x;
        locate(g, first + tile, &imageIndex, &y, &x);
        long top = y - 1, left = x - 1;
        bool inside = block_inside(g, top, left, n);
        const float *image = images + imageIndex * g->imageStride;
        for (long c = 0; c < C; c += VW) {
            vf t[9][9];  // t[i][s] = (B^T d)[i][s]
            for (int s = 0; s < n; s++) {
                vf column[9], transformed[9];
                for (int r = 0; r < n; r++)
                    column[r] = inside || pixel_inside(g, top + r, left + s)
                                    ? load(image + (top + r) * rowStride + (left + s) * C + c)
                                    : (vf)0;
                bt(column, transformed);
                for (int i = 0; i < n; i++) t[i][s] = transformed[i];
            }
            for (int i = 0; i < n; i++) {
                vf row[9];
                bt(t[i], row);
                for (int j = 0; j < n; j++) store(v + ((long)(n * i + j) * tiles + tile) * C + c, row[j]);
            }
        }
    }
}

/// Y = A^T M A + bias for `tiles` tiles of side `side` (from n x n entries)
/// from tile `first` on, into out [images, H, W, O], VW output channels at a
/// time (O a multiple of VW), `at` applying A^T to one column (or row) of
/// entries. Shared and inlined as transform_input_tiles.
static inline __attribute__((always_inline)) void transform_output_tiles(const Grid *g, const float *restrict m,
                                                                         long O, long first, long tiles,
                                                                         const float *restrict bias,
                                                                         float *restrict out, int side, int n,
                                                                         void (*at)(const vf *, vf *)) {
    long entryStride = tiles * O, H = g->H, W = g->W;
    for (long tile = 0; tile < tiles; tile++) {
        long image, y, x;
        locate(g, first + tile, &image, &y, &x);
        long rows = H - y < side ? H - y : side, columns = W - x < side ? W - x : side;
        const float *base = m + tile * O;
        float *corner = out + ((image * H + y) * W + x) * O;
        for (long o = 0; o < O; o += VW) {
            vf s[7][9];  // s[i][q] = (A^T M)[i][q]
            for (int q = 0; q < n; q++) {
                vf column[9], transformed[7];
                for (int r = 0; r < n; r++) column[r] = load(base + (n * r + q) * entryStride + o);
                at(column, transformed);
                for (int i = 0; i < side; i++) s[i][q] = transformed[i];
            }
            vf b = bias ? load(bias + o) : (vf)0;
            for (int i = 0; i < side; i++) {
                vf row[7];
                at(s[i], row);
                if (rows == side && columns == side) {
                    for (int j = 0; j < side; j++) store(corner + (i * W + j) * O + o, row[j] + b);
                } else if (i < rows) {
                    for (int j = 0; j < columns; j++) store(corner + (i * W + j) * O + o, row[j] + b);
                }
            }
        }
    }
}

static void transform_input_f4(const Grid *g, const float *restrict images, long C, long first, long tiles,
                               float *restrict v) {
    transform_input_tiles(g, images, C, first, tiles, v, 6, bt6);
}

static void transform_output_f4(const Grid *g, const float *restrict m, long O, long first, long tiles,
                                const float *restrict bias, float *restrict out) {
    transform_output_tiles(g, m, O, first, tiles, bias, out, 4, 6, at6);
}

// F(7 x 7, 3 x 3): each 7 x 7 block of outputs from a 9 x 9 block of inputs,
// 81 entries, 81 multiply-adds per channel pair for 49 outputs instead of
// 441: 5.4 times fewer than the direct convolution, 1.65 per output against
// F(4 x 4)'s 2.25. MNIST's sizes are multiples of 7 (28 = 4 x 7, 14 = 2 x 7,
// 7), and F(4 x 4) covers 14 x 14 and 7 x 7 with partly empty tiles besides:
// per channel pair, 1296 multiply-adds against 1764 on 28 x 28, 324 against
// 576 on 14 x 14, 81 against 144 on 7 x 7. The interpolation points are 0,
// +-1, +-2, +-1/2, -3/4 and infinity. Larger tiles round more: errors up to
// about 5e-4 of the outputs' root mean square at 32 channels (8e-4 at 128)
// against F(4 x 4)'s 2e-5 (4e-5), both far below what a network notices.
//
//     A^T = | 1  1  1   1    1    1      1        1       0 |
//           | 0  1 -1   2   -2   1/2   -1/2     -3/4      0 |
//           | 0  1  1   4    4   1/4    1/4      9/16     0 |
//           | 0  1 -1   8   -8   1/8   -1/8    -27/64     0 |
//           | 0  1  1  16   16   1/16   1/16    81/256    0 |
//           | 0  1 -1  32  -32   1/32  -1/32  -243/1024   0 |
//           | 0  1  1  64   64   1/64   1/64   729/4096   1 |
//
// G's row j is (1, a_j, a_j^2) / prod over l != j of (a_j - a_l) for the
// finite points a_j, and (0, 0, 1) for infinity; B^T (below, in bt9) is
// what makes A^T [(G g) . (B^T d)] the convolution.

static const float G9[9][3] = {
    {-4.0f / 3, 0, 0},
    {-8.0f / 63, -8.0f / 63, -8.0f / 63},
    {8.0f / 9, -8.0f / 9, 8.0f / 9},
    {2.0f / 495, 4.0f / 495, 8.0f / 495},
    {-2.0f / 225, 4.0f / 225, -8.0f / 225},
    {128.0f / 225, 64.0f / 225, 32.0f / 225},
    {128.0f / 45, -64.0f / 45, 32.0f / 45},
    {-16384.0f / 5775, 4096.0f / 1925, -3072.0f / 1925},
    {0, 0, 1},
};

static void transform_kernel_f7(const float *kernel, long C, long O, float *packed) {
    pack_transformed_kernel(kernel, C, O, packed, 9, G9);
}

/// B^T applied to nine vectors: one column (or row) of a 9 x 9 tile.
///
/// Row j of B^T holds the coefficients of M(x) / (x - a_j), M being the
/// product of (x - a) over the eight finite points, and the last row those
/// of M itself. M = (x + 3/4) E(x) with E = x (x^2 - 1) (x^2 - 4) (x^2 - 1/4)
/// odd, and (x + 3/4) P(x) against d is P against p_k = d_{k+1} + 3/4 d_k.
/// The pairs +-a then share E / (x^2 - a^2) = R_a(x), odd:
/// M / (x -+ a) = (x + 3/4) (x R_a(x) +- a R_a(x)), an even and an odd part
/// of three terms each: 35 operations (a multiply-add counting as one)
/// instead of the dense rows' 53.
static inline void bt9(const vf d[9], vf t[9]) {
    vf p[8];
    for (int k = 0; k < 8; k++) p[k] = d[k + 1] + 0.75f * d[k];
    t[0] = (p[6] - p[0]) + 5.25f * (p[2] - p[4]);  // E / x, a = 0
    vf even1 = p[6] - 4.25f * p[4] + p[2], odd1 = p[5] - 4.25f * p[3] + p[1];  // R_1 = x^5 - 17/4 x^3 + x
    t[1] = even1 + odd1;
    t[2] = even1 - odd1;
    vf even2 = p[6] - 1.25f * p[4] + 0.25f * p[2], odd2 = p[5] - 1.25f * p[3] + 0.25f * p[1];  // R_2
    t[3] = even2 + 2.0f * odd2;
    t[4] = even2 - 2.0f * odd2;
    vf evenHalf = p[6] - 5.0f * p[4] + 4.0f * p[2], oddHalf = p[5] - 5.0f * p[3] + 4.0f * p[1];  // R_1/2
    t[5] = evenHalf + 0.5f * oddHalf;
    t[6] = evenHalf - 0.5f * oddHalf;
    t[7] = (d[7] - d[1]) + 5.25f * (d[3] - d[5]);  // E, a = -3/4
    t[8] = (p[7] - p[1]) + 5.25f * (p[3] - p[5]);  // M, infinity
}

/// A^T applied to nine vectors, giving seven: the points come in pairs
/// +-a, whose sum feeds the even powers and whose difference the odd ones.
static inline void at9(const vf e[9], vf y[7]) {
    vf s1 = e[1] + e[2], d1 = e[1] - e[2], s2 = e[3] + e[4], d2 = e[3] - e[4], s3 = e[5] + e[6], d3 = e[5] - e[6];
    y[0] = e[0] + s1 + s2 + s3 + e[7];
    y[1] = d1 + 2.0f * d2 + 0.5f * d3 - 0.75f * e[7];
    y[2] = s1 + 4.0f * s2 + 0.25f * s3 + 0.5625f * e[7];
    y[3] = d1 + 8.0f * d2 + 0.125f * d3 - 0.421875f * e[7];
    y[4] = s1 + 16.0f * s2 + 0.0625f * s3 + 0.31640625f * e[7];
    y[5] = d1 + 32.0f * d2 + 0.03125f * d3 - 0.2373046875f * e[7];
    y[6] = s1 + 64.0f * s2 + 0.015625f * s3 + 0.177978515625f * e[7] + e[8];
}

static void transform_input_f7(const Grid *g, const float *restrict images, long C, long first, long tiles,
                               float *restrict v) {
    transform_input_tiles(g, images, C, first, tiles, v, 9, bt9);
}

static void transform_output_f7(const Grid *g, const float *restrict m, long O, long first, long tiles,
                                const float *restrict bias, float *restrict out) {
    transform_output_tiles(g, m, O, first, tiles, bias, out, 7, 9, at9);
}

/// A applied to four vectors (A^T's transpose), giving six.
static inline void a6(const vf g[4], vf z[6]) {
    z[0] = g[0];
    z[1] = g[0] + g[1] + g[2] + g[3];
    z[2] = g[0] - g[1] + g[2] - g[3];
    z[3] = g[0] + 2 * g[1] + 4 * g[2] + 8 * g[3];
    z[4] = g[0] - 2 * g[1] + 4 * g[2] - 8 * g[3];
    z[5] = g[3];
}

/// Z = A dY A^T for `tiles` 4 x 4 tiles of the output gradient [images, H, W, O]
/// from tile `first` on: z[entry][tile - first][o], VW at a time.
static void transform_output_gradient_f4(const Grid *g, const float *restrict gradient, long O, long first, long tiles,
                                         float *restrict z) {
    long H = g->H, W = g->W;
    for (long tile = 0; tile < tiles; tile++) {
        long n, y, x;
        locate(g, first + tile, &n, &y, &x);
        long rows = H - y < 4 ? H - y : 4, columns = W - x < 4 ? W - x : 4;
        const float *corner = gradient + ((n * H + y) * W + x) * O;
        for (long o = 0; o < O; o += VW) {
            vf t[6][4];  // t[i][b] = (A dY)[i][b]
            for (int b = 0; b < 4; b++) {
                vf column[4], transformed[6];
                if (rows == 4 && columns == 4) {
                    for (int a = 0; a < 4; a++) column[a] = load(corner + (a * W + b) * O + o);
                } else {
                    for (int a = 0; a < 4; a++)
                        column[a] = a < rows && b < columns ? load(corner + (a * W + b) * O + o) : (vf)0;
                }
                a6(column, transformed);
                for (int i = 0; i < 6; i++) t[i][b] = transformed[i];
            }
            for (int i = 0; i < 6; i++) {
                vf row[6];
                a6(t[i], row);
                for (int j = 0; j < 6; j++) store(z + ((long)(6 * i + j) * tiles + tile) * O + o, row[j]);
            }
        }
    }
}

/// dL/dg = G^T dU G for F(2 x 2, 3 x 3), per (c, o), into rows (dy, dx, c).
static void finish_kernel_gradient(const float *du, long C, long O, float *kernelGradient) {
    for (long c = 0; c < C; c++) {
        for (long o = 0; o < O; o++) {
            float e[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) e[i][j] = du[((long)(4 * i + j) * C + c) * O + o];
            for (int dy = 0; dy < 3; dy++)
                for (int dx = 0; dx < 3; dx++) {
                    float sum = 0;
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++) sum += G4[i][dy] * e[i][j] * G4[j][dx];
                    kernelGradient[((3 * dy + dx) * C + c) * O + o] = sum;
                }
        }
    }
}

/// dL/dg = G^T dU G for F(4 x 4, 3 x 3) (3 x 6 . 6 x 6 . 6 x 3), per (c, o), into rows (dy, dx, c),
/// a row of output channels at a time so that the loops over o vectorise.
static void finish_kernel_gradient_f4(const float *du, long C, long O, float *kernelGradient) {
    float *left = malloc(18 * O * sizeof(float));  // (G^T dU)[dy][j][o] for one c
    for (long c = 0; c < C; c++) {
        for (int dy = 0; dy < 3; dy++)
            for (int j = 0; j < 6; j++) {
                float *row = left + (6 * dy + j) * O;
                for (long o = 0; o < O; o++) row[o] = 0;
                for (int i = 0; i < 6; i++) {
                    const float *entry = du + ((long)(6 * i + j) * C + c) * O;
                    float weight = G6[i][dy];
                    for (long o = 0; o < O; o++) row[o] += weight * entry[o];
                }
            }
        for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++) {
                float *out = kernelGradient + ((3 * dy + dx) * C + c) * O;
                for (long o = 0; o < O; o++) out[o] = 0;
                for (int j = 0; j < 6; j++) {
                    const float *row = left + (6 * dy + j) * O;
                    float weight = G6[j][dx];
                    for (long o = 0; o < O; o++) out[o] += row[o] * weight;
                }
            }
    }
    free(left);
}

/// One of Winograd's algorithms: its tile and its transforms.
typedef struct {
    long outputs;  // output pixels per tile side: 2, 4 or 7
    long entries;  // (outputs + 2)^2
    void (*transformKernel)(const float *kernel, long C, long O, float *packed);
    void (*transformInput)(const Grid *g, const float *input, long C, long first, long tiles, float *v);
    void (*transformOutput)(const Grid *g, const float *m, long O, long first, long tiles, const float *bias, float *out);
    void (*transformOutputGradient)(const Grid *g, const float *gradient, long O, long first, long tiles, float *z);
    void (*finishKernelGradient)(const float *du, long C, long O, float *kernelGradient);
} Scheme;

static const Scheme F2 = {2, 16, transform_kernel, transform_input, transform_output, transform_output_gradient, finish_kernel_gradient};
static const Scheme F4 = {4, 36, transform_kernel_f4, transform_input_f4, transform_output_f4, transform_output_gradient_f4,
                          finish_kernel_gradient_f4};
// Forward only: with F(7 x 7)'s gradient transforms, the U-Net trained 1.09x
// slower (fewer, larger tiles make short sums per entry), so a convolution
// that ran by F(7 x 7) has its kernel gradient by F(4 x 4).
static const Scheme F7 = {7, 81, transform_kernel_f7, transform_input_f7, transform_output_f7, NULL, NULL};

/// The convolution by `scheme` with its kernel transformed and packed by
/// scheme->transformKernel.
static void convolve(const Scheme *scheme, const float *input, long images, long H, long W, long C,
                     const float *u, const float *bias, long O, float *out) {
    long entries = scheme->entries;
    long panels = (O + NR - 1) / NR;
    Grid grid = make_grid(scheme->outputs, H, W, C);
    long tiles = images * grid.tilesPerImage;
    // Tiles go through in chunks whose transforms stay in cache (L2).
    long chunk = chunk_size(tiles, entries, C, O);
    float *v = aligned_alloc(64, ((entries * chunk * C * sizeof(float) + 63) / 64) * 64);
    float *m = aligned_alloc(64, ((entries * chunk * O * sizeof(float) + 63) / 64) * 64);
    for (long first = 0; first < tiles; first += chunk) {
        long count = tiles - first < chunk ? tiles - first : chunk;
        scheme->transformInput(&grid, input, C, first, count, v);
        for (long entry = 0; entry < entries; entry++) {
            const float *a = v + entry * count * C;
            float *mEntry = m + entry * count * O;
            for (long panel = 0; panel < panels; panel++) {
                const float *b = u + (entry * panels + panel) * C * NR;
                long nr = O - panel * NR < NR ? O - panel * NR : NR;
                for (long i = 0; i < count; i += MR) {
                    long mr = count - i < MR ? count - i : MR;
                    tile_product(a + i * C, C, C, b, mEntry + i * O + panel * NR, O, mr, nr);
                }
            }
        }
        scheme->transformOutput(&grid, m, O, first, count, bias, out);
    }
    free(v);
    free(m);
}

static void kernel_gradient(const Scheme *scheme, const float *input, const float *gradient, long images, long H, long W,
                            long C, long O, float *kernelGradient) {
    long entries = scheme->entries;
    Grid grid = make_grid(scheme->outputs, H, W, C);
    long tiles = images * grid.tilesPerImage;
    long chunk = chunk_size(tiles, entries, C, O);
    float *v = aligned_alloc(64, ((entries * chunk * C * sizeof(float) + 63) / 64) * 64);
    // NR floats of slack: the product reads a whole register tile of z.
    float *z = aligned_alloc(64, (((entries * chunk * O + NR) * sizeof(float) + 63) / 64) * 64);
    float *du = calloc(entries * C * O, sizeof(float));
    memset(z, 0, (entries * chunk * O + NR) * sizeof(float));
    for (long first = 0; first < tiles; first += chunk) {
        long count = tiles - first < chunk ? tiles - first : chunk;
        scheme->transformInput(&grid, input, C, first, count, v);
        scheme->transformOutputGradient(&grid, gradient, O, first, count, z);
        for (long entry = 0; entry < entries; entry++) {
            const float *vEntry = v + entry * count * C, *zEntry = z + entry * count * O;
            float *duEntry = du + entry * C * O;
            for (long c = 0; c < C; c += MR) {
                long mr = C - c < MR ? C - c : MR;
                for (long o = 0; o < O; o += NR) {
                    long nr = O - o < NR ? O - o : NR;
                    transposed_tile_product(vEntry + c, C, zEntry + o, O, count, duEntry + c * O + o, O, mr, nr);
                }
            }
        }
    }
    scheme->finishKernelGradient(du, C, O, kernelGradient);
    free(v);
    free(z);
    free(du);
}

/// The scheme of F(outputs x outputs, 3 x 3): outputs 2, 4 or 7.
static const Scheme *winograd_scheme(long outputs) { return outputs == 7 ? &F7 : outputs == 4 ? &F4 : &F2; }

long ck_winograd_packed_kernel_floats(long outputs, long C, long O) {
    return winograd_scheme(outputs)->entries * ((O + NR - 1) / NR) * C * NR;
}

void ck_winograd_pack_kernel(long outputs, const float *kernel, long C, long O, float *packed) {
    winograd_scheme(outputs)->transformKernel(kernel, C, O, packed);
}

void ck_winograd_convolve_packed(long outputs, const float *input, long images, long H, long W, long C,
                                 const float *packed, const float *bias, long O, float *out) {
    convolve(winograd_scheme(outputs), input, images, H, W, C, packed, bias, O, out);
}

void ck_winograd_kernel_gradient(long outputs, const float *input, const float *gradient, long images, long H, long W,
                                 long C, long O, float *kernelGradient) {
    kernel_gradient(winograd_scheme(outputs == 7 ? 4 : outputs), input, gradient, images, H, W, C, O, kernelGradient);
}
