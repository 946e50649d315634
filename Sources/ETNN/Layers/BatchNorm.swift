// Size letters: C channels (output channels of the convolution being folded), K weights per channel.

/// BatchNorm in inference mode, and its folding into the convolution before it
/// (architecture.md §6): s = γ / sqrt(σ² + ε), W' = W·s per output channel, b' = β + (b − μ)·s.
public enum BatchNorm {
    public static let epsilon: Float = 1e-5

    /// Per-channel scale and shift of an inference-mode BN: y = x·scale + shift.
    public static func scaleShift(weight: [Float], bias: [Float], runningMean: [Float], runningVar: [Float],
                                  epsilon: Float = BatchNorm.epsilon) -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: weight.count), shift = scale
        for i in 0..<weight.count {
            scale[i] = weight[i] / (runningVar[i] + epsilon).squareRoot()
            shift[i] = bias[i] - runningMean[i] * scale[i]
        }
        return (scale, shift)
    }

    /// Folds BN into a convolution whose weight is C×K (OIHW/OIK flattened) and bias C (or nil = 0).
    /// - Returns: the folded weight and bias.
    public static func fold(weight: [Float], bias: [Float]?, bnWeight: [Float], bnBias: [Float],
                            runningMean: [Float], runningVar: [Float], epsilon: Float = BatchNorm.epsilon) -> (weight: [Float], bias: [Float]) {
        let c = bnWeight.count, k = weight.count / c
        var w = weight, b = [Float](repeating: 0, count: c)
        for o in 0..<c {
            let s = bnWeight[o] / (runningVar[o] + epsilon).squareRoot()
            for j in 0..<k { w[o * k + j] *= s }
            b[o] = bnBias[o] + ((bias?[o] ?? 0) - runningMean[o]) * s
        }
        return (w, b)
    }

    /// Inference-mode BN over channel-major planes: x[C×HW] in place.
    public static func forwardChannelMajor(_ x: UnsafeMutablePointer<Float>, scale: [Float], shift: [Float], spatial: Int) {
        for ch in 0..<scale.count {
            let p = x + ch * spatial, s = scale[ch], t = shift[ch]
            for i in 0..<spatial { p[i] = p[i] * s + t }
        }
    }
}
