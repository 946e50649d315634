import ETCore

// Size letters: N rows (tokens), I input features, O output features.

/// y = x·Wᵀ + b on token-major rows (PyTorch `nn.Linear`, and a 1×1 Conv1d on the channel axis).
/// Weights are packed once (`PackedMatrix`, right operand Wᵀ) so a call packs only the activations.
public final class Linear: @unchecked Sendable {
    public let inFeatures: Int, outFeatures: Int
    /// O×I, as given (kept for the backward pass and for export).
    public let weight: [Float]
    public let bias: [Float]?
    private let packed: PackedMatrix

    public init(inFeatures: Int, outFeatures: Int, weight: [Float], bias: [Float]?) {
        precondition(weight.count == inFeatures * outFeatures, "Linear: \(weight.count) weights for \(outFeatures)×\(inFeatures)")
        precondition(bias == nil || bias!.count == outFeatures, "Linear: bias count")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.weight = weight; self.bias = bias
        packed = PackedMatrix.packing(side: .right, rows: inFeatures, cols: outFeatures, weight, transposed: true)
    }

    /// out[N×O] (row stride ldo) = (accumulate ? out : 0) + act(inp[N×I] (row stride ldi)·Wᵀ + b).
    /// With `accumulate` the activation applies to the sum, so use it only with `.identity`
    /// (residual adds: x ← x + f(x)).
    public func forward(out: UnsafeMutablePointer<Float>, ldo: Int? = nil, inp: UnsafePointer<Float>, ldi: Int? = nil,
                        rows n: Int, accumulate: Bool = false, activation: Activation = .identity,
                        pool: ThreadPool = .serial) {
        if let bias {
            bias.withUnsafeBufferPointer { b in
                Kernels.gemm(m: n, n: outFeatures, k: inFeatures, a: inp, lda: ldi ?? inFeatures, transA: false,
                             b: packed, c: out, ldc: ldo ?? outFeatures, accumulate: accumulate,
                             bias: b.baseAddress, biasPerRow: false, activation: activation, pool: pool)
            }
        } else {
            Kernels.gemm(m: n, n: outFeatures, k: inFeatures, a: inp, lda: ldi ?? inFeatures, transA: false,
                         b: packed, c: out, ldc: ldo ?? outFeatures, accumulate: accumulate,
                         activation: activation, pool: pool)
        }
    }
}
