// AVX-512F SGEMM macro-kernel on the same packed layouts as the AVX2 one (A in kc×6 panels,
// B in kc×16 panels). The main tile is 6×32 and reads two adjacent B panels (12 zmm
// accumulators; per k step 2 zmm loads of B, 6 broadcasts of A, 12 FMAs); an odd last column
// panel gets a 6×16 zmm tile. Same fused epilogue as the AVX2 kernel (bias per row or column,
// every activation, accumulate), edges by __mmask16 masks.
//
// tile512 also builds 12-row tiles (two A panels, 24 accumulators). Measured on the Zen 5 CI box
// (bench-kernels, 1 thread): 12×32 was as fast as 6×32 on square GEMMs (200-220 GFLOP/s both)
// and 0-7 % slower on the NanoTrack pointwise convolutions (K = 16..40), so only 6-row tiles
// are instantiated.
#if defined(__x86_64__)
#include "simd_avx512.h"

/// One MR×(16·NV) tile (MR = 6 or 12, NV = 1 or 2, compile-time constants after inlining):
/// C = (load_c ? C : 0) + A·B over kc, then the epilogue while the tile is in registers. Rows
/// 0..5 come from panel pa0, rows 6..11 from pa1; columns 0..15 from pb0, 16..31 from pb1.
/// Only the top-left mr×nr part of C (and of the bias) is read or written.
CK_AVX512_INLINE void tile512(long kc, const float *pa0, const float *pa1, const float *pb0, const float *pb1,
                              float *c, long ldc, long mr, long nr, int load_c, const ck_epilogue *ep,
                              const float *bias, const int MR, const int NV) {
    __m512 acc[12][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < 12; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(pb0);
        __m512 b1 = NV == 2 ? _mm512_loadu_ps(pb1) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            __m512 a = _mm512_set1_ps(r < 6 ? pa0[r] : pa1[r - 6]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            if (NV == 2) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
        pa0 += 6;
        if (MR == 12) pa1 += 6;
        pb0 += 16;
        if (NV == 2) pb1 += 16;
    }
    const int full = mr == MR && nr == 16 * NV;
    const __mmask16 m0 = ck_mask16(nr), m1 = ck_mask16(nr - 16);
#define CK_LD(p, m) (full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((m), (p)))
#define CK_ST(p, m, v) do { if (full) _mm512_storeu_ps((p), (v)); else _mm512_mask_storeu_ps((p), (m), (v)); } while (0)
    if (load_c) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            if (r >= mr) break;
            acc[r][0] = _mm512_add_ps(acc[r][0], CK_LD(c + r * ldc, m0));
            if (NV == 2) acc[r][1] = _mm512_add_ps(acc[r][1], CK_LD(c + r * ldc + 16, m1));
        }
    }
    if (ep) {
        if (bias) {
            if (ep->bias_per_row) {
#pragma clang loop unroll(full)
                for (int r = 0; r < MR; r++) {
                    if (r >= mr) break;
                    __m512 bi = _mm512_set1_ps(bias[r]);
                    acc[r][0] = _mm512_add_ps(acc[r][0], bi);
                    if (NV == 2) acc[r][1] = _mm512_add_ps(acc[r][1], bi);
                }
            } else {
                __m512 bv0 = CK_LD(bias, m0);
                __m512 bv1 = NV == 2 ? CK_LD(bias + 16, m1) : bv0;
#pragma clang loop unroll(full)
                for (int r = 0; r < MR; r++) {
                    acc[r][0] = _mm512_add_ps(acc[r][0], bv0);
                    if (NV == 2) acc[r][1] = _mm512_add_ps(acc[r][1], bv1);
                }
            }
        }
        switch (ep->act.kind) {
        case CK_ACT_IDENTITY: break;
        case CK_ACT_RELU: {
            __m512 z = _mm512_setzero_ps();
#pragma clang loop unroll(full)
            for (int r = 0; r < MR; r++) {
                acc[r][0] = _mm512_max_ps(acc[r][0], z);
                if (NV == 2) acc[r][1] = _mm512_max_ps(acc[r][1], z);
            }
            break;
        }
        default:
#pragma clang loop unroll(full)
            for (int r = 0; r < MR; r++) {
                acc[r][0] = ck_v_act512(acc[r][0], &ep->act);
                if (NV == 2) acc[r][1] = ck_v_act512(acc[r][1], &ep->act);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r >= mr) break;
        CK_ST(c + r * ldc, m0, acc[r][0]);
        if (NV == 2) CK_ST(c + r * ldc + 16, m1, acc[r][1]);
    }
#undef CK_LD
#undef CK_ST
}

// Full tiles (constant mr, nr) and edge tiles (masked), one out-of-line function each, so every
// instance gets its own register allocation and the full-tile loops stay small.
#define CK_TILE_FN(MR, NV) \
    CK_AVX512 __attribute__((noinline)) static void tile_##MR##x##NV( \
        long kc, const float *pa0, const float *pa1, const float *pb0, const float *pb1, float *c, long ldc, \
        int load_c, const ck_epilogue *ep, const float *bias) { \
        tile512(kc, pa0, pa1, pb0, pb1, c, ldc, MR, 16 * NV, load_c, ep, bias, MR, NV); \
    } \
    CK_AVX512 __attribute__((noinline)) static void edge_##MR##x##NV( \
        long kc, const float *pa0, const float *pa1, const float *pb0, const float *pb1, float *c, long ldc, \
        long mr, long nr, int load_c, const ck_epilogue *ep, const float *bias) { \
        tile512(kc, pa0, pa1, pb0, pb1, c, ldc, mr, nr, load_c, ep, bias, MR, NV); \
    }
