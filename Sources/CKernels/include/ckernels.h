// CKernels: hot SIMD loops for EfficientTrack. Pointers, sizes and strides in; no allocation,
// no state. Every function has a portable fallback; x86 variants are chosen at run time.
#ifndef ETRACK_CKERNELS_H
#define ETRACK_CKERNELS_H

/// 1 when the running CPU has AVX2 and FMA (the fast x86 paths), else 0.
int ck_has_avx2_fma(void);

#endif
