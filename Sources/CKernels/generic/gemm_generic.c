// Portable SGEMM pieces: packing (used on every ISA) and the scalar macro-kernel fallback.
#include <string.h>
#include "../internal.h"

void ck_sgemm_pack_a_generic(long mc, long kc, const float *a, long rs, long cs, float *pa) {
    for (long i0 = 0; i0 < mc; i0 += CK_GEMM_MR) {
        long mr = CK_MIN(CK_GEMM_MR, mc - i0);
        const float *src = a + i0 * rs;
        if (cs == 1 && mr == CK_GEMM_MR) {
            // Row-major A: six row streams, contiguous along p.
            const float *r0 = src, *r1 = src + rs, *r2 = src + 2 * rs;
            const float *r3 = src + 3 * rs, *r4 = src + 4 * rs, *r5 = src + 5 * rs;
            for (long p = 0; p < kc; p++) {
                pa[0] = r0[p]; pa[1] = r1[p]; pa[2] = r2[p];
                pa[3] = r3[p]; pa[4] = r4[p]; pa[5] = r5[p];
                pa += CK_GEMM_MR;
            }
        } else if (rs == 1 && mr == CK_GEMM_MR) {
            // Transposed A: six contiguous values per p.
            for (long p = 0; p < kc; p++) {
                const float *s = src + p * cs;
                for (long i = 0; i < CK_GEMM_MR; i++) pa[i] = s[i];
                pa += CK_GEMM_MR;
            }
        } else {
            for (long p = 0; p < kc; p++) {
                long i = 0;
                for (; i < mr; i++) pa[i] = src[i * rs + p * cs];
                for (; i < CK_GEMM_MR; i++) pa[i] = 0;
                pa += CK_GEMM_MR;
            }
        }
    }
}

void ck_sgemm_pack_b(long kc, long nc, const float *b, long rs, long cs, float *pb) {
    if (cs == 1) {
        // Row-major B: read each source row once, left to right (one prefetch-friendly stream),
        // scattering 16-float pieces into the panels. Reading panel by panel instead touches kc
        // rows at once, which measured 2× slower for a 72×4096 B with a 16 KiB row stride.
        long full = nc / CK_GEMM_NR, rem = nc - full * CK_GEMM_NR;
        for (long p = 0; p < kc; p++) {
            const float *src = b + p * rs;
            float *dst = pb + p * CK_GEMM_NR;
            for (long jp = 0; jp < full; jp++) {
                memcpy(dst + jp * CK_GEMM_NR * kc, src + jp * CK_GEMM_NR, CK_GEMM_NR * sizeof(float));
            }
            if (rem) {
                float *d = dst + full * CK_GEMM_NR * kc;
                long j = 0;
                for (; j < rem; j++) d[j] = src[full * CK_GEMM_NR + j];
                for (; j < CK_GEMM_NR; j++) d[j] = 0;
            }
        }
        return;
    }
    for (long j0 = 0; j0 < nc; j0 += CK_GEMM_NR) {
        long nr = CK_MIN(CK_GEMM_NR, nc - j0);
        const float *src = b + j0 * cs;
        if (rs == 1 && nr == CK_GEMM_NR) {
            // Transposed B: 16 column streams, each contiguous along p.
            for (long p = 0; p < kc; p++) {
                for (long j = 0; j < CK_GEMM_NR; j++) pb[j] = src[j * cs + p];
                pb += CK_GEMM_NR;
            }
        } else {
            for (long p = 0; p < kc; p++) {
                long j = 0;
                for (; j < nr; j++) pb[j] = src[p * rs + j * cs];
                for (; j < CK_GEMM_NR; j++) pb[j] = 0;
                pb += CK_GEMM_NR;
            }
        }
    }
}

/// The scalar 6×16 micro-kernel: acc = packedA·packedB over kc, then C update and epilogue for
/// the top-left mr×nr part.
static void micro_generic(long kc, const float *pa, const float *pb, float *c, long ldc,
                          long mr, long nr, int load_c, const ck_epilogue *ep, long i0, long j0) {
    float acc[CK_GEMM_MR][CK_GEMM_NR];
    memset(acc, 0, sizeof(acc));
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < CK_GEMM_MR; i++) {
            float av = pa[i];
            for (int j = 0; j < CK_GEMM_NR; j++) acc[i][j] += av * pb[j];
        }
        pa += CK_GEMM_MR;
        pb += CK_GEMM_NR;
    }
    for (long i = 0; i < mr; i++) {
        for (long j = 0; j < nr; j++) {
            float v = acc[i][j];
            if (load_c) v += c[i * ldc + j];
            if (ep) {
                if (ep->bias) v += ep->bias_per_row ? ep->bias[i0 + i] : ep->bias[j0 + j];
                v = ck_act1(v, &ep->act);
            }
            c[i * ldc + j] = v;
        }
    }
}

void ck_sgemm_macro_generic(long mc, long nc, long kc, const float *pa, const float *pb,
                            float *c, long ldc, int load_c, const ck_epilogue *ep) {
    for (long j = 0; j < nc; j += CK_GEMM_NR) {
        long nr = CK_MIN(CK_GEMM_NR, nc - j);
        for (long i = 0; i < mc; i += CK_GEMM_MR) {
            long mr = CK_MIN(CK_GEMM_MR, mc - i);
            micro_generic(kc, pa + i * kc, pb + j * kc, c + i * ldc + j, ldc, mr, nr, load_c, ep, i, j);
        }
    }
}

void ck_sgemv_rows_generic(long m, long k, const float *a, long lda, const float *x, long incx,
                           float *y, long incy, int load_y) {
    for (long i = 0; i < m; i++) {
        float s = 0;
        for (long p = 0; p < k; p++) s += a[i * lda + p] * x[p * incx];
        y[i * incy] = load_y ? y[i * incy] + s : s;
    }
}

void ck_sgemv_cols_generic(long n, long k, const float *x, long incx, const float *b, long ldb,
                           float *y, int load_y) {
    if (!load_y) memset(y, 0, (size_t)n * sizeof(float));
    for (long p = 0; p < k; p++) {
        float xv = x[p * incx];
        const float *row = b + p * ldb;
        for (long j = 0; j < n; j++) y[j] += xv * row[j];
    }
}
