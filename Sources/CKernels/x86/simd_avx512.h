// AVX-512 vocabulary shared by the x86 AVX-512 kernels. Include only from x86/*.c. Every function
// carries the target attribute (no global flags); callers pick these paths only when
// ck_has_avx512f() says the CPU has them.
#ifndef ETRACK_CKERNELS_SIMD_AVX512_H
#define ETRACK_CKERNELS_SIMD_AVX512_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "../internal.h"

#define CK_AVX512_TARGET "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"
#define CK_AVX512 __attribute__((target(CK_AVX512_TARGET)))
#define CK_AVX512_INLINE static inline __attribute__((target(CK_AVX512_TARGET), always_inline))

/// Lanes 0..n-1 set (n clamped to 0..16).
CK_AVX512_INLINE __mmask16 ck_mask16(long n) {
    return n >= 16 ? (__mmask16)0xFFFF : (n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1));
}

/// exp(x) on 16 lanes: the same formula and constants as ck_v_exp (AVX2), so both paths agree.
CK_AVX512_INLINE __m512 ck_v_exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 · 2^23
    __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000)), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

/// GELU on 16 lanes: the same formula and constants as ck_v_gelu (AVX2).
CK_AVX512_INLINE __m512 ck_v_gelu512(__m512 x) {
    __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(0.5f), z, _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(0.17087277f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
    __m512 erfc = _mm512_mul_ps(t, ck_v_exp512(_mm512_fnmadd_ps(z, z, p)));
    __m512 pos = _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc);
    __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));
    __m512 f = _mm512_mask_blend_ps(neg, pos, erfc);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), f);
}

/// The activation on 16 lanes, as ck_v_act.
CK_AVX512_INLINE __m512 ck_v_act512(__m512 x, const ck_activation *a) {
    switch (a->kind) {
    case CK_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
    case CK_ACT_CLIP:
        return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(a->p0)), _mm512_set1_ps(a->p1));
    case CK_ACT_HARDSWISH: {
        __m512 r = _mm512_add_ps(x, _mm512_set1_ps(3.0f));
        r = _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
        return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.0f / 6.0f));
    }
    case CK_ACT_HARDSIGMOID: {
        __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(a->p0), x, _mm512_set1_ps(a->p1));
        return _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
    }
    case CK_ACT_SIGMOID: {
        __m512 e = ck_v_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
        return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    }
    case CK_ACT_GELU: return ck_v_gelu512(x);
    default: return x;
    }
}

#endif
#endif
