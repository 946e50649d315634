// AVX2+FMA depthwise convolution, 3×3 and 5×5 at stride 1 and 2, any padding. Each channel is
// first copied into a zero-padded plane (scratch), so the inner loops have no edge cases; they
// are register-blocked along W (16 outputs per step) with the K×K weights held as broadcasts.
#if defined(__x86_64__)
#include <string.h>
#include "simd_avx2.h"

/// Lanes l = 0..7 of p[S*l + kx] for stride 2: evens (kx even) or odds of the 16 floats at p.
CK_AVX2_INLINE __m256 dw_even(const float *p) {
    __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}
CK_AVX2_INLINE __m256 dw_odd(const float *p) {
    __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);
    __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// acc += Σ_{ky,kx} w[ky][kx] · P[ky*cols + S*l + kx] for the 8 outputs starting at p.
CK_AVX2_INLINE __m256 dw_vec(__m256 acc, const float *p, long cols, const __m256 *wv, int K, int S) {
    for (int ky = 0; ky < K; ky++) {
        const float *r = p + ky * cols;
        if (S == 1) {
            for (int kx = 0; kx < K; kx++) acc = _mm256_fmadd_ps(wv[ky * K + kx], _mm256_loadu_ps(r + kx), acc);
        } else {
            for (int kx = 0; kx < K; kx += 2) {
                acc = _mm256_fmadd_ps(wv[ky * K + kx], dw_even(r + kx), acc);
                if (kx + 1 < K) acc = _mm256_fmadd_ps(wv[ky * K + kx + 1], dw_odd(r + kx), acc);
            }
        }
    }
    return acc;
}

CK_AVX2_INLINE void dw_plane(const float *P, long cols, const float *w, int K, int S, long OH, long OW,
                             float bias, const ck_activation *act, float *o) {
    __m256 wv[25];
    for (int i = 0; i < K * K; i++) wv[i] = _mm256_broadcast_ss(w + i);
    __m256 bv = _mm256_set1_ps(bias);
    for (long oy = 0; oy < OH; oy++) {
        const float *base = P + oy * S * cols;
        float *orow = o + oy * OW;
        long ox = 0;
        for (; ox + 16 <= OW; ox += 16) {
            __m256 a0 = dw_vec(bv, base + ox * S, cols, wv, K, S);
            __m256 a1 = dw_vec(bv, base + (ox + 8) * S, cols, wv, K, S);
            _mm256_storeu_ps(orow + ox, ck_v_act(a0, act));
            _mm256_storeu_ps(orow + ox + 8, ck_v_act(a1, act));
        }
        for (; ox < OW; ox += 8) {
            __m256 a0 = ck_v_act(dw_vec(bv, base + ox * S, cols, wv, K, S), act);
            if (ox + 8 <= OW) {
                _mm256_storeu_ps(orow + ox, a0);
            } else {
                float t[8];
                _mm256_storeu_ps(t, a0);
                memcpy(orow + ox, t, (size_t)(OW - ox) * sizeof(float));
            }
        }
        if (act->kind == CK_ACT_GELU)
            for (long x = 0; x < OW; x++) orow[x] = ck_act1(orow[x], act);
    }
}

#define DW_VARIANT(K, S) \
    CK_AVX2 __attribute__((noinline)) static void dw_##K##x##K##_s##S( \
        const float *P, long cols, const float *w, long OH, long OW, float bias, \
        const ck_activation *act, float *o) { dw_plane(P, cols, w, K, S, OH, OW, bias, act, o); }
DW_VARIANT(3, 1)
DW_VARIANT(3, 2)
DW_VARIANT(5, 1)
DW_VARIANT(5, 2)

CK_AVX2
int ck_depthwise_conv2d_avx2(long c0, long count, const ck_conv_geom *g, const float *in,
                             const float *w, const float *bias, const ck_activation *act,
                             float *out, float *scratch) {
    long K = g->kernel_h, S = g->stride_h;
    if (g->kernel_w != K || (K != 3 && K != 5) || g->stride_w != S || (S != 1 && S != 2) ||
        g->dilation_h != 1 || g->dilation_w != 1)
        return 0;
    long rows, cols;
    ck_dw_padded_size(g, &rows, &cols);
    const long OH = g->out_h, OW = g->out_w;
    for (long c = c0; c < c0 + count; c++) {
        ck_dw_pad_plane(g, in + c * g->in_h * g->in_w, scratch, rows, cols);
        const float *wc = w + c * K * K;
        float b = bias ? bias[c] : 0;
        float *o = out + c * OH * OW;
        if (K == 3 && S == 1) dw_3x3_s1(scratch, cols, wc, OH, OW, b, act, o);
        else if (K == 3) dw_3x3_s2(scratch, cols, wc, OH, OW, b, act, o);
        else if (S == 1) dw_5x5_s1(scratch, cols, wc, OH, OW, b, act, o);
        else dw_5x5_s2(scratch, cols, wc, OH, OW, b, act, o);
    }
    return 1;
}
#endif
