// CKernels: hot SIMD loops for EfficientTrack. Pointers, sizes and strides in; no allocation,
// no state. Every function has a portable fallback (generic/); the AVX2+FMA variants (x86/) are
// chosen at run time (dispatch.c), and on CPUs with AVX-512F the SGEMM macro-kernel (6×32 tiles
// over pairs of the same 16-column B panels), depthwise convolution and im2col packing use
// AVX-512 variants (x86/*avx512*, depthwise_avx2.c).
//
// Size letters: M, N, K are GEMM sizes (C[M×N] = A[M×K]·B[K×N]); C, H, W are channels and the
// spatial size of a batch-1 NCHW tensor; OH, OW the output spatial size.
#ifndef ETRACK_CKERNELS_H
#define ETRACK_CKERNELS_H

/// 1 when the running CPU has AVX2 and FMA (the fast x86 paths), else 0.
int ck_has_avx2_fma(void);

/// 1 when the running CPU has AVX-512F (and VL/BW/DQ) besides AVX2 and FMA, so the AVX-512 paths
/// (SGEMM micro-kernels, depthwise convolutions) run; 0 when not, or while a test hook forces the
/// AVX2 or the generic kernels.
int ck_has_avx512f(void);

/// Test hook: when `on` is non-zero the AVX-512 paths are skipped and the AVX2+FMA kernels run
/// (where the CPU has them), so x86 CI with AVX-512 checks both. Not thread-safe; set it only
/// while no kernel runs.
void ck_force_avx2(int on);

/// Test hook: when `on` is non-zero every entry point uses the portable generic kernels (the ones
/// Apple/arm64 builds run), so x86 CI can check them against the references too. Not thread-safe;
/// set it only while no kernel runs.
void ck_force_generic(int on);

// MARK: - Activations and epilogues

/// Activation kinds; the values mirror `ETCore.Activation`.
enum {
    CK_ACT_IDENTITY = 0,
    CK_ACT_RELU = 1,
    CK_ACT_CLIP = 2,         // min(max(x, p0), p1)
    CK_ACT_HARDSWISH = 3,    // x * min(max(x + 3, 0), 6) / 6
    CK_ACT_HARDSIGMOID = 4,  // min(max(p0 * x + p1, 0), 1)
    CK_ACT_SIGMOID = 5,      // 1 / (1 + exp(-x))
    CK_ACT_GELU = 6,         // 0.5 x (1 + erf(x / sqrt 2)): erff on the portable path, an erfc fit (< 1.2e-7 relative) on the vector paths
};

typedef struct {
    int kind;
    float p0, p1;
} ck_activation;

/// What a kernel does to its result before the store: add a bias, then apply an activation.
typedef struct {
    /// NULL, or the bias of the tile's first row (bias_per_row) or first column.
    const float *bias;
    int bias_per_row;
    ck_activation act;
} ck_epilogue;

/// x[i] = act(x[i]) for i < n, in place.
void ck_activate(float *x, long n, const ck_activation *act);
/// x[i] = act(x[i] + bias) for i < n, in place (one bias value for the whole run).
void ck_bias_activate(float *x, long n, float bias, const ck_activation *act);

// MARK: - Element-wise binary operations

enum { CK_BIN_ADD = 0, CK_BIN_SUB = 1, CK_BIN_MUL = 2, CK_BIN_DIV = 3, CK_BIN_MAX = 4, CK_BIN_MIN = 5 };

/// y[i] = act(a[i*inca] op b[i*incb]) for i < n. An increment of 0 broadcasts one value; y may
/// alias a or b when their increment is 1. MAX/MIN are (a > b ? a : b) / (a < b ? a : b).
void ck_binary(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
               const ck_activation *act);

// MARK: - SGEMM building blocks (GotoBLAS-style; blocking and threading live in Swift)

enum { CK_GEMM_MR = 6, CK_GEMM_NR = 16 };

/// Packs op(A)[i][p] = a[i*rs + p*cs] (i < mc, p < kc) into ceil(mc/6) panels of kc×6 floats,
/// rows past mc filled with zeros. pa needs ceil(mc/6)*6*kc floats.
void ck_sgemm_pack_a(long mc, long kc, const float *a, long rs, long cs, float *pa);

/// Packs op(B)[p][j] = b[p*rs + j*cs] (p < kc, j < nc) into ceil(nc/16) panels of kc×16 floats,
/// columns past nc filled with zeros. pb needs ceil(nc/16)*16*kc floats.
void ck_sgemm_pack_b(long kc, long nc, const float *b, long rs, long cs, float *pb);

/// C[mc×nc] (row stride ldc) = (load_c ? C : 0) + packedA·packedB, then, when ep is not NULL,
/// the epilogue (bias of row 0 / column 0 of this block, activation). kc may be 0.
/// pa: ceil(mc/6) panels of kc×6; pb: ceil(nc/16) panels of kc×16 (see the pack functions).
void ck_sgemm_macro(long mc, long nc, long kc, const float *pa, const float *pb,
                    float *c, long ldc, int load_c, const ck_epilogue *ep);

