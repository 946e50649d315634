// AVX2+FMA element-wise and row kernels: activations, softmax, LayerNorm, row means.
#if defined(__x86_64__)
#include "simd_avx2.h"

CK_AVX2
void ck_activate_avx2(float *x, long n, float bias, const ck_activation *act) {
    __m256 b = _mm256_set1_ps(bias);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(x + i), b);
        __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(x + i + 8), b);
        _mm256_storeu_ps(x + i, ck_v_act(v0, act));
        _mm256_storeu_ps(x + i + 8, ck_v_act(v1, act));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, ck_v_act(_mm256_add_ps(_mm256_loadu_ps(x + i), b), act));
    if (i < n) {
        // Tail through a buffer so sigmoid etc. use the same vector formula as the body.
        float t[8] = {0};
        for (long j = i; j < n; j++) t[j - i] = x[j];
        _mm256_storeu_ps(t, ck_v_act(_mm256_add_ps(_mm256_loadu_ps(t), b), act));
        for (long j = i; j < n; j++) x[j] = t[j - i];
    }
}

CK_AVX2
void ck_softmax_rows_avx2(long rows, long cols, float *x, long ld, float scale, float *inv_sums) {
    const __m256 sc = _mm256_set1_ps(scale);
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        long j = 0;
        __m256 vm = _mm256_set1_ps(-INFINITY);
        for (; j + 8 <= cols; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(row + j));
        float m = ck_v_hmax(vm);
        for (; j < cols; j++) m = row[j] > m ? row[j] : m;
        __m256 mv = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
        for (j = 0; j + 8 <= cols; j += 8) {
            __m256 e = ck_v_exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + j), mv), sc));
            _mm256_storeu_ps(row + j, e);
            vs = _mm256_add_ps(vs, e);
        }
        float s = ck_v_hsum(vs);
        if (j < cols) {
            float t[8] = {0};
            for (long q = j; q < cols; q++) t[q - j] = row[q];
            _mm256_storeu_ps(t, ck_v_exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(t), mv), sc)));
            for (long q = j; q < cols; q++) { row[q] = t[q - j]; s += t[q - j]; }
        }
        if (inv_sums) { inv_sums[r] = 1.0f / s; continue; }
        __m256 inv = _mm256_set1_ps(1.0f / s);
        for (j = 0; j + 8 <= cols; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv));
        for (; j < cols; j++) row[j] *= 1.0f / s;
    }
}

CK_AVX2
void ck_layernorm_rows_avx2(long rows, long cols, const float *x, long ldx, const float *gamma,
                            const float *beta, float eps, float *y, long ldy) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        long j = 0;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        for (; j + 16 <= cols; j += 16) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + j));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + j + 8));
        }
        float sum = ck_v_hsum(_mm256_add_ps(s0, s1));
        for (; j < cols; j++) sum += xr[j];
        float mean = sum / (float)cols;
        __m256 mv = _mm256_set1_ps(mean);
        s0 = _mm256_setzero_ps(); s1 = _mm256_setzero_ps();
        for (j = 0; j + 16 <= cols; j += 16) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + j), mv);
            __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 8), mv);
            s0 = _mm256_fmadd_ps(d0, d0, s0);
            s1 = _mm256_fmadd_ps(d1, d1, s1);
        }
        float var = ck_v_hsum(_mm256_add_ps(s0, s1));
        for (; j < cols; j++) { float d = xr[j] - mean; var += d * d; }
        var /= (float)cols;
        float inv = 1.0f / sqrtf(var + eps);
        __m256 iv = _mm256_set1_ps(inv);
        for (j = 0; j + 8 <= cols; j += 8) {
            __m256 o = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), mv), iv);
            if (gamma) o = _mm256_mul_ps(o, _mm256_loadu_ps(gamma + j));
            if (beta) o = _mm256_add_ps(o, _mm256_loadu_ps(beta + j));
            _mm256_storeu_ps(yr + j, o);
        }
        for (; j < cols; j++) {
            float o = (xr[j] - mean) * inv;
            if (gamma) o *= gamma[j];
            if (beta) o += beta[j];
            yr[j] = o;
        }
    }
}

CK_AVX2
void ck_mean_rows_avx2(long rows, long cols, const float *x, long ld, float *y) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ld;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        long j = 0;
        for (; j + 16 <= cols; j += 16) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + j));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + j + 8));
        }
        float s = ck_v_hsum(_mm256_add_ps(s0, s1));
        for (; j < cols; j++) s += xr[j];
        y[r] = s / (float)cols;
    }
}

CK_AVX2_INLINE __m256 bin8(int op, __m256 a, __m256 b) {
    switch (op) {
    case CK_BIN_ADD: return _mm256_add_ps(a, b);
    case CK_BIN_SUB: return _mm256_sub_ps(a, b);
    case CK_BIN_MUL: return _mm256_mul_ps(a, b);
    case CK_BIN_DIV: return _mm256_div_ps(a, b);
    case CK_BIN_MAX: return _mm256_blendv_ps(b, a, _mm256_cmp_ps(a, b, _CMP_GT_OQ));
    default: return _mm256_blendv_ps(b, a, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
    }
}

CK_AVX2_INLINE void binary_body(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
                                const ck_activation *act) {
    long i = 0;
    __m256 av = _mm256_set1_ps(a[0]), bv = _mm256_set1_ps(b[0]);
    for (; i + 8 <= n; i += 8) {
        __m256 x = inca ? _mm256_loadu_ps(a + i) : av, z = incb ? _mm256_loadu_ps(b + i) : bv;
        _mm256_storeu_ps(y + i, ck_v_act(bin8(op, x, z), act));
    }
    for (; i < n; i++) y[i] = ck_act1(ck_bin1(op, a[i * inca], b[i * incb]), act);
}

CK_AVX2
void ck_binary_avx2(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
                    const ck_activation *act) {
    if (n <= 0) return;
    if ((inca != 0 && inca != 1) || (incb != 0 && incb != 1)) {
        ck_binary_generic(op, n, a, inca, b, incb, y, act);
        return;
    }
    // One instance per op keeps the switch out of the loop.
    switch (op) {
    case CK_BIN_ADD: binary_body(CK_BIN_ADD, n, a, inca, b, incb, y, act); break;
    case CK_BIN_SUB: binary_body(CK_BIN_SUB, n, a, inca, b, incb, y, act); break;
    case CK_BIN_MUL: binary_body(CK_BIN_MUL, n, a, inca, b, incb, y, act); break;
    case CK_BIN_DIV: binary_body(CK_BIN_DIV, n, a, inca, b, incb, y, act); break;
    case CK_BIN_MAX: binary_body(CK_BIN_MAX, n, a, inca, b, incb, y, act); break;
    default: binary_body(CK_BIN_MIN, n, a, inca, b, incb, y, act); break;
    }
}
#endif
