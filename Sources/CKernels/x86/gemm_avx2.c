// AVX2+FMA SGEMM macro-kernel (6×16 micro-tiles, 12 ymm accumulators) and GEMV kernels.
#if defined(__x86_64__)
#include "simd_avx2.h"

/// One 6×16 tile: C = (load_c ? C : 0) + A·B over kc, then the epilogue (bias already offset to
/// this tile's first row/column) while the tile is still in registers. Only the top-left mr×nr
/// part of C (and of the bias) is read or written: rows by test, columns by AVX masks. The full
/// instance (mr = 6, nr = 16 as constants) compiles to plain unmasked loads and stores.
CK_AVX2_INLINE void micro_tile(long kc, const float *pa, const float *pb, float *c, long ldc,
                               long mr, long nr, int load_c, const ck_epilogue *ep, const float *bias) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
        __m256 a;
        a = _mm256_broadcast_ss(pa + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(pa + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(pa + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(pa + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(pa + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(pa + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        pa += 6;
        pb += 16;
    }
    __m256 r[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    const int full = mr == 6 && nr == 16;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nr - 8), lane);
#define CK_LD(p, m) (full ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), (m)))
#define CK_ST(p, m, v) do { if (full) _mm256_storeu_ps((p), (v)); else _mm256_maskstore_ps((p), (m), (v)); } while (0)
    if (load_c) {
        for (int i = 0; i < 6; i++) {
            if (i >= mr) break;
            r[2 * i] = _mm256_add_ps(r[2 * i], CK_LD(c + i * ldc, m0));
            r[2 * i + 1] = _mm256_add_ps(r[2 * i + 1], CK_LD(c + i * ldc + 8, m1));
        }
    }
    if (ep) {
        if (bias) {
            if (ep->bias_per_row) {
                for (int i = 0; i < 6; i++) {
                    if (i >= mr) break;
                    __m256 bi = _mm256_broadcast_ss(bias + i);
                    r[2 * i] = _mm256_add_ps(r[2 * i], bi);
                    r[2 * i + 1] = _mm256_add_ps(r[2 * i + 1], bi);
                }
            } else {
                __m256 b0 = CK_LD(bias, m0), b1 = CK_LD(bias + 8, m1);
                for (int i = 0; i < 6; i++) {
                    r[2 * i] = _mm256_add_ps(r[2 * i], b0);
                    r[2 * i + 1] = _mm256_add_ps(r[2 * i + 1], b1);
                }
            }
        }
        switch (ep->act.kind) {
        case CK_ACT_IDENTITY: break;
        case CK_ACT_RELU: {
            __m256 z = _mm256_setzero_ps();
            for (int i = 0; i < 12; i++) r[i] = _mm256_max_ps(r[i], z);
            break;
        }
        default:
            for (int i = 0; i < 12; i++) r[i] = ck_v_act(r[i], &ep->act);
        }
    }
    for (int i = 0; i < 6; i++) {
        if (i >= mr) break;
        CK_ST(c + i * ldc, m0, r[2 * i]);
        CK_ST(c + i * ldc + 8, m1, r[2 * i + 1]);
    }
#undef CK_LD
#undef CK_ST
}

/// Edge tiles (mr < 6 or nr < 16), out of line so the full-tile loop stays small.
CK_AVX2 __attribute__((noinline))
static void micro_edge(long kc, const float *pa, const float *pb, float *c, long ldc, long mr, long nr,
                       int load_c, const ck_epilogue *ep, const float *bias) {
    micro_tile(kc, pa, pb, c, ldc, mr, nr, load_c, ep, bias);
}

CK_AVX2
void ck_sgemm_macro_avx2(long mc, long nc, long kc, const float *pa, const float *pb,
                         float *c, long ldc, int load_c, const ck_epilogue *ep) {
    const float *bias = ep ? ep->bias : NULL;
    int per_row = ep && ep->bias_per_row;
    for (long j = 0; j < nc; j += 16) {
        long nr = CK_MIN(16, nc - j);
        const float *bp = pb + j * kc;
        for (long i = 0; i < mc; i += 6) {
            long mr = CK_MIN(6, mc - i);
            const float *bi = bias ? (per_row ? bias + i : bias + j) : NULL;
            if (mr == 6 && nr == 16)
                micro_tile(kc, pa + i * kc, bp, c + i * ldc + j, ldc, 6, 16, load_c, ep, bi);
            else
                micro_edge(kc, pa + i * kc, bp, c + i * ldc + j, ldc, mr, nr, load_c, ep, bi);
        }
    }
}

CK_AVX2
void ck_sgemv_rows_avx2(long m, long k, const float *a, long lda, const float *x, long incx,
                        float *y, long incy, int load_y) {
    if (incx != 1) {
        ck_sgemv_rows_generic(m, k, a, lda, x, incx, y, incy, load_y);
        return;
    }
    for (long i = 0; i < m; i++) {
        const float *r = a + i * lda;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        long p = 0;
        for (; p + 32 <= k; p += 32) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + p), _mm256_loadu_ps(x + p), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + p + 8), _mm256_loadu_ps(x + p + 8), s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + p + 16), _mm256_loadu_ps(x + p + 16), s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + p + 24), _mm256_loadu_ps(x + p + 24), s3);
        }
        for (; p + 8 <= k; p += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + p), _mm256_loadu_ps(x + p), s0);
        float s = ck_v_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        for (; p < k; p++) s += r[p] * x[p];
        y[i * incy] = load_y ? y[i * incy] + s : s;
    }
}

