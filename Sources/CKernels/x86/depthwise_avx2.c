// AVX2+FMA depthwise convolution, square kernels 2..5 (NanoTrack: 3×3, 5×5; its head: 2×2 and a
// 4×4 cross-correlation) at stride 1 and 2, any padding.
//
// Each channel is copied into a zero-padded plane in scratch (zeroed once per call; only the
// input part is rewritten per channel), so the inner loops have no edge cases. Stride 2 splits
// the padded plane into even and odd columns (E, O) during that copy, which turns every tap into
// a plain unaligned load. Outputs are computed in blocks of 2 rows × 16 columns (4 accumulators)
// so each input vector loaded feeds up to 4 FMAs.
#if defined(__x86_64__)
#include <string.h>
#include "simd_avx2.h"

/// Plane geometry of the fast path: rows, and the row stride of P (stride 1) or of E and O.
static void fast_size(const ck_conv_geom *g, long *rows, long *cols) {
    long K = g->kernel_w, ow8 = (g->out_w + 7) / 8 * 8;
    *rows = (g->out_h - 1) * g->stride_h + g->kernel_h;
    *cols = g->stride_w == 1 ? ow8 + K - 1 : ow8 + (K - 1) / 2;
}

static int fast_handles(const ck_conv_geom *g) {
    long K = g->kernel_h, S = g->stride_h;
    return g->kernel_w == K && K >= 2 && K <= 5 && g->stride_w == S && (S == 1 || S == 2) &&
           g->dilation_h == 1 && g->dilation_w == 1;
}

long ck_depthwise_scratch_count_avx2(const ck_conv_geom *g) {
    if (!fast_handles(g)) return 0;
    long rows, cols;
    fast_size(g, &rows, &cols);
    return rows * cols * g->stride_w;
}

/// Stride 2: E[r][j] = P[r][2j], O[r][j] = P[r][2j+1], where P is the padded plane. Writes only
/// the entries that hold input (the same set for every channel).
CK_AVX2 static void split_plane(const ck_conv_geom *g, const float *in, float *E, float *O, long rows, long cols) {
    const long H = g->in_h, W = g->in_w, pl = g->pad_left;
    long r1 = CK_MIN(rows, g->pad_top + H);
    for (long r = g->pad_top; r < r1; r++) {
        const float *s = in + (r - g->pad_top) * W;   // P[r][x] = s[x - pl]
        float *e = E + r * cols, *o = O + r * cols;
        long j = 0;
        // Scalar until the 16-float window at s + 2j - pl is inside the row.
        for (; j < cols && 2 * j - pl < 0; j++) {
            long xe = 2 * j - pl, xo = xe + 1;
            if (xe >= 0 && xe < W) e[j] = s[xe];
            if (xo >= 0 && xo < W) o[j] = s[xo];
        }
        // Vector windows; the last one is moved back to end at the row's end (overlapping the
        // previous one), so at most one column is left to the scalar tail.
        long jlast = (W + pl - 16) >> 1;   // last j whose window fits (may be < j)
        if (jlast >= j) {
            for (long jv = j;; jv += 8) {
                if (jv > jlast) jv = jlast;
                if (jv + 8 > cols) break;
                __m256 lo = _mm256_loadu_ps(s + 2 * jv - pl), hi = _mm256_loadu_ps(s + 2 * jv - pl + 8);
                __m256 te = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
                __m256 to = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
                _mm256_storeu_ps(e + jv, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(te), _MM_SHUFFLE(3, 1, 2, 0))));
                _mm256_storeu_ps(o + jv, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(to), _MM_SHUFFLE(3, 1, 2, 0))));
                j = jv + 8;
                if (jv == jlast) break;
            }
        }
        for (; j < cols; j++) {
            long xe = 2 * j - pl, xo = xe + 1;
            if (xe >= 0 && xe < W) e[j] = s[xe];
            if (xo >= 0 && xo < W) o[j] = s[xo];
        }
    }
}

