import ETCore

// Size letters: N rows (tokens), C channels.

/// LayerNorm over the channels of token-major rows (PyTorch `nn.LayerNorm(C)`, eps 1e-5):
/// y = (x − mean) / sqrt(var + eps) · γ + β, var biased.
public enum LayerNorm {
    public static let epsilon: Float = 1e-5

    /// out[N×C] = LN(inp[N×C]). `out` may equal `inp`.
    /// - Parameters:
    ///   - mean, rstd: optional caches (N each) for the backward pass.
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?,
                               rstd: UnsafeMutablePointer<Float>?, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows n: Int, channels c: Int,
                               epsilon: Float = LayerNorm.epsilon) {
        if mean == nil && rstd == nil {
            Kernels.layerNorm(rows: n, cols: c, x: inp, gamma: weight, beta: bias, epsilon: epsilon, y: out)
            return
        }
        for i in 0..<n {
            let x = inp + i * c, y = out + i * c
            var m: Float = 0
            for j in 0..<c { m += x[j] }
            m /= Float(c)
            var v: Float = 0
            for j in 0..<c { let d = x[j] - m; v += d * d }
            v /= Float(c)
            let r = 1 / (v + epsilon).squareRoot()
            for j in 0..<c { y[j] = (x[j] - m) * r * weight[j] + bias[j] }
            mean?[i] = m
            rstd?[i] = r
        }
    }
}
