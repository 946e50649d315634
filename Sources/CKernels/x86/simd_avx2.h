// AVX2+FMA vocabulary shared by the x86 kernels. Include only from x86/*.c.
#ifndef ETRACK_CKERNELS_SIMD_AVX2_H
#define ETRACK_CKERNELS_SIMD_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "../internal.h"

#define CK_AVX2 __attribute__((target("avx2,fma")))
#define CK_AVX2_INLINE static inline __attribute__((target("avx2,fma"), always_inline))

/// exp(x), Cephes-style: n = round(x·log2 e) by the magic-number trick, Cody–Waite reduction,
/// degree-5 polynomial. About 1e-7 relative error over [-87.3, 88.3]; inputs are clamped there.
CK_AVX2_INLINE __m256 ck_v_exp(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);  // 1.5 · 2^23
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000)), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

/// GELU 0.5·x·(1 + erf(x/√2)) on 8 lanes. erfc(z), z = |x|/√2, by the Chebyshev fit of Numerical
/// Recipes (§6.2, fractional error < 1.2e-7 for every z); then 0.5·x·erfc(z) for x < 0 (no
/// cancellation in 1 + erf) and 0.5·x·(2 − erfc(z)) otherwise.
CK_AVX2_INLINE __m256 ck_v_gelu(__m256 x) {
    __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(0.70710678118654752f));
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.5f), z, _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(0.17087277f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
    __m256 erfc = _mm256_mul_ps(t, ck_v_exp(_mm256_fnmadd_ps(z, z, p)));
    __m256 pos = _mm256_sub_ps(_mm256_set1_ps(2.0f), erfc);
    __m256 f = _mm256_blendv_ps(pos, erfc, x);  // sign bit of x picks erfc
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), f);
}

/// The activation on 8 lanes.
CK_AVX2_INLINE __m256 ck_v_act(__m256 x, const ck_activation *a) {
    switch (a->kind) {
    case CK_ACT_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case CK_ACT_CLIP:
        return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(a->p0)), _mm256_set1_ps(a->p1));
    case CK_ACT_HARDSWISH: {
        __m256 r = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
        r = _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
        return _mm256_mul_ps(_mm256_mul_ps(x, r), _mm256_set1_ps(1.0f / 6.0f));
    }
    case CK_ACT_HARDSIGMOID: {
        __m256 r = _mm256_fmadd_ps(_mm256_set1_ps(a->p0), x, _mm256_set1_ps(a->p1));
        return _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    }
    case CK_ACT_SIGMOID: {
        __m256 e = ck_v_exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
        return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    case CK_ACT_GELU: return ck_v_gelu(x);
    default: return x;
    }
}

CK_AVX2_INLINE float ck_v_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

CK_AVX2_INLINE float ck_v_hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#endif
#endif