/// Stride 1: the input part of the padded plane (as ck_dw_pad_plane), with inline vector copies
/// instead of one memcpy call per row, which cost as much as the 5×5 arithmetic on 8×8 maps.
CK_AVX2 static void pad_plane(const ck_conv_geom *g, const float *in, float *p, long rows, long cols) {
    const long H = g->in_h, W = g->in_w, pl = g->pad_left;
    long x1 = CK_MIN(W, cols - pl);
    long r1 = CK_MIN(rows, g->pad_top + H);
    if (x1 <= 0) return;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(x1 & 7)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (long r = g->pad_top; r < r1; r++) {
        const float *s = in + (r - g->pad_top) * W;
        float *d = p + r * cols + pl;
        long x = 0;
        for (; x + 8 <= x1; x += 8) _mm256_storeu_ps(d + x, _mm256_loadu_ps(s + x));
        if (x < x1) _mm256_maskstore_ps(d + x, tail, _mm256_maskload_ps(s + x, tail));
    }
}

/// Tap kx of row r for outputs starting at ox: P[r][ox*S + kx] as 8 lanes.
CK_AVX2_INLINE __m256 tap(const float *E, const float *O, long cols, long r, long ox, int kx, int S) {
    if (S == 1) return _mm256_loadu_ps(E + r * cols + ox + kx);
    return _mm256_loadu_ps(((kx & 1) ? O : E) + r * cols + ox + kx / 2);
}

/// Rows oy..oy+R-1 (R ≤ 4) × columns ox..ox+8V-1 (V = 1 or 2). Input row r (relative to
/// oy*S) feeds output row q with ky = r - q*S, so each loaded vector serves up to R·V FMAs.
CK_AVX2_INLINE void dw_block(const float *E, const float *O, long cols, long oy, long ox, const float *w,
                             int K, int S, int R, int V, __m256 bias, const ck_activation *act,
                             float *o, long OW, long valid) {
    __m256 acc[4][2];
    for (int q = 0; q < R; q++) { acc[q][0] = bias; acc[q][1] = bias; }
    const long r0 = oy * S;
    for (int r = 0; r < K + (R - 1) * S; r++) {
        for (int kx = 0; kx < K; kx++) {
            __m256 x0 = tap(E, O, cols, r0 + r, ox, kx, S);
            __m256 x1 = V == 2 ? tap(E, O, cols, r0 + r, ox + 8, kx, S) : x0;
            for (int q = 0; q < R; q++) {
                int ky = r - q * S;
                if (ky < 0 || ky >= K) continue;
                __m256 wv = _mm256_broadcast_ss(w + ky * K + kx);
                acc[q][0] = _mm256_fmadd_ps(wv, x0, acc[q][0]);
                if (V == 2) acc[q][1] = _mm256_fmadd_ps(wv, x1, acc[q][1]);
            }
        }
    }
    if (V == 2) {
        for (int q = 0; q < R; q++) {
            float *d = o + (oy + q) * OW + ox;
            _mm256_storeu_ps(d, ck_v_act(acc[q][0], act));
            _mm256_storeu_ps(d + 8, ck_v_act(acc[q][1], act));
        }
    } else {
        // The last (possibly partial) vector of the row: store `valid` lanes.
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int q = 0; q < R; q++) _mm256_maskstore_ps(o + (oy + q) * OW + ox, m, ck_v_act(acc[q][0], act));
    }
}

/// Output rows in blocks of RB (then 1), columns in blocks of 8·VB (then 8).
#define DW_ROWS(RB, VB) \
    do { \
        for (; oy + (RB) <= OH; oy += (RB)) { \
            long ox = 0; \
            if ((VB) == 2) \
                for (; ox + 16 <= OW; ox += 16) dw_block(E, O, cols, oy, ox, w, K, S, (RB), 2, bv, act, o, OW, 16); \
            for (; ox < OW; ox += 8) dw_block(E, O, cols, oy, ox, w, K, S, (RB), 1, bv, act, o, OW, CK_MIN(8, OW - ox)); \
        } \
    } while (0)

