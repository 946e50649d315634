import Foundation

/// Plain, obviously-correct implementations of every kernel. The fast kernels are tested
/// against these at awkward sizes, and they are the fallback where no fast path applies.
public enum ReferenceKernels {
    /// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n] (+ bias) then activation.
    /// `op(A)` is A (row-major, leading dimension lda) or its transpose; the same for B.
    /// `bias` has n elements (added along each row) or, with `biasPerRow`, m elements.
    public static func gemm(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, transA: Bool,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool = false,
                            bias: UnsafePointer<Float>? = nil, biasPerRow: Bool = false,
                            activation: Activation = .identity) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = accumulate ? Double(c[i * ldc + j]) : 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                if let bias { s += Double(biasPerRow ? bias[i] : bias[j]) }
                c[i * ldc + j] = activation.apply(Float(s))
            }
        }
    }

    /// Direct convolution, batch 1, NCHW in and out, OIHW weights; zero padding.
    public static func conv2d(_ p: Conv2DParameters, input: UnsafePointer<Float>, inH: Int, inW: Int,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              activation: Activation, output: UnsafeMutablePointer<Float>) {
        let (oh, ow) = p.outputSize(inH: inH, inW: inW)
        let cinG = p.inChannels / p.groups, coutG = p.outChannels / p.groups
        for g in 0..<p.groups {
            for oc in 0..<coutG {
                let o = g * coutG + oc
                for y in 0..<oh {
                    for x in 0..<ow {
                        var s: Double = bias.map { Double($0[o]) } ?? 0
                        for ic in 0..<cinG {
                            let ci = g * cinG + ic
                            for ky in 0..<p.kernelH {
                                let iy = y * p.strideH - p.padTop + ky * p.dilationH
                                if iy < 0 || iy >= inH { continue }
                                for kx in 0..<p.kernelW {
                                    let ix = x * p.strideW - p.padLeft + kx * p.dilationW
                                    if ix < 0 || ix >= inW { continue }
                                    let w = weight[((o * cinG + ic) * p.kernelH + ky) * p.kernelW + kx]
                                    s += Double(w) * Double(input[(ci * inH + iy) * inW + ix])
                                }
                            }
                        }
                        output[(o * oh + y) * ow + x] = activation.apply(Float(s))
                    }
                }
            }
        }
    }

    /// Softmax over the last axis of a [rows × cols] matrix, max-subtracted.
    public static func softmax(rows: Int, cols: Int, _ x: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            var m = -Float.infinity
            for j in 0..<cols { m = max(m, row[j]) }
            var s: Float = 0
            for j in 0..<cols { row[j] = Foundation.exp(row[j] - m); s += row[j] }
            for j in 0..<cols { row[j] /= s }
        }
    }

    /// LayerNorm over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta.
    public static func layerNorm(rows: Int, cols: Int, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
                                 beta: UnsafePointer<Float>?, epsilon: Float, y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var mean: Double = 0
            for j in 0..<cols { mean += Double(x[r * cols + j]) }
            mean /= Double(cols)
            var v: Double = 0
            for j in 0..<cols { let d = Double(x[r * cols + j]) - mean; v += d * d }
            v /= Double(cols)
            let inv = 1 / (v + Double(epsilon)).squareRoot()
            for j in 0..<cols {
                var o = (Double(x[r * cols + j]) - mean) * inv
                if let gamma { o *= Double(gamma[j]) }
                if let beta { o += Double(beta[j]) }
                y[r * cols + j] = Float(o)
            }
        }
    }

    /// Mean over each channel's H·W plane: [C × HW] → [C].
    public static func globalAveragePool(channels: Int, spatial: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            var s: Double = 0
            for i in 0..<spatial { s += Double(x[c * spatial + i]) }
            y[c] = Float(s / Double(spatial))
        }
    }

    /// y = activation(a op b) with NumPy/ONNX broadcasting (right-aligned shapes).
    public static func binary(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>,
                              bShape: [Int], y: UnsafeMutablePointer<Float>, activation: Activation = .identity) {
        let shape = Kernels.broadcastShape(aShape, bShape)!
        let r = shape.count
        func offset(_ idx: [Int], _ s: [Int]) -> Int {
            var o = 0
            for (k, d) in s.enumerated() {
                let i = idx[r - s.count + k]
                o = o * d + (d == 1 ? 0 : i)
            }
            return o
        }
        let total = shape.reduce(1, *)
        var idx = [Int](repeating: 0, count: r)
        for flat in 0..<total {
            var rem = flat
            for d in stride(from: r - 1, through: 0, by: -1) { idx[d] = rem % shape[d]; rem /= shape[d] }
            y[flat] = activation.apply(op.apply(a[offset(idx, aShape)], b[offset(idx, bShape)]))
        }
    }
}
