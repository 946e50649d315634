// AVX-512 row kernels: softmax (the attention maps of the one-stream models: 16 lanes of exp).
#if defined(__x86_64__)
#include "simd_avx512.h"

CK_AVX512
void ck_softmax_rows_avx512(long rows, long cols, float *x, long ld, float scale, float *inv_sums) {
    const __m512 sc = _mm512_set1_ps(scale);
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        __m512 vm = _mm512_set1_ps(-INFINITY);
        for (long j = 0; j < cols; j += 16) {
            __mmask16 k = ck_mask16(cols - j);
            vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, row + j));
        }
        __m512 mv = _mm512_set1_ps(_mm512_reduce_max_ps(vm)), vs = _mm512_setzero_ps();
        for (long j = 0; j < cols; j += 16) {
            __mmask16 k = ck_mask16(cols - j);
            __m512 e = ck_v_exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, row + j), mv), sc));
            _mm512_mask_storeu_ps(row + j, k, e);
            vs = _mm512_mask_add_ps(vs, k, vs, e);
        }
        float sum = _mm512_reduce_add_ps(vs);
        if (inv_sums) { inv_sums[r] = 1.0f / sum; continue; }
        __m512 inv = _mm512_set1_ps(1.0f / sum);
        for (long j = 0; j < cols; j += 16) {
            __mmask16 k = ck_mask16(cols - j);
            _mm512_mask_storeu_ps(row + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, row + j), inv));
        }
    }
}
#endif
