import CKernels

/// The fast kernels the engine calls. Each has a plain twin in `ReferenceKernels` with the
/// same signature, and tests compare the two at awkward sizes.
///
/// Kernels take raw pointers, sizes and strides only: no allocation on the hot path (per-thread
/// packing buffers are created once per thread), no errors, no tensor types. The loops are C
/// (CKernels: AVX-512 / AVX2+FMA with runtime dispatch, portable fallback); blocking and threading
/// are here.
public enum Kernels {
    /// C[m×n] = (accumulate ? C : 0) + op(A)·op(B) (+ bias) then activation. See `ReferenceKernels.gemm`.
    ///
    /// Packed SGEMM (KC 256, MC 96; 6×32 AVX-512 tiles where the CPU has AVX-512F, else 6×16
    /// AVX2 tiles), bias and activation fused into the micro-kernel's store;
    /// m == 1 or n == 1 go to GEMV kernels. With a pool of 2+ threads, jobs over ≈8 MFLOP are
    /// split along N (or M when N is narrow).
    public static func gemm(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, transA: Bool,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool = false,
                            bias: UnsafePointer<Float>? = nil, biasPerRow: Bool = false,
                            activation: Activation = .identity,
                            pool: ThreadPool = .serial) {
        GEMMDriver.run(m: m, n: n, k: k, a: .strided(a, ld: lda, transposed: transA),
                       b: .strided(b, ld: ldb, transposed: transB), c: c, ldc: ldc, accumulate: accumulate,
                       bias: bias, biasPerRow: biasPerRow, activation: activation, pool: pool)
    }

    /// GEMM with a pre-packed left operand (`a.side == .left`, `a.rows == m`, `a.cols == k`),
    /// e.g. convolution weights times an im2col matrix. Otherwise as `gemm(m:n:k:a:lda:…)`.
    public static func gemm(m: Int, n: Int, k: Int,
                            a: PackedMatrix,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool = false,
                            bias: UnsafePointer<Float>? = nil, biasPerRow: Bool = false,
                            activation: Activation = .identity,
                            pool: ThreadPool = .serial) {
        precondition(a.side == .left && a.rows == m && a.cols == k,
                     "Kernels.gemm: packed A is \(a.side) \(a.rows)×\(a.cols), expected left \(m)×\(k)")
        GEMMDriver.run(m: m, n: n, k: k, a: .packed(a), b: .strided(b, ld: ldb, transposed: transB),
                       c: c, ldc: ldc, accumulate: accumulate, bias: bias, biasPerRow: biasPerRow,
                       activation: activation, pool: pool)
    }

    /// GEMM with a pre-packed right operand (`b.side == .right`, `b.rows == k`, `b.cols == n`),
    /// e.g. ONNX Gemm/MatMul activations times constant weights. Otherwise as `gemm(m:n:k:a:lda:…)`.
    public static func gemm(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, transA: Bool,
                            b: PackedMatrix,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool = false,
                            bias: UnsafePointer<Float>? = nil, biasPerRow: Bool = false,
                            activation: Activation = .identity,
                            pool: ThreadPool = .serial) {
        precondition(b.side == .right && b.rows == k && b.cols == n,
                     "Kernels.gemm: packed B is \(b.side) \(b.rows)×\(b.cols), expected right \(k)×\(n)")
        GEMMDriver.run(m: m, n: n, k: k, a: .strided(a, ld: lda, transposed: transA), b: .packed(b),
                       c: c, ldc: ldc, accumulate: accumulate, bias: bias, biasPerRow: biasPerRow,
                       activation: activation, pool: pool)
    }

    /// Routes every kernel to the portable C fallback (what Apple/arm64 builds run) when `on`, so
    /// tests on x86 can check it too. Not thread-safe: set it only while no kernel is running.
    public static func usePortableKernels(_ on: Bool) {
        ck_force_generic(on ? 1 : 0)
    }

    /// Skips the AVX-512 paths (SGEMM micro-kernels, depthwise convolutions) when `on`, so the
    /// AVX2+FMA kernels run even on a CPU with AVX-512 and tests can check both. Not thread-safe:
    /// set it only while no kernel is running.
    public static func useAVX2Kernels(_ on: Bool) {
        ck_force_avx2(on ? 1 : 0)
    }

    /// Which kernel family runs now: "avx512" (AVX-512F paths where they exist, AVX2 elsewhere),
    /// "avx2" or "portable". Reflects `useAVX2Kernels` and `usePortableKernels`.
    public static var instructionSet: String {
        if ck_has_avx512f() != 0 { return "avx512" }
        return ck_has_avx2_fma() != 0 ? "avx2" : "portable"
    }

    /// Applies `activation` in place to `count` floats (vectorised, GELU included).
    public static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
        if activation == .identity || count <= 0 { return }
        var act = activation.ck
        ck_activate(x, count, &act)
    }

    /// x[i] = activation(x[i] + bias) in place: the epilogue of a channel plane.
    public static func biasActivate(_ x: UnsafeMutablePointer<Float>, count: Int, bias: Float, _ activation: Activation) {
        if count <= 0 || (bias == 0 && activation == .identity) { return }
        var act = activation.ck
        ck_bias_activate(x, count, bias, &act)
    }

    /// Softmax of `scale`·x over the last axis of a [rows × cols] matrix, in place (vectorised
    /// exp, ≈1e-7 relative error against `expf`). `scale` > 0 (attention's 1/√d folded in).
    public static func softmax(rows: Int, cols: Int, _ x: UnsafeMutablePointer<Float>, scale: Float = 1) {
        if rows <= 0 || cols <= 0 { return }
        precondition(scale > 0 && scale.isFinite, "Kernels.softmax: scale must be positive, got \(scale)")
        ck_softmax_rows(rows, cols, x, cols, scale, nil)
    }

    /// The softmax without its division: rows become exp((x − max)·scale) and `reciprocalSums[r]`
    /// = 1/Σ, for callers that divide a smaller product instead (attention: (E·V)/Σ).
    public static func softmaxUnnormalized(rows: Int, cols: Int, _ x: UnsafeMutablePointer<Float>, scale: Float = 1,
                                           reciprocalSums: UnsafeMutablePointer<Float>) {
        if rows <= 0 || cols <= 0 { return }
        precondition(scale > 0 && scale.isFinite, "Kernels.softmaxUnnormalized: scale must be positive, got \(scale)")
        ck_softmax_rows(rows, cols, x, cols, scale, reciprocalSums)
    }

    /// LayerNorm over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta. `y` may be `x`.
    public static func layerNorm(rows: Int, cols: Int, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
                                 beta: UnsafePointer<Float>?, epsilon: Float, y: UnsafeMutablePointer<Float>) {
        if rows <= 0 || cols <= 0 { return }
        ck_layernorm_rows(rows, cols, x, cols, gamma, beta, epsilon, y, cols)
    }

    /// Mean over each channel's H·W plane: [C × HW] → [C].
    public static func globalAveragePool(channels: Int, spatial: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if channels <= 0 || spatial <= 0 { return }
        ck_mean_rows(channels, spatial, x, spatial, y)
    }
}
