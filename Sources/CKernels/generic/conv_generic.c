// Portable convolution helpers: plane padding, generic depthwise, im2col block packing.
#include <string.h>
#include "../internal.h"

void ck_dw_pad_plane(const ck_conv_geom *g, const float *in, float *p, long rows, long cols) {
    const long H = g->in_h, W = g->in_w, pl = g->pad_left;
    long x1 = CK_MIN(W, cols - pl);                 // input columns [0, x1) land in p
    long r0 = g->pad_top, r1 = CK_MIN(rows, g->pad_top + H);
    if (x1 <= 0) return;
    for (long r = r0; r < r1; r++)
        memcpy(p + r * cols + pl, in + (r - g->pad_top) * W, (size_t)x1 * sizeof(float));
}

void ck_depthwise_conv2d_generic(long c0, long count, const ck_conv_geom *g, const float *in,
                                 const float *w, const float *bias, const ck_activation *act,
                                 float *out, float *scratch) {
    long rows, cols;
    ck_dw_padded_size(g, &rows, &cols);
    const long KH = g->kernel_h, KW = g->kernel_w, OH = g->out_h, OW = g->out_w;
    memset(scratch, 0, (size_t)(rows * cols) * sizeof(float));
    for (long c = c0; c < c0 + count; c++) {
        ck_dw_pad_plane(g, in + c * g->in_h * g->in_w, scratch, rows, cols);
        const float *wc = w + c * KH * KW;
        float b = bias ? bias[c] : 0;
        float *o = out + c * OH * OW;
        for (long oy = 0; oy < OH; oy++) {
            for (long ox = 0; ox < OW; ox++) {
                float s = b;
                const float *base = scratch + oy * g->stride_h * cols + ox * g->stride_w;
                for (long ky = 0; ky < KH; ky++) {
                    const float *r = base + ky * g->dilation_h * cols;
                    for (long kx = 0; kx < KW; kx++) s += wc[ky * KW + kx] * r[kx * g->dilation_w];
                }
                o[oy * OW + ox] = ck_act1(s, act);
            }
        }
    }
}

#define IM2COL_NAME ck_im2col_pack_block_generic
#define IM2COL_EMIT im2col_emit_generic
#define IM2COL_ATTR
#define IM2COL_GATHER(d, s, n, stride, limit) \
    do { for (long i_ = 0; i_ < (n); i_++) (d)[i_] = (s)[i_ * (stride)]; } while (0)
#include "../im2col_packed.inc"