CK_AVX2_INLINE void dw_plane(const float *E, const float *O, long cols, const float *w, int K, int S,
                             long OH, long OW, float bias, const ck_activation *act, float *o) {
    __m256 bv = _mm256_set1_ps(bias);
    long oy = 0;
    // 2 rows × 16 columns measured best on the dev box (4 rows × 8 was 30 % slower for 3×3).
    DW_ROWS(2, 2);
    DW_ROWS(1, 2);
}

#define DW_VARIANT(K, S) \
    CK_AVX2 __attribute__((noinline)) static void dw_##K##x##K##_s##S( \
        const float *E, const float *O, long cols, const float *w, long OH, long OW, float bias, \
        const ck_activation *act, float *o) { dw_plane(E, O, cols, w, K, S, OH, OW, bias, act, o); }
DW_VARIANT(2, 1)
DW_VARIANT(2, 2)
DW_VARIANT(3, 1)
DW_VARIANT(3, 2)
DW_VARIANT(4, 1)
DW_VARIANT(4, 2)
DW_VARIANT(5, 1)
DW_VARIANT(5, 2)

CK_AVX2
int ck_depthwise_conv2d_avx2(long c0, long count, const ck_conv_geom *g, const float *in,
                             const float *w, const float *bias, const ck_activation *act,
                             float *out, float *scratch) {
    if (!fast_handles(g)) return 0;
    const long K = g->kernel_h, S = g->stride_h, OH = g->out_h, OW = g->out_w;
    long rows, cols;
    fast_size(g, &rows, &cols);
    float *E = scratch, *O = scratch + rows * cols;
    memset(scratch, 0, (size_t)(rows * cols * S) * sizeof(float));
    for (long c = c0; c < c0 + count; c++) {
        const float *src = in + c * g->in_h * g->in_w;
        if (S == 1) pad_plane(g, src, E, rows, cols);
        else split_plane(g, src, E, O, rows, cols);
        const float *wc = w + c * K * K;
        float b = bias ? bias[c] : 0;
        float *o = out + c * OH * OW;
        switch (K * 10 + S) {
        case 21: dw_2x2_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 22: dw_2x2_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 31: dw_3x3_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 32: dw_3x3_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 41: dw_4x4_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 42: dw_4x4_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 51: dw_5x5_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        default: dw_5x5_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        }
    }
    return 1;
}
#endif

#if defined(__x86_64__)
/// d[i] = s[i*stride], with an AVX2 deinterleave for stride 2 when 16 floats past s are readable.
CK_AVX2_INLINE void gather_avx2(float *d, const float *s, long n, long stride, const float *limit) {
    long i = 0;
    if (stride == 1) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
        if (i < n) {
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            _mm256_maskstore_ps(d + i, m, _mm256_maskload_ps(s + i, m));
            return;
        }
    } else if (stride == 2) {
        for (; i < n && s + 2 * i + 16 <= limit; i += 8) {
            __m256 lo = _mm256_loadu_ps(s + 2 * i), hi = _mm256_loadu_ps(s + 2 * i + 8);
            __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
            t = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
            if (i + 8 <= n) {
                _mm256_storeu_ps(d + i, t);
            } else {
                __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                _mm256_maskstore_ps(d + i, m, t);
                return;
            }
        }
    }
    for (; i < n; i++) d[i] = s[i * stride];
}
#define IM2COL_NAME ck_im2col_pack_block_avx2
#define IM2COL_EMIT im2col_emit_avx2
#define IM2COL_ATTR CK_AVX2
#define IM2COL_GATHER(d, s, n, stride, limit) gather_avx2(d, s, n, stride, limit)
#include "../im2col_packed.inc"
#endif

// MARK: - AVX-512 variants (16 lanes), used when ck_has_avx512f() and the output is at least 12
// columns wide. Same padded planes (pad_plane / split_plane above) with rows of at least
// ceil(OW/16)·16 + taps columns; outputs in blocks of 4 rows × 32 columns (8 zmm accumulators),
// then 4 rows × 16, then 2 and 1 rows at the bottom; the row's last partial vector is stored
// through a __mmask16.
#if defined(__x86_64__)
#include "simd_avx512.h"

