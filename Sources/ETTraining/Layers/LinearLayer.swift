import ETCore

/// y = x·Wᵀ + b over `rows` token rows: nn.Linear, and a 1×1 Conv1d in token-major layout (weight
/// O×I/G×1 is the same memory as O×I/G). With `groups` > 1, group g maps input columns
/// [g·I/G, (g+1)·I/G) to output columns [g·O/G, (g+1)·O/G) (GA's grouped qkv conv).
public struct LinearLayer: Sendable {
    public var inFeatures: Int, outFeatures: Int, groups: Int
    /// Offsets of W (O×I/G) and b (O) in the flat parameter (and gradient) buffer.
    public var weight: Int, bias: Int?

    public init(inFeatures: Int, outFeatures: Int, groups: Int = 1, weight: Int, bias: Int?) {
        precondition(inFeatures % groups == 0 && outFeatures % groups == 0)
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.groups = groups
        self.weight = weight; self.bias = bias
    }

    /// out[rows×O] = inp[rows×I]·Wᵀ + b.
    public func forward<T: TrainingScalar>(out: MP<T>, inp: CP<T>, params: CP<T>, rows: Int, pool: ThreadPool) {
        let ig = inFeatures / groups, og = outFeatures / groups
        for g in 0..<groups {
            T.gemm(m: rows, n: og, k: ig, a: inp + g * ig, lda: inFeatures, transA: false,
                   b: params + weight + g * og * ig, ldb: ig, transB: true, c: out + g * og, ldc: outFeatures,
                   accumulate: false, pool: pool)
        }
        if let bias {
            let b = params + bias
            for r in 0..<rows { let o = out + r * outFeatures; for j in 0..<outFeatures { o[j] += b[j] } }
        }
    }

    /// dInp += dOut·W (when dInp is given); dW += dOutᵀ·inp; db += Σ_rows dOut.
    public func backward<T: TrainingScalar>(dInp: MP<T>?, dOut: CP<T>, inp: CP<T>, params: CP<T>, grads: MP<T>,
                                            rows: Int, pool: ThreadPool) {
        let ig = inFeatures / groups, og = outFeatures / groups
        for g in 0..<groups {
            if let dInp {
                T.gemm(m: rows, n: ig, k: og, a: dOut + g * og, lda: outFeatures, transA: false,
                       b: params + weight + g * og * ig, ldb: ig, transB: false, c: dInp + g * ig, ldc: inFeatures,
                       accumulate: true, pool: pool)
            }
            T.gemm(m: og, n: ig, k: rows, a: dOut + g * og, lda: outFeatures, transA: true,
                   b: inp + g * ig, ldb: inFeatures, transB: false, c: grads + weight + g * og * ig, ldc: ig,
                   accumulate: true, pool: pool)
        }
        if let bias {
            let db = grads + bias
            for r in 0..<rows { let d = dOut + r * outFeatures; for j in 0..<outFeatures { db[j] += d[j] } }
        }
    }
}
