// Winograd F(2x2,3x3) transforms for AVX2+FMA. Maps whose width is a multiple of 16 (8 tiles = one
// vector) are transformed in registers; other widths use the shared body in ../winograd.inc.
#if defined(__x86_64__)
#include "simd_avx2.h"

#define WINO_ATTR CK_AVX2
#define WINO_SPLIT wino_split_avx2
#define WINO_COLS wino_cols_avx2
#define WINO_ROWS wino_rows_avx2
#define WINO_INPUT wino_input_any_avx2
#define WINO_OUTPUT wino_output_any_avx2
#include "../winograd.inc"

// For 16 input columns x0..x0+15 of one row (NULL: a zero row), the four column vectors the 8 tiles
// there need: a[k] = in[x0+2k-1], b[k] = in[x0+2k], c[k] = in[x0+2k+1], d[k] = in[x0+2k+2].
CK_AVX2 static inline void wino_row16(const float *row, long x0, long W, __m256 *a, __m256 *b, __m256 *c, __m256 *d) {
    if (!row) {
        *a = *b = *c = *d = _mm256_setzero_ps();
        return;
    }
    __m256 lo = _mm256_loadu_ps(row + x0), hi = _mm256_loadu_ps(row + x0 + 8);
    __m256 ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    __m256 od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
    float prev = x0 > 0 ? row[x0 - 1] : 0.0f, next = x0 + 16 < W ? row[x0 + 16] : 0.0f;
    __m256 od_r = _mm256_permutevar8x32_ps(od, _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6));
    __m256 ev_l = _mm256_permutevar8x32_ps(ev, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0));
    *a = _mm256_blend_ps(od_r, _mm256_set1_ps(prev), 0x01);
    *b = ev;
    *c = od;
    *d = _mm256_blend_ps(ev_l, _mm256_set1_ps(next), 0x80);
}

CK_AVX2 void ck_winograd23_input_avx2(const float *in, long c0, long count, long H, long W, float *v, long plane) {
    if (W % 16 != 0) {
        wino_input_any_avx2(in, c0, count, H, W, v, plane);
        return;
    }
    const long th = (H + 1) / 2, tw = W / 2, T = th * tw;
    for (long ch = c0; ch < c0 + count; ch++) {
        const float *img = in + ch * H * W;
        for (long ty = 0; ty < th; ty++) {
            const float *rows[4];
            for (int r = 0; r < 4; r++) {
                long y = 2 * ty + r - 1;
                rows[r] = y >= 0 && y < H ? img + y * W : NULL;
            }
            for (long x0 = 0; x0 < W; x0 += 16) {
                __m256 a[4], b[4], c[4], d[4];
                for (int r = 0; r < 4; r++) wino_row16(rows[r], x0, W, &a[r], &b[r], &c[r], &d[r]);
                // Bᵀ·d over the 4 rows, for each of the 4 column vectors.
                __m256 ta[4] = {_mm256_sub_ps(a[0], a[2]), _mm256_add_ps(a[1], a[2]), _mm256_sub_ps(a[2], a[1]), _mm256_sub_ps(a[1], a[3])};
                __m256 tb[4] = {_mm256_sub_ps(b[0], b[2]), _mm256_add_ps(b[1], b[2]), _mm256_sub_ps(b[2], b[1]), _mm256_sub_ps(b[1], b[3])};
                __m256 tc[4] = {_mm256_sub_ps(c[0], c[2]), _mm256_add_ps(c[1], c[2]), _mm256_sub_ps(c[2], c[1]), _mm256_sub_ps(c[1], c[3])};
                __m256 td[4] = {_mm256_sub_ps(d[0], d[2]), _mm256_add_ps(d[1], d[2]), _mm256_sub_ps(d[2], d[1]), _mm256_sub_ps(d[1], d[3])};
                float *dst = v + ch * T + ty * tw + x0 / 2;
                for (int i = 0; i < 4; i++) {
                    // ·B across the columns.
                    _mm256_storeu_ps(dst + (4 * i + 0) * plane, _mm256_sub_ps(ta[i], tc[i]));
                    _mm256_storeu_ps(dst + (4 * i + 1) * plane, _mm256_add_ps(tb[i], tc[i]));
                    _mm256_storeu_ps(dst + (4 * i + 2) * plane, _mm256_sub_ps(tc[i], tb[i]));
                    _mm256_storeu_ps(dst + (4 * i + 3) * plane, _mm256_sub_ps(tb[i], td[i]));
                }
            }
        }
    }
}

