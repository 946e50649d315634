// Private to CKernels: the per-ISA variants behind the public entry points in dispatch.c.
#ifndef ETRACK_CKERNELS_INTERNAL_H
#define ETRACK_CKERNELS_INTERNAL_H

#include <math.h>
#include "ckernels.h"

#define CK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CK_MAX(a, b) ((a) > (b) ? (a) : (b))

/// Scalar activation; the reference the vector paths must agree with (ETCore.Activation.apply).
static inline float ck_act1(float x, const ck_activation *a) {
    switch (a->kind) {
    case CK_ACT_RELU: return x > 0 ? x : 0;
    case CK_ACT_CLIP: return x < a->p0 ? a->p0 : (x > a->p1 ? a->p1 : x);
    case CK_ACT_HARDSWISH: {
        float r = x + 3;
        return x * (r < 0 ? 0 : (r > 6 ? 6 : r)) / 6;
    }
    case CK_ACT_HARDSIGMOID: {
        float r = a->p0 * x + a->p1;
        return r < 0 ? 0 : (r > 1 ? 1 : r);
    }
    case CK_ACT_SIGMOID: return 1 / (1 + expf(-x));
    case CK_ACT_GELU: return 0.5f * x * (1 + erff(x / 1.41421356237309504880f));
    default: return x;
    }
}

/// Geometry of the zero-padded plane the generic depthwise kernel reads (rows × cols).
static inline void ck_dw_padded_size(const ck_conv_geom *g, long *rows, long *cols) {
    *rows = (g->out_h - 1) * g->stride_h + (g->kernel_h - 1) * g->dilation_h + 1;
    *cols = (g->out_w - 1) * g->stride_w + (g->kernel_w - 1) * g->dilation_w + 1;
}

/// Copies plane in[H][W] into p[rows][cols] shifted by (pad_top, pad_left). Only the part that
/// holds input is written; the caller zeroes p once, and since that part is the same for every
/// channel, the padding stays zero across channels.
void ck_dw_pad_plane(const ck_conv_geom *g, const float *in, float *p, long rows, long cols);

#if defined(__x86_64__)
/// Floats of scratch the AVX2 depthwise kernels need (0 when they do not handle g).
long ck_depthwise_scratch_count_avx2(const ck_conv_geom *g);
#endif

void ck_sgemm_macro_generic(long mc, long nc, long kc, const float *pa, const float *pb,
                            float *c, long ldc, int load_c, const ck_epilogue *ep);
void ck_sgemv_rows_generic(long m, long k, const float *a, long lda, const float *x, long incx,
                           float *y, long incy, int load_y);
void ck_sgemv_cols_generic(long n, long k, const float *x, long incx, const float *b, long ldb,
                           float *y, int load_y);
void ck_activate_generic(float *x, long n, float bias, const ck_activation *act);
void ck_depthwise_conv2d_generic(long c0, long count, const ck_conv_geom *g, const float *in,
                                 const float *w, const float *bias, const ck_activation *act,
                                 float *out, float *scratch);
void ck_im2col_pack_block_generic(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                                  long j0, long nc, float *pb);
static inline float ck_bin1(int op, float a, float b) {
    switch (op) {
    case CK_BIN_ADD: return a + b;
    case CK_BIN_SUB: return a - b;
    case CK_BIN_MUL: return a * b;
    case CK_BIN_DIV: return a / b;
    case CK_BIN_MAX: return a > b ? a : b;
    default: return a < b ? a : b;
    }
}
void ck_binary_generic(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
                       const ck_activation *act);
void ck_sgemm_pack_a_generic(long mc, long kc, const float *a, long rs, long cs, float *pa);
void ck_softmax_rows_generic(long rows, long cols, float *x, long ld, float scale, float *inv_sums);
void ck_layernorm_rows_generic(long rows, long cols, const float *x, long ldx, const float *gamma,
                               const float *beta, float eps, float *y, long ldy);
void ck_mean_rows_generic(long rows, long cols, const float *x, long ld, float *y);
void ck_winograd23_input_generic(const float *in, long c0, long count, long H, long W, float *v, long plane);
void ck_winograd23_output_generic(const float *m, long plane, long c0, long count, long OH, long OW,
                                  const float *bias, const ck_activation *act, float *out);

#if defined(__x86_64__)
void ck_sgemm_macro_avx2(long mc, long nc, long kc, const float *pa, const float *pb,
                         float *c, long ldc, int load_c, const ck_epilogue *ep);
void ck_sgemv_rows_avx2(long m, long k, const float *a, long lda, const float *x, long incx,
                        float *y, long incy, int load_y);
void ck_sgemv_cols_avx2(long n, long k, const float *x, long incx, const float *b, long ldb,
                        float *y, int load_y);
void ck_activate_avx2(float *x, long n, float bias, const ck_activation *act);
int ck_depthwise_conv2d_avx2(long c0, long count, const ck_conv_geom *g, const float *in,
                             const float *w, const float *bias, const ck_activation *act,
                             float *out, float *scratch);
void ck_im2col_pack_block_avx2(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                               long j0, long nc, float *pb);
void ck_binary_avx2(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
                    const ck_activation *act);
void ck_sgemm_pack_a_avx2(long mc, long kc, const float *a, long rs, long cs, float *pa);
void ck_softmax_rows_avx2(long rows, long cols, float *x, long ld, float scale, float *inv_sums);
void ck_softmax_rows_avx512(long rows, long cols, float *x, long ld, float scale, float *inv_sums);
void ck_layernorm_rows_avx2(long rows, long cols, const float *x, long ldx, const float *gamma,
                            const float *beta, float eps, float *y, long ldy);
void ck_mean_rows_avx2(long rows, long cols, const float *x, long ld, float *y);
void ck_winograd23_input_avx2(const float *in, long c0, long count, long H, long W, float *v, long plane);
void ck_winograd23_output_avx2(const float *m, long plane, long c0, long count, long OH, long OW,
                               const float *bias, const ck_activation *act, float *out);
#endif

#if defined(__x86_64__)
void ck_sgemm_macro_avx512(long mc, long nc, long kc, const float *pa, const float *pb,
                           float *c, long ldc, int load_c, const ck_epilogue *ep);
void ck_im2col_pack_block_avx512(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                                 long j0, long nc, float *pb);
/// Floats of scratch the AVX-512 depthwise kernels need (0 when they do not handle g).
long ck_depthwise_scratch_count_avx512(const ck_conv_geom *g);
int ck_im2col_pack_block_s2_avx512(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                                   long j0, long nc, float *pb);
/// Returns 0 (and does nothing) when it does not handle g.
int ck_depthwise_conv2d_avx512(long c0, long count, const ck_conv_geom *g, const float *in,
                               const float *w, const float *bias, const ck_activation *act,
                               float *out, float *scratch);
#endif

#endif