static void fast_size512(const ck_conv_geom *g, long *rows, long *cols) {
    long K = g->kernel_w, ow16 = (g->out_w + 15) / 16 * 16;
    *rows = (g->out_h - 1) * g->stride_h + g->kernel_h;
    *cols = g->stride_w == 1 ? ow16 + K - 1 : ow16 + (K - 1) / 2;
}

static int fast_handles512(const ck_conv_geom *g) { return fast_handles(g) && g->out_w >= 12; }

long ck_depthwise_scratch_count_avx512(const ck_conv_geom *g) {
    if (!fast_handles512(g)) return 0;
    long rows, cols;
    fast_size512(g, &rows, &cols);
    return rows * cols * g->stride_w;
}

/// split_plane with 16-lane deinterleaves (one permute per 16 outputs of E and of O).
CK_AVX512 static void split_plane512(const ck_conv_geom *g, const float *in, float *E, float *O, long rows, long cols) {
    const long H = g->in_h, W = g->in_w, pl = g->pad_left;
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    long r1 = CK_MIN(rows, g->pad_top + H);
    for (long r = g->pad_top; r < r1; r++) {
        const float *s = in + (r - g->pad_top) * W;   // P[r][x] = s[x - pl]
        float *e = E + r * cols, *o = O + r * cols;
        long j = 0;
        for (; j < cols && 2 * j - pl < 0; j++) {
            long xe = 2 * j - pl, xo = xe + 1;
            if (xe >= 0 && xe < W) e[j] = s[xe];
            if (xo >= 0 && xo < W) o[j] = s[xo];
        }
        long jlast = (W + pl - 32) >> 1;   // last j whose 32-float window fits (may be < j)
        if (jlast >= j) {
            for (long jv = j;; jv += 16) {
                if (jv > jlast) jv = jlast;
                if (jv + 16 > cols) break;
                __m512 lo = _mm512_loadu_ps(s + 2 * jv - pl), hi = _mm512_loadu_ps(s + 2 * jv - pl + 16);
                _mm512_storeu_ps(e + jv, _mm512_permutex2var_ps(lo, ie, hi));
                _mm512_storeu_ps(o + jv, _mm512_permutex2var_ps(lo, io, hi));
                j = jv + 16;
                if (jv == jlast) break;
            }
        }
        for (; j < cols; j++) {
            long xe = 2 * j - pl, xo = xe + 1;
            if (xe >= 0 && xe < W) e[j] = s[xe];
            if (xo >= 0 && xo < W) o[j] = s[xo];
        }
    }
}

CK_AVX512_INLINE __m512 tap512(const float *E, const float *O, long cols, long r, long ox, int kx, int S) {
    if (S == 1) return _mm512_loadu_ps(E + r * cols + ox + kx);
    return _mm512_loadu_ps(((kx & 1) ? O : E) + r * cols + ox + kx / 2);
}

/// Rows oy..oy+R-1 (R ≤ 4) × columns ox..ox+16V-1 (V = 1 or 2); as dw_block.
CK_AVX512_INLINE void dw_block512(const float *E, const float *O, long cols, long oy, long ox, const float *w,
                                  int K, int S, int R, int V, __m512 bias, const ck_activation *act,
                                  float *o, long OW, long valid) {
    __m512 acc[4][2];
    for (int q = 0; q < R; q++) { acc[q][0] = bias; acc[q][1] = bias; }
    const long r0 = oy * S;
    for (int r = 0; r < K + (R - 1) * S; r++) {
        for (int kx = 0; kx < K; kx++) {
            __m512 x0 = tap512(E, O, cols, r0 + r, ox, kx, S);
            __m512 x1 = V == 2 ? tap512(E, O, cols, r0 + r, ox + 16, kx, S) : x0;
            for (int q = 0; q < R; q++) {
                int ky = r - q * S;
                if (ky < 0 || ky >= K) continue;
                __m512 wv = _mm512_set1_ps(w[ky * K + kx]);
                acc[q][0] = _mm512_fmadd_ps(wv, x0, acc[q][0]);
                if (V == 2) acc[q][1] = _mm512_fmadd_ps(wv, x1, acc[q][1]);
            }
        }
    }
    if (V == 2) {
        for (int q = 0; q < R; q++) {
            float *d = o + (oy + q) * OW + ox;
            _mm512_storeu_ps(d, ck_v_act512(acc[q][0], act));
            _mm512_storeu_ps(d + 16, ck_v_act512(acc[q][1], act));
        }
    } else {
        __mmask16 m = ck_mask16(valid);
        for (int q = 0; q < R; q++) _mm512_mask_storeu_ps(o + (oy + q) * OW + ox, m, ck_v_act512(acc[q][0], act));
    }
}