CK_AVX2 void ck_winograd23_output_avx2(const float *m, long plane, long c0, long count, long OH, long OW,
                                       const float *bias, const ck_activation *act, float *out) {
    if (OW % 16 != 0) {
        wino_output_any_avx2(m, plane, c0, count, OH, OW, bias, act, out);
        return;
    }
    const long th = (OH + 1) / 2, tw = OW / 2, T = th * tw;
    for (long ch = c0; ch < c0 + count; ch++) {
        float *o = out + ch * OH * OW;
        for (long ty = 0; ty < th; ty++) {
            long oy = 2 * ty;
            for (long x = 0; x < tw; x += 8) {
                const float *s = m + ch * T + ty * tw + x;
                __m256 q[16];
                for (int k = 0; k < 16; k++) q[k] = _mm256_loadu_ps(s + k * plane);
                // Aᵀ·M·A with Aᵀ = [1 1 1 0; 0 1 -1 -1].
                __m256 s0 = _mm256_add_ps(_mm256_add_ps(q[0], q[4]), q[8]), s1 = _mm256_add_ps(_mm256_add_ps(q[1], q[5]), q[9]);
                __m256 s2 = _mm256_add_ps(_mm256_add_ps(q[2], q[6]), q[10]), s3 = _mm256_add_ps(_mm256_add_ps(q[3], q[7]), q[11]);
                __m256 r0 = _mm256_sub_ps(_mm256_sub_ps(q[4], q[8]), q[12]), r1 = _mm256_sub_ps(_mm256_sub_ps(q[5], q[9]), q[13]);
                __m256 r2 = _mm256_sub_ps(_mm256_sub_ps(q[6], q[10]), q[14]), r3 = _mm256_sub_ps(_mm256_sub_ps(q[7], q[11]), q[15]);
                __m256 y0 = _mm256_add_ps(_mm256_add_ps(s0, s1), s2), y1 = _mm256_sub_ps(_mm256_sub_ps(s1, s2), s3);
                __m256 y2 = _mm256_add_ps(_mm256_add_ps(r0, r1), r2), y3 = _mm256_sub_ps(_mm256_sub_ps(r1, r2), r3);
                // Interleave (y0, y1) into output row oy and (y2, y3) into row oy+1.
                __m256 l0 = _mm256_unpacklo_ps(y0, y1), h0 = _mm256_unpackhi_ps(y0, y1);
                float *row0 = o + oy * OW + 2 * x;
                _mm256_storeu_ps(row0, _mm256_permute2f128_ps(l0, h0, 0x20));
                _mm256_storeu_ps(row0 + 8, _mm256_permute2f128_ps(l0, h0, 0x31));
                if (oy + 1 < OH) {
                    __m256 l1 = _mm256_unpacklo_ps(y2, y3), h1 = _mm256_unpackhi_ps(y2, y3);
                    float *row1 = row0 + OW;
                    _mm256_storeu_ps(row1, _mm256_permute2f128_ps(l1, h1, 0x20));
                    _mm256_storeu_ps(row1 + 8, _mm256_permute2f128_ps(l1, h1, 0x31));
                }
            }
        }
        ck_bias_activate(o, OH * OW, bias ? bias[ch] : 0.0f, act);
    }
}
#endif