CK_TILE_FN(6, 2)
CK_TILE_FN(6, 1)

/// The 6-row panels of one column block (NV = 1 or 2 B panels).
#define CK_ROWS(NV) \
    for (long i = 0; i < mc; i += 6) { \
        long mr = CK_MIN(6, mc - i); \
        const float *bi = bias ? (per_row ? bias + i : bias + j) : NULL; \
        const float *a0 = pa + i * kc; \
        if (mr == 6 && full_n) tile_6x##NV(kc, a0, a0, b0, b1, c + i * ldc + j, ldc, load_c, ep, bi); \
        else edge_6x##NV(kc, a0, a0, b0, b1, c + i * ldc + j, ldc, mr, nr, load_c, ep, bi); \
    }

CK_AVX512
void ck_sgemm_macro_avx512(long mc, long nc, long kc, const float *pa, const float *pb,
                           float *c, long ldc, int load_c, const ck_epilogue *ep) {
    const float *bias = ep ? ep->bias : NULL;
    int per_row = ep && ep->bias_per_row;
    for (long j = 0; j < nc; j += 32) {
        long nr = CK_MIN(32, nc - j);
        const float *b0 = pb + j * kc;
        if (nr > 16) {
            const float *b1 = b0 + 16 * kc;
            int full_n = nr == 32;
            CK_ROWS(2)
        } else {
            const float *b1 = b0;
            int full_n = nr == 16;
            CK_ROWS(1)
        }
    }
}
#undef CK_ROWS
#endif

#if defined(__x86_64__)
/// d[i] = s[i*stride] for i < n (n <= 16). Full pieces use plain loads when the floats they
/// cover are inside `limit`; partial ones masked loads, which read only the floats used
/// (masked-out lanes never fault).
CK_AVX512_INLINE void gather_avx512(float *d, const float *s, long n, long stride, const float *limit) {
    if (stride == 1) {
        if (n == 16) {
            _mm512_storeu_ps(d, _mm512_loadu_ps(s));
        } else {
            __mmask16 m = ck_mask16(n);
            _mm512_mask_storeu_ps(d, m, _mm512_maskz_loadu_ps(m, s));
        }
    } else if (stride == 2) {
        const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        if (n == 16 && s + 32 <= limit) {
            _mm512_storeu_ps(d, _mm512_permutex2var_ps(_mm512_loadu_ps(s), ie, _mm512_loadu_ps(s + 16)));
        } else {
            long used = 2 * n - 1;  // floats s[0 .. 2n-2]
            __m512 lo = _mm512_maskz_loadu_ps(ck_mask16(used), s);
            __m512 hi = _mm512_maskz_loadu_ps(ck_mask16(used - 16), s + 16);
            _mm512_mask_storeu_ps(d, ck_mask16(n), _mm512_permutex2var_ps(lo, ie, hi));
        }
    } else {
        for (long i = 0; i < n; i++) d[i] = s[i * stride];
    }
}
#define IM2COL_NAME ck_im2col_pack_block_avx512
#define IM2COL_EMIT im2col_emit_avx512
#define IM2COL_ATTR CK_AVX512
#define IM2COL_GATHER(d, s, n, stride, limit) gather_avx512(d, s, n, stride, limit)
#include "../im2col_packed.inc"

/// ck_im2col_pack_block for stride-2, undilated convolutions whose block is whole output rows of
/// a multiple of 16 columns (the patch-embedding stems at 256/128 input): every 16 outputs of a
/// row are two masked loads and one even-lane permute, with no per-piece bookkeeping. The masks
/// give the zero padding (masked lanes read nothing). Returns 0 when the geometry does not fit.
CK_AVX512 int ck_im2col_pack_block_s2_avx512(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                                             long j0, long nc, float *pb) {
    const long H = g->in_h, W = g->in_w, OW = g->out_w;
    const long KH = g->kernel_h, KW = g->kernel_w;
    if (g->stride_w != 2 || g->dilation_w != 1 || g->dilation_h != 1 || OW % 16 != 0 || j0 % OW != 0 || nc % OW != 0)
        return 0;
    (void)channels;
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const long rows = nc / OW, oy0 = j0 / OW;
    for (long p = p0; p < p0 + kc; p++) {
        long c = p / (KH * KW), t = p - c * KH * KW, ky = t / KW, kx = t - ky * KW;
        float *base = pb + (p - p0) * 16;
        long xoff = kx - g->pad_left;
        for (long r = 0; r < rows; r++) {
            long oy = oy0 + r;
            long iy = oy * g->stride_h - g->pad_top + ky;
            float *dst = base + (r * OW >> 4) * 16 * kc;
            if (iy < 0 || iy >= H) {
                for (long q = 0; q < OW; q += 16, dst += 16 * kc) _mm512_storeu_ps(dst, _mm512_setzero_ps());
                continue;
            }
            const float *row = in + (c * H + iy) * W;
            for (long q = 0; q < OW; q += 16, dst += 16 * kc) {
                long x0 = 2 * q + xoff;  // input column of lane 0; lanes read x0 .. x0+31
                __mmask16 mlo = 0xFFFF, mhi = 0xFFFF;
                if (x0 < 0) mlo = (__mmask16)(0xFFFFu << (-x0));
                if (x0 + 16 > W) mlo &= ck_mask16(W - x0);
                if (x0 + 32 > W) mhi = ck_mask16(W - x0 - 16);
                __m512 lo = _mm512_maskz_loadu_ps(mlo, row + x0), hi = _mm512_maskz_loadu_ps(mhi, row + x0 + 16);
                _mm512_storeu_ps(dst, _mm512_permutex2var_ps(lo, ie, hi));
            }
        }
    }
    return 1;
}
#endif