/// y[i*incy] = (load_y ? y[i*incy] : 0) + Σ_p a[i*lda + p] · x[p*incx]   (i < m, p < k)
/// A row-major matrix times a vector: dot products of contiguous rows. No epilogue.
void ck_sgemv_rows(long m, long k, const float *a, long lda, const float *x, long incx,
                   float *y, long incy, int load_y);

/// y[j] = (load_y ? y[j] : 0) + Σ_p x[p*incx] · b[p*ldb + j]   (j < n, p < k; y contiguous)
/// A vector times a row-major matrix: axpy over contiguous rows. No epilogue.
void ck_sgemv_cols(long n, long k, const float *x, long incx, const float *b, long ldb,
                   float *y, int load_y);

// MARK: - Convolution helpers

/// Geometry of one 2-D convolution (batch 1); pads may be asymmetric.
typedef struct {
    long in_h, in_w, out_h, out_w;
    long kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    long pad_top, pad_left;
} ck_conv_geom;

/// One block of the K×N im2col matrix of in[channels][H][W] (row p = (c*KH + ky)*KW + kx, column
/// oy*OW + ox), rows p0..p0+kc-1 and columns j0..j0+nc-1, written straight into the SGEMM's
/// packed-B layout (ceil(nc/16) panels of kc×16 floats, columns past nc zero), so the convolution
/// never materialises the whole im2col matrix. pb needs kc*ceil(nc/16)*16 floats.
void ck_im2col_pack_block(const ck_conv_geom *g, const float *in, long channels, long p0, long kc,
                          long j0, long nc, float *pb);

/// Floats of scratch ck_depthwise_conv2d needs (one zero-padded input plane).
long ck_depthwise_scratch_count(const ck_conv_geom *g);

/// Depthwise convolution, channels c0..c0+count-1 of in[C][H][W] → out[C][OH][OW], weights
/// w[C][KH][KW], optional bias[C], fused activation. Pointers are to channel 0. AVX2 paths for
/// square kernels 2..5 at stride 1 and 2 (no dilation); any geometry works through the generic path.
void ck_depthwise_conv2d(long c0, long count, const ck_conv_geom *g, const float *in,
                         const float *w, const float *bias, const ck_activation *act,
                         float *out, float *scratch);

/// Widest map (in 2-wide tiles) the Winograd transforms take: W <= 2*CK_WINO_MAX_TW.
#define CK_WINO_MAX_TW 128

/// Winograd F(2x2,3x3) input transform of channels c0..c0+count-1 of in[C][H][W] (pad 1): component
/// xi = 4i+j of Bᵀ·d·B for channel c and tile t (row-major, T = ceil(H/2)*ceil(W/2) tiles) goes to
/// v[xi*plane + c*T + t]. plane >= C*T; make it not a multiple of 1024 floats (4 KiB aliasing).
void ck_winograd23_input(const float *in, long c0, long count, long H, long W, float *v, long plane);

/// Winograd F(2x2,3x3) output transform: m[xi*plane + c*T + t] (the 16 GEMM products) →
/// out[c][OH][OW] for channels c0..c0+count-1, plus bias[c] (may be NULL) and the activation.
void ck_winograd23_output(const float *m, long plane, long c0, long count, long OH, long OW,
                          const float *bias, const ck_activation *act, float *out);

// MARK: - Row kernels

/// Softmax of scale·x over each of `rows` rows of `cols` floats (row stride ld), in place:
/// exp((x - max)·scale) / sum. scale > 0 (a Mul by a scalar folded in; 1 otherwise).
/// With inv_sums non-NULL the division is left out: rows hold exp((x - max)·scale) and
/// inv_sums[r] = 1/sum (attention divides its rows·V product instead, 10× fewer values).
void ck_softmax_rows(long rows, long cols, float *x, long ld, float scale, float *inv_sums);

/// y = (x - mean) / sqrt(var + eps) * gamma + beta over each row (gamma/beta may be NULL).
void ck_layernorm_rows(long rows, long cols, const float *x, long ldx, const float *gamma,
                       const float *beta, float eps, float *y, long ldy);

/// y[r] = mean of row r (`cols` floats, row stride ld).
void ck_mean_rows(long rows, long cols, const float *x, long ld, float *y);

// MARK: - Synchronisation helpers for the Swift thread pool (C11 atomics, sequentially consistent)

long ck_atomic_load(const long *p);
void ck_atomic_store(long *p, long v);
long ck_atomic_fetch_add(long *p, long v);
long ck_atomic_exchange(long *p, long v);
/// Compare-and-swap; returns 1 when *p was `expected` and is now `desired`.
int ck_atomic_cas(long *p, long expected, long desired);
/// A spin-wait hint (x86 `pause`).
void ck_cpu_relax(void);

#endif
