// Public entry points: pick the AVX-512 variant (where one exists) when the CPU has AVX-512F, else
// the AVX2+FMA variant when the CPU has it, else the generic one.
#include <stdatomic.h>
#include "internal.h"

static int force_generic = 0;
static int force_avx2 = 0;

void ck_force_generic(int on) { force_generic = on; }
void ck_force_avx2(int on) { force_avx2 = on; }

int ck_has_avx2_fma(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int cached = -1;
    if (force_generic) return 0;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
#else
    return 0;
#endif
}

int ck_has_avx512f(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int cached = -1;
    if (force_generic || force_avx2) return 0;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                 __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    }
    return cached;
#else
    return 0;
#endif
}

#if defined(__x86_64__)
#define CK_FAST ck_has_avx2_fma()
#else
#define CK_FAST 0
#endif

#if defined(__x86_64__)
#define CK_DISPATCH(name, ...) \
    do { if (CK_FAST) { name##_avx2(__VA_ARGS__); } else { name##_generic(__VA_ARGS__); } } while (0)
#else
#define CK_DISPATCH(name, ...) name##_generic(__VA_ARGS__)
#endif

void ck_sgemm_macro(long mc, long nc, long kc, const float *pa, const float *pb,
                    float *c, long ldc, int load_c, const ck_epilogue *ep) {
#if defined(__x86_64__)
    if (ck_has_avx512f()) {
        ck_sgemm_macro_avx512(mc, nc, kc, pa, pb, c, ldc, load_c, ep);
        return;
    }
#endif
    CK_DISPATCH(ck_sgemm_macro, mc, nc, kc, pa, pb, c, ldc, load_c, ep);
}

void ck_sgemv_rows(long m, long k, const float *a, long lda, const float *x, long incx,
                   float *y, long incy, int load_y) {
    CK_DISPATCH(ck_sgemv_rows, m, k, a, lda, x, incx, y, incy, load_y);
}

void ck_sgemv_cols(long n, long k, const float *x, long incx, const float *b, long ldb,
                   float *y, int load_y) {
    CK_DISPATCH(ck_sgemv_cols, n, k, x, incx, b, ldb, y, load_y);
}

void ck_activate(float *x, long n, const ck_activation *act) {
    if (act->kind == CK_ACT_IDENTITY) return;
    CK_DISPATCH(ck_activate, x, n, 0.0f, act);
}

void ck_bias_activate(float *x, long n, float bias, const ck_activation *act) {
    CK_DISPATCH(ck_activate, x, n, bias, act);
}

long ck_depthwise_scratch_count(const ck_conv_geom *g) {
    long rows, cols;
    ck_dw_padded_size(g, &rows, &cols);
    long n = rows * cols;
#if defined(__x86_64__)
    n = CK_MAX(n, ck_depthwise_scratch_count_avx2(g));
    n = CK_MAX(n, ck_depthwise_scratch_count_avx512(g));
#endif
    return n;
}

void ck_depthwise_conv2d(long c0, long count, const ck_conv_geom *g, const float *in,
                         const float *w, const float *bias, const ck_activation *act,
                         float *out, float *scratch) {
#if defined(__x86_64__)
    if (ck_has_avx512f() && ck_depthwise_conv2d_avx512(c0, count, g, in, w, bias, act, out, scratch)) return;
    if (CK_FAST && ck_depthwise_conv2d_avx2(c0, count, g, in, w, bias, act, out, scratch)) return;
#endif
    ck_depthwise_conv2d_generic(c0, count, g, in, w, bias, act, out, scratch);
}

void ck_im2col_pack_block(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                          long j0, long nc, float *pb) {
#if defined(__x86_64__)
    if (ck_has_avx512f()) {
        if (!ck_im2col_pack_block_s2_avx512(g, in, channels, p0, kc, j0, nc, pb))
            ck_im2col_pack_block_avx512(g, in, channels, p0, kc, j0, nc, pb);
        return;
    }
#endif
    CK_DISPATCH(ck_im2col_pack_block, g, in, channels, p0, kc, j0, nc, pb);
}

void ck_binary(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
               const ck_activation *act) {
    CK_DISPATCH(ck_binary, op, n, a, inca, b, incb, y, act);
}

void ck_sgemm_pack_a(long mc, long kc, const float *a, long rs, long cs, float *pa) {
    CK_DISPATCH(ck_sgemm_pack_a, mc, kc, a, rs, cs, pa);
}

void ck_winograd23_input(const float *in, long c0, long count, long H, long W, float *v, long plane) {
    CK_DISPATCH(ck_winograd23_input, in, c0, count, H, W, v, plane);
}

void ck_winograd23_output(const float *m, long plane, long c0, long count, long OH, long OW,
                          const float *bias, const ck_activation *act, float *out) {
    CK_DISPATCH(ck_winograd23_output, m, plane, c0, count, OH, OW, bias, act, out);
}

void ck_softmax_rows(long rows, long cols, float *x, long ld, float scale, float *inv_sums) {
#if defined(__x86_64__)
    if (ck_has_avx512f()) {
        ck_softmax_rows_avx512(rows, cols, x, ld, scale, inv_sums);
        return;
    }
#endif
    CK_DISPATCH(ck_softmax_rows, rows, cols, x, ld, scale, inv_sums);
}

void ck_layernorm_rows(long rows, long cols, const float *x, long ldx, const float *gamma,
                       const float *beta, float eps, float *y, long ldy) {
    CK_DISPATCH(ck_layernorm_rows, rows, cols, x, ldx, gamma, beta, eps, y, ldy);
}

void ck_mean_rows(long rows, long cols, const float *x, long ld, float *y) {
    CK_DISPATCH(ck_mean_rows, rows, cols, x, ld, y);
}

long ck_atomic_load(const long *p) {
    return atomic_load_explicit((const _Atomic long *)p, memory_order_seq_cst);
}

void ck_atomic_store(long *p, long v) {
    atomic_store_explicit((_Atomic long *)p, v, memory_order_seq_cst);
}

long ck_atomic_fetch_add(long *p, long v) {
    return atomic_fetch_add_explicit((_Atomic long *)p, v, memory_order_seq_cst);
}

long ck_atomic_exchange(long *p, long v) {
    return atomic_exchange_explicit((_Atomic long *)p, v, memory_order_seq_cst);
}

int ck_atomic_cas(long *p, long expected, long desired) {
    return atomic_compare_exchange_strong_explicit((_Atomic long *)p, &expected, desired,
                                                   memory_order_seq_cst, memory_order_seq_cst);
}

void ck_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
