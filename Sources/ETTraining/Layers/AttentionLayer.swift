import ETCore

/// softmax(Q·Kᵀ·scale)·V per head and per batch element (no weights). Q, K, V are columns of one
/// qkv buffer of `batch`·N rows, `ld` floats apart; head i's q starts at q + i·headStride (k, v
/// likewise). The probabilities (B·h·N·N) are the cache of the backward pass.
public struct AttentionLayer: Sendable {
    public var heads: Int, qkDim: Int, valueDim: Int, tokens: Int
    /// Column offsets of q, k, v within a row, the row stride and the per-head stride.
    public var q: Int, k: Int, v: Int, ld: Int, headStride: Int

    public init(heads: Int, qkDim: Int, valueDim: Int, tokens: Int, q: Int, k: Int, v: Int, ld: Int, headStride: Int) {
        self.heads = heads; self.qkDim = qkDim; self.valueDim = valueDim; self.tokens = tokens
        self.q = q; self.k = k; self.v = v; self.ld = ld; self.headStride = headStride
    }

    public var scale: Double { 1 / Double(qkDim).squareRoot() }
    public func probabilityCount(batch: Int) -> Int { batch * heads * tokens * tokens }

    /// out[B·N × h·dv] (row stride h·dv); probs[B·h·N·N].
    public func forward<T: TrainingScalar>(out: MP<T>, probs: MP<T>, qkv: CP<T>, batch: Int, pool: ThreadPool) {
        let n = tokens, od = heads * valueDim, s = T(scale)
        for b in 0..<batch {
            let base = qkv + b * n * ld
            for h in 0..<heads {
                let p = probs + (b * heads + h) * n * n, off = h * headStride
                T.gemm(m: n, n: n, k: qkDim, a: base + q + off, lda: ld, transA: false, b: base + k + off, ldb: ld,
                       transB: true, c: p, ldc: n, accumulate: false, pool: pool)
                for r in 0..<n {
                    let row = p + r * n
                    var mx = -T.infinity
                    for j in 0..<n { row[j] *= s; mx = max(mx, row[j]) }
                    var sum: T = 0
                    for j in 0..<n { row[j] = T.exp(row[j] - mx); sum += row[j] }
                    let inv = 1 / sum
                    for j in 0..<n { row[j] *= inv }
                }
                T.gemm(m: n, n: valueDim, k: n, a: p, lda: n, transA: false, b: base + v + off, ldb: ld, transB: false,
                       c: out + b * n * od + h * valueDim, ldc: od, accumulate: false, pool: pool)
            }
        }
    }

    /// dQKV += ∂L/∂qkv (same layout as qkv). `scratch` holds N·N floats.
    public func backward<T: TrainingScalar>(dQKV: MP<T>, dOut: CP<T>, qkv: CP<T>, probs: CP<T>, batch: Int,
                                            scratch: MP<T>, pool: ThreadPool) {
        let n = tokens, od = heads * valueDim, s = T(scale)
        for b in 0..<batch {
            let base = qkv + b * n * ld, dBase = dQKV + b * n * ld
            for h in 0..<heads {
                let p = probs + (b * heads + h) * n * n, off = h * headStride
                let dO = dOut + b * n * od + h * valueDim
                // dV += Pᵀ·dO
                T.gemm(m: n, n: valueDim, k: n, a: p, lda: n, transA: true, b: dO, ldb: od, transB: false,
                       c: dBase + v + off, ldc: ld, accumulate: true, pool: pool)
                // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale
                T.gemm(m: n, n: n, k: valueDim, a: dO, lda: od, transA: false, b: base + v + off, ldb: ld, transB: true,
                       c: scratch, ldc: n, accumulate: false, pool: pool)
                for r in 0..<n {
                    let pr = p + r * n, dr = scratch + r * n
                    var dot: T = 0
                    for j in 0..<n { dot += pr[j] * dr[j] }
                    for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) * s }
                }
                // dQ += dS·K, dK += dSᵀ·Q
                T.gemm(m: n, n: qkDim, k: n, a: scratch, lda: n, transA: false, b: base + k + off, ldb: ld, transB: false,
                       c: dBase + q + off, ldc: ld, accumulate: true, pool: pool)
                T.gemm(m: n, n: qkDim, k: n, a: scratch, lda: n, transA: true, b: base + q + off, ldb: ld, transB: false,
                       c: dBase + k + off, ldc: ld, accumulate: true, pool: pool)
            }
        }
    }
}
