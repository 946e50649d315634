/// The fast kernels the engine calls. Each has a plain twin in `ReferenceKernels` with the
/// same signature, and tests compare the two at awkward sizes.
///
/// Kernels take raw pointers, sizes and strides only: no allocation on the hot path, no
/// errors, no tensor types.
public enum Kernels {
    /// C[m×n] = (accumulate ? C : 0) + op(A)·op(B) (+ bias) then activation. See `ReferenceKernels.gemm`.
    public static func gemm(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, transA: Bool,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool = false,
                            bias: UnsafePointer<Float>? = nil, biasPerRow: Bool = false,
                            activation: Activation = .identity,
                            pool: ThreadPool = .serial) {
        ReferenceKernels.gemm(m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                              c: c, ldc: ldc, accumulate: accumulate, bias: bias, biasPerRow: biasPerRow,
                              activation: activation)
    }

    /// Applies `activation` in place to `count` floats.
    public static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
        if activation == .identity { return }
        for i in 0..<count { x[i] = activation.apply(x[i]) }
    }

    public static func softmax(rows: Int, cols: Int, _ x: UnsafeMutablePointer<Float>) {
        ReferenceKernels.softmax(rows: rows, cols: cols, x)
    }

    public static func layerNorm(rows: Int, cols: Int, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
                                 beta: UnsafePointer<Float>?, epsilon: Float, y: UnsafeMutablePointer<Float>) {
        ReferenceKernels.layerNorm(rows: rows, cols: cols, x: x, gamma: gamma, beta: beta, epsilon: epsilon, y: y)
    }

    public static func globalAveragePool(channels: Int, spatial: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        ReferenceKernels.globalAveragePool(channels: channels, spatial: spatial, x: x, y: y)
    }
}

/// A convolution with prepared weights (packed once at load), for batch-1 NCHW inputs of any size.
///
/// Thread-safety: immutable after `init`; `forward` may be called from several threads at once
/// as long as each call has its own `output` and `scratch`.
public final class Conv2D: @unchecked Sendable {
    public let parameters: Conv2DParameters
    public let activation: Activation
    /// OIHW weights as given.
    public let weight: [Float]
    public let bias: [Float]?

    public init(_ parameters: Conv2DParameters, weight: [Float], bias: [Float]?, activation: Activation = .identity) {
        precondition(weight.count == parameters.weightCount, "Conv2D: \(parameters) needs \(parameters.weightCount) weights, got \(weight.count)")
        precondition(bias == nil || bias!.count == parameters.outChannels, "Conv2D: bias count")
        self.parameters = parameters
        self.activation = activation
        self.weight = weight
        self.bias = bias
    }

    /// Floats of scratch memory `forward` needs for an `inH × inW` input.
    public func scratchCount(inH: Int, inW: Int) -> Int { 0 }

    /// output[outC × oH × oW] = conv(input[inC × inH × inW]).
    public func forward(input: UnsafePointer<Float>, inH: Int, inW: Int,
                        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?,
                        pool: ThreadPool = .serial) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    ReferenceKernels.conv2d(parameters, input: input, inH: inH, inW: inW, weight: w.baseAddress!,
                                            bias: b.baseAddress!, activation: activation, output: output)
                }
            } else {
                ReferenceKernels.conv2d(parameters, input: input, inH: inH, inW: inW, weight: w.baseAddress!,
                                        bias: nil, activation: activation, output: output)
            }
        }
    }
}