#define DW_ROWS512(RB) \
    do { \
        for (; oy + (RB) <= OH; oy += (RB)) { \
            long ox = 0; \
            for (; ox + 32 <= OW; ox += 32) dw_block512(E, O, cols, oy, ox, w, K, S, (RB), 2, bv, act, o, OW, 32); \
            for (; ox < OW; ox += 16) dw_block512(E, O, cols, oy, ox, w, K, S, (RB), 1, bv, act, o, OW, CK_MIN(16, OW - ox)); \
        } \
    } while (0)

CK_AVX512_INLINE void dw_plane512(const float *E, const float *O, long cols, const float *w, int K, int S,
                                  long OH, long OW, float bias, const ck_activation *act, float *o) {
    __m512 bv = _mm512_set1_ps(bias);
    long oy = 0;
    // 4-row blocks: 8 independent FMA chains (4 on maps at most 16 wide), and each loaded input
    // vector feeds up to 4 rows. Measured against 2-row blocks: 5×5 s1 120ch @32 65 -> 49 µs,
    // 5×5 s2 72ch @64 67 -> 60 µs, head 3×3 @16 7.6 -> 5.9 µs, 3×3 @64-128 unchanged.
    DW_ROWS512(4);
    DW_ROWS512(2);
    DW_ROWS512(1);
}

#define DW_VARIANT512(K, S) \
    CK_AVX512 __attribute__((noinline)) static void dw512_##K##x##K##_s##S( \
        const float *E, const float *O, long cols, const float *w, long OH, long OW, float bias, \
        const ck_activation *act, float *o) { dw_plane512(E, O, cols, w, K, S, OH, OW, bias, act, o); }
DW_VARIANT512(2, 1)
DW_VARIANT512(2, 2)
DW_VARIANT512(3, 1)
DW_VARIANT512(3, 2)
DW_VARIANT512(4, 1)
DW_VARIANT512(4, 2)
DW_VARIANT512(5, 1)
DW_VARIANT512(5, 2)

CK_AVX512
int ck_depthwise_conv2d_avx512(long c0, long count, const ck_conv_geom *g, const float *in,
                               const float *w, const float *bias, const ck_activation *act,
                               float *out, float *scratch) {
    if (!fast_handles512(g)) return 0;
    const long K = g->kernel_h, S = g->stride_h, OH = g->out_h, OW = g->out_w;
    long rows, cols;
    fast_size512(g, &rows, &cols);
    float *E = scratch, *O = scratch + rows * cols;
    memset(scratch, 0, (size_t)(rows * cols * S) * sizeof(float));
    for (long c = c0; c < c0 + count; c++) {
        const float *src = in + c * g->in_h * g->in_w;
        if (S == 1) pad_plane(g, src, E, rows, cols);
        else split_plane512(g, src, E, O, rows, cols);
        const float *wc = w + c * K * K;
        float b = bias ? bias[c] : 0;
        float *o = out + c * OH * OW;
        switch (K * 10 + S) {
        case 21: dw512_2x2_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 22: dw512_2x2_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 31: dw512_3x3_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 32: dw512_3x3_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 41: dw512_4x4_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        case 42: dw512_4x4_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        case 51: dw512_5x5_s1(E, O, cols, wc, OH, OW, b, act, o); break;
        default: dw512_5x5_s2(E, O, cols, wc, OH, OW, b, act, o); break;
        }
    }
    return 1;
}
#endif