CK_AVX2
void ck_sgemv_cols_avx2(long n, long k, const float *x, long incx, const float *b, long ldb,
                        float *y, int load_y) {
    // Blocks of 32 columns of y stay in registers across all k rows.
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 s0, s1, s2, s3;
        if (load_y) {
            s0 = _mm256_loadu_ps(y + j); s1 = _mm256_loadu_ps(y + j + 8);
            s2 = _mm256_loadu_ps(y + j + 16); s3 = _mm256_loadu_ps(y + j + 24);
        } else {
            s0 = s1 = s2 = s3 = _mm256_setzero_ps();
        }
        for (long p = 0; p < k; p++) {
            __m256 xv = _mm256_broadcast_ss(x + p * incx);
            const float *r = b + p * ldb + j;
            s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r), s0);
            s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 8), s1);
            s2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 16), s2);
            s3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 24), s3);
        }
        _mm256_storeu_ps(y + j, s0); _mm256_storeu_ps(y + j + 8, s1);
        _mm256_storeu_ps(y + j + 16, s2); _mm256_storeu_ps(y + j + 24, s3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 s0 = load_y ? _mm256_loadu_ps(y + j) : _mm256_setzero_ps();
        for (long p = 0; p < k; p++)
            s0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + p * incx), _mm256_loadu_ps(b + p * ldb + j), s0);
        _mm256_storeu_ps(y + j, s0);
    }
    for (; j < n; j++) {
        float s = load_y ? y[j] : 0;
        for (long p = 0; p < k; p++) s += x[p * incx] * b[p * ldb + j];
        y[j] = s;
    }
}
/// ck_sgemm_pack_a for row-major A (cs == 1): 8 columns of the 6 rows at a time, transposed in
/// registers (an 8×8 transpose with two zero rows) and stored as eight 6-float groups; the
/// scalar gather of the portable version was 7% of a one-stream network (activations are
/// packed on every call). Other layouts take the portable code.
CK_AVX2 void ck_sgemm_pack_a_avx2(long mc, long kc, const float *a, long rs, long cs, float *pa) {
    if (cs != 1 || kc < 8) {
        ck_sgemm_pack_a_generic(mc, kc, a, rs, cs, pa);
        return;
    }
    for (long i0 = 0; i0 < mc; i0 += CK_GEMM_MR) {
        long mr = CK_MIN(CK_GEMM_MR, mc - i0);
        const float *src = a + i0 * rs;
        if (mr < CK_GEMM_MR) {
            ck_sgemm_pack_a_generic(mr, kc, src, rs, cs, pa);
            pa += CK_GEMM_MR * kc;
            continue;
        }
        const float *r0 = src, *r1 = src + rs, *r2 = src + 2 * rs, *r3 = src + 3 * rs, *r4 = src + 4 * rs, *r5 = src + 5 * rs;
        long p = 0;
        const __m256 z = _mm256_setzero_ps();
        for (; p + 8 <= kc; p += 8) {
            __m256 x0 = _mm256_loadu_ps(r0 + p), x1 = _mm256_loadu_ps(r1 + p), x2 = _mm256_loadu_ps(r2 + p);
            __m256 x3 = _mm256_loadu_ps(r3 + p), x4 = _mm256_loadu_ps(r4 + p), x5 = _mm256_loadu_ps(r5 + p);
            __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
            __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
            __m256 t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5);
            __m256 t6 = _mm256_unpacklo_ps(z, z), t7 = t6;
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            // Column q of the 8 (rows 0..5 in lanes 0..5 of c[q]).
            __m256 c[8] = {
                _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31),
            };
            // Each 8-float store spills 2 floats into the next group, which the next store
            // overwrites; the last one of the block stores 4 + 2 through a 128-bit and a 64-bit store.
            for (int q = 0; q < 7; q++) _mm256_storeu_ps(pa + q * 6, c[q]);
            _mm_storeu_ps(pa + 42, _mm256_castps256_ps128(c[7]));
            _mm_storel_pi((__m64 *)(pa + 46), _mm256_extractf128_ps(c[7], 1));
            pa += 48;
        }
        for (; p < kc; p++) {
            pa[0] = r0[p]; pa[1] = r1[p]; pa[2] = r2[p]; pa[3] = r3[p]; pa[4] = r4[p]; pa[5] = r5[p];
            pa += CK_GEMM_MR;
        }
    }
}

#endif
