import ETCore

/// A broadcast of two operands, with dims merged where both operands step alike.
struct BroadcastPlan {
    var dims: [Int]
    var aStrides: [Int]
    var bStrides: [Int]

    init(a: [Int], b: [Int], out: [Int]) {
        let sa = ShapeMath.broadcastStrides(a, to: out), sb = ShapeMath.broadcastStrides(b, to: out)
        var d: [Int] = [], x: [Int] = [], y: [Int] = []
        for i in 0..<out.count where out[i] != 1 {
            // Merge with the previous dim when both operands are contiguous across the boundary.
            if let last = d.last, x.last! == sa[i] * out[i], y.last! == sb[i] * out[i] {
                d[d.count - 1] = last * out[i]
                x[x.count - 1] = sa[i]; y[y.count - 1] = sb[i]
            } else {
                d.append(out[i]); x.append(sa[i]); y.append(sb[i])
            }
        }
        if d.isEmpty { d = [1]; x = [0]; y = [0] }
        dims = d; aStrides = x; bStrides = y
    }
}

/// What a step computes; everything shape-dependent is resolved when the plan is built.
enum StepKind {
    case conv(Conv2D, batch: Int, inH: Int, inW: Int)
    /// Convolution whose weight is computed at run time (NanoTrack v3's depthwise correlation).
    case convDynamic(Conv2DParameters, Activation, batch: Int, inH: Int, inW: Int, hasBias: Bool)
    /// C[m×n] = act(alpha·op(A)·op(B) + beta·C); `biasVector` when C is a length-n vector (beta 1).
    case gemm(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float,
              activation: Activation, cMode: GemmCMode, packedB: PackedMatrix?)
    /// Batched matmul: per batch, element offsets of A, B and the output; A and B as GEMM
    /// operands (leading dimension, transposed) so strided views are read in place; output rows
    /// `ldc` apart (more than n when the output is written in a following Transpose's layout).
    case matMul(m: Int, n: Int, k: Int, batches: [(Int, Int, Int)], a: (ld: Int, trans: Bool), b: (ld: Int, trans: Bool),
                ldc: Int, activation: Activation, packedB: PackedMatrix?)
    case binary(BinaryOp, BroadcastPlan)
    case unary(UnaryOp, count: Int)
    case globalAveragePool(channels: Int, spatial: Int)
    /// Output element i copies input element map[i] (Transpose, Slice).
    case gather(map: [Int32])
    /// Concatenation: `outer` blocks, each the inputs' chunks in order.
    case concat(outer: Int, chunks: [Int])
    /// Attention, per batch (offsets of Q, K, V and the output): O = softmax(scale·Q·K)·V, then
    /// the activation; Q is n×dk, K dk×keys, V keys×dv (GEMM operand forms), output rows `ldo`
    /// apart. Computed `rowBlock` query rows at a time, so the scores never leave L2.
    case attention(batches: [(Int, Int, Int, Int)], n: Int, keys: Int, dk: Int, dv: Int, q: (ld: Int, trans: Bool),
                   k: (ld: Int, trans: Bool), v: (ld: Int, trans: Bool), ldo: Int, scale: Float, activation: Activation,
                   rowBlock: Int)
    /// Softmax of scale·x (scale > 0: a Mul by a scalar folded in).
    case softmax(outer: Int, axis: Int, inner: Int, scale: Float)
    /// Copy of a strided view into a contiguous tensor (Transpose, Slice); dims and strides
    /// merged at plan time (`ElementwiseKernels.mergedLayout`).
    case stridedCopy(dims: [Int], strides: [Int], offset: Int)
    case layerNorm(rows: Int, cols: Int, epsilon: Float, hasBias: Bool)
    /// y = x·scale[c] + shift[c], per channel of each image (an unfused BatchNormalization).
    case affine(batch: Int, channels: Int, spatial: Int, scale: [Float], shift: [Float])
    /// BatchNormalization reading scale, bias, mean and variance at run time (inputs 1–4), or
    /// with batch statistics (`training`). `output` 0 is Y; 1 and 2 the running mean and
    /// variance of training mode (input·momentum + batch statistic·(1 − momentum)).
    case batchNorm((batch: Int, channels: Int, spatial: Int), epsilon: Float, momentum: Float, training: Bool, output: Int)
    /// Mean, or 1/√(variance + ε), of each row (LayerNormalization's optional outputs).
    case rowStatistics(rows: Int, cols: Int, epsilon: Float, inverseStd: Bool)
    case copy(count: Int)
}

enum GemmCMode {
    case none
    /// C is a vector added to every row (input index 2).
    case rowVector
    /// C broadcasts to m×n; element i of the output starts from C[map[i]] (map built once per plan).
    case broadcast(map: [Int32])
}

/// One executable step: the op, where its inputs and output live, and their shapes.
struct Step {
    var node: String
    var opName: String
    var kind: StepKind
    /// Storage ids of the inputs (-1 for an absent optional input).
    var inputs: [Int]
    var output: Int
    var outputShape: [Int]
    /// Multiply-accumulates of this step (for profiles).
    var macs: Int
}
