import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Size letters: C channels, H×W input, OH×OW output, G groups, K = (C/G)·KH·KW per group.

/// A convolution with prepared weights (packed once at load), for batch-1 NCHW inputs of any size.
///
/// The path is chosen once, in `init`:
/// - 1×1, stride 1, no padding: one GEMM per group straight on the input (no im2col);
/// - depthwise (groups == in == out channels): a dedicated C kernel (AVX2 3×3/5×5 at stride 1/2,
///   register-blocked along W; generic kernel for other sizes and dilations);
/// - 3×3, stride 1, padding 1, one group, at least `winogradMinChannels` in and out: Winograd
///   F(2×2, 3×3): 16 GEMMs (C_out × C_in × tiles) on transformed inputs, 2.25× fewer
///   multiplications than the direct method (the center head's towers);
/// - anything else (grouped, dilated, asymmetric padding): the packed GEMM per group with B the
///   im2col matrix, built block by block (KC×NC) straight into the GEMM's packed-B layout, so it
///   is never materialised (the stem's 27×16384 matrix would be 1.7 MB, more than L2).
/// Bias and activation are fused into the GEMM / depthwise store.
///
/// Thread-safety: immutable after `init`; `forward` may be called from several threads at once
/// as long as each call has its own `output` and `scratch`.
public final class Conv2D: @unchecked Sendable {
    public let parameters: Conv2DParameters
    public let activation: Activation
    /// OIHW weights as given.
    public let weight: [Float]
    public let bias: [Float]?

    private let path: ConvolutionPath
    /// Per group: the (C_out/G) × K weight matrix, packed as a left GEMM operand.
    private let packed: [PackedMatrix]
    /// Raw copies so that `forward` needs no array access: weights (depthwise and Winograd) and bias.
    private let rawWeight: UnsafeMutablePointer<Float>?
    private let rawBias: UnsafeMutablePointer<Float>?

    /// Convolutions with fewer input or output channels stay on the direct path (the transforms
    /// would cost more than the multiplications they save).
    public static let winogradMinChannels = 16

    public init(_ parameters: Conv2DParameters, weight: [Float], bias: [Float]?, activation: Activation = .identity) {
        precondition(weight.count == parameters.weightCount, "Conv2D: \(parameters) needs \(parameters.weightCount) weights, got \(weight.count)")
        precondition(bias == nil || bias!.count == parameters.outChannels, "Conv2D: bias count")
        precondition(parameters.groups >= 1 && parameters.inChannels % parameters.groups == 0
                     && parameters.outChannels % parameters.groups == 0,
                     "Conv2D: \(parameters): channels not divisible by groups")
        self.parameters = parameters
        self.activation = activation
        self.weight = weight
        self.bias = bias
        let p = parameters
        if let bias {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: bias.count)
            b.initialize(from: bias, count: bias.count)
            rawBias = b
        } else {
            rawBias = nil
        }
        path = ConvolutionPath(p, winograd: true)
        if path == .depthwise || path == .winograd {
            let w = UnsafeMutablePointer<Float>.allocate(capacity: max(1, weight.count))
            w.initialize(from: weight, count: weight.count)
            rawWeight = w
            packed = path == .winograd ? Winograd.transformedWeights(weight, outChannels: p.outChannels, inChannels: p.inChannels) : []
            return
        }
        rawWeight = nil
        let coutG = p.outChannels / p.groups
        let kG = p.inChannels / p.groups * p.kernelH * p.kernelW
        packed = weight.withUnsafeBufferPointer { w in
            (0..<p.groups).map { g in
                PackedMatrix(side: .left, rows: coutG, cols: kG, data: w.baseAddress! + g * coutG * kG,
                             ld: max(kG, 1), transposed: false)
            }
        }
    }

    deinit {
        rawWeight?.deallocate()
        rawBias?.deallocate()
    }

    /// Floats of scratch memory `forward` needs for an `inH × inW` input: the transformed input
    /// and products on the Winograd path, 0 elsewhere (im2col is packed block by block into
    /// per-thread buffers; depthwise padding uses a per-thread plane).
    public func scratchCount(inH: Int, inW: Int) -> Int {
        guard path == .winograd, Winograd.fits(width: inW) else { return 0 }
        return Winograd.scratchCount(inChannels: parameters.inChannels, outChannels: parameters.outChannels, inH: inH, inW: inW)
    }

    /// output[outC × oH × oW] = conv(input[inC × inH × inW]).
    /// - Parameter scratch: `scratchCount(inH:inW:)` floats, or nil to use the calling thread's
    ///   workspace.
    /// - Parameter pool: large GEMMs are split along N over its threads, depthwise over channels.
    public func forward(input: UnsafePointer<Float>, inH: Int, inW: Int,
                        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?,
                        pool: ThreadPool = .serial) {
        if path == .winograd {
            if Winograd.fits(width: inW) {
                let p = parameters
                let buffer = scratch ?? Workspace.current.extraBuffer(scratchCount(inH: inH, inW: inW))
                Winograd.run(inChannels: p.inChannels, outChannels: p.outChannels, inH: inH, inW: inW, input: input,
                             weights: packed, bias: rawBias.map { UnsafePointer($0) }, activation: activation,
                             output: output, scratch: buffer, pool: pool)
            } else {
                // Wider than the transforms take: the direct path on the raw weights.
                let kG = parameters.inChannels * 9
                ConvolutionRunner.run(parameters, path: .im2col, input: input, inH: inH, inW: inW,
                                      weight: { [rawWeight] _ in .raw(rawWeight!, rs: kG, cs: 1) }, depthwiseWeight: nil,
                                      bias: rawBias.map { UnsafePointer($0) }, activation: activation, output: output, pool: pool)
            }
            return
        }
        ConvolutionRunner.run(parameters, path: path, input: input, inH: inH, inW: inW,
                              weight: { [packed] g in .packed(packed[g]) }, depthwiseWeight: rawWeight.map { UnsafePointer($0) },
                              bias: rawBias.map { UnsafePointer($0) }, activation: activation, output: output, pool: pool)
    }
}

extension Kernels {
    /// Convolution with weights given at call time (OIHW), for ONNX Conv nodes whose weight is not
    /// a constant (NanoTrack's head correlates the search features with the template features as
    /// a 4×4 depthwise kernel). Same paths as `Conv2D` without the load-time packing: depthwise
    /// uses the weights as they are; the GEMM paths pack them per call (cheap next to the GEMM).
    /// Needs no scratch. Use `Conv2D` when the weights are constants.
    public static func conv2d(_ p: Conv2DParameters, input: UnsafePointer<Float>, inH: Int, inW: Int,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              activation: Activation = .identity, output: UnsafeMutablePointer<Float>,
                              pool: ThreadPool = .serial) {
        let kG = p.inChannels / p.groups * p.kernelH * p.kernelW
        let coutG = p.outChannels / p.groups
        ConvolutionRunner.run(p, path: ConvolutionPath(p), input: input, inH: inH, inW: inW,
                              weight: { g in .raw(weight + g * coutG * kG, rs: kG, cs: 1) }, depthwiseWeight: weight,
                              bias: bias, activation: activation, output: output, pool: pool)
    }
}

/// How a convolution is computed (chosen from its geometry).
enum ConvolutionPath: Equatable {
    case pointwise, depthwise, im2col, winograd

    /// - Parameter winograd: whether the Winograd path may be chosen (it needs transformed,
    ///   prepacked weights, so only `Conv2D` offers it).
    init(_ p: Conv2DParameters, winograd: Bool = false) {
        if p.isDepthwise {
            self = .depthwise
        } else if winograd && p.groups == 1 && p.kernelH == 3 && p.kernelW == 3 && p.strideH == 1 && p.strideW == 1
                    && p.dilationH == 1 && p.dilationW == 1
                    && p.padTop == 1 && p.padLeft == 1 && p.padBottom == 1 && p.padRight == 1
                    && p.inChannels >= Conv2D.winogradMinChannels && p.outChannels >= Conv2D.winogradMinChannels {
            self = .winograd
        } else if p.kernelH == 1 && p.kernelW == 1 && p.strideH == 1 && p.strideW == 1
                    && p.padTop == 0 && p.padLeft == 0 && p.padBottom == 0 && p.padRight == 0 {
            self = .pointwise
        } else {
            self = .im2col
        }
    }
}

/// The forward pass shared by `Conv2D` (packed weights) and `Kernels.conv2d` (raw weights).
enum ConvolutionRunner {
    static func run(_ p: Conv2DParameters, path: ConvolutionPath, input: UnsafePointer<Float>, inH: Int, inW: Int,
                    weight: (Int) -> GEMMOperand, depthwiseWeight: UnsafePointer<Float>?,
                    bias: UnsafePointer<Float>?, activation: Activation,
                    output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (oh, ow) = p.outputSize(inH: inH, inW: inW)
        if oh <= 0 || ow <= 0 { return }
        var geom = ck_conv_geom(in_h: inH, in_w: inW, out_h: oh, out_w: ow,
                                kernel_h: p.kernelH, kernel_w: p.kernelW, stride_h: p.strideH, stride_w: p.strideW,
                                dilation_h: p.dilationH, dilation_w: p.dilationW,
                                pad_top: p.padTop, pad_left: p.padLeft)
        let n = oh * ow
        let cinG = p.inChannels / p.groups, coutG = p.outChannels / p.groups
        let kG = cinG * p.kernelH * p.kernelW
        switch path {
        case .depthwise:
            depthwise(channels: p.inChannels, input: input, weight: depthwiseWeight!, bias: bias,
                      activation: activation, output: output, geom: &geom, pool: pool)
        case .winograd:
            preconditionFailure("the Winograd path runs through Conv2D.forward")
        case .pointwise, .im2col:
            for g in 0..<p.groups {
                let src = input + g * cinG * inH * inW
                let b: GEMMOperand = path == .pointwise
                    ? .raw(src, rs: n, cs: 1)
                    : .im2col(ConvolutionSource(geometry: geom, input: src, channels: cinG))
                GEMMDriver.run(m: coutG, n: n, k: kG, a: weight(g), b: b, c: output + g * coutG * n, ldc: n,
                               accumulate: false, bias: bias.map { $0 + g * coutG }, biasPerRow: true,
                               activation: activation, pool: pool)
            }
        }
    }

    private static func depthwise(channels: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, activation: Activation,
                                  output: UnsafeMutablePointer<Float>, geom: inout ck_conv_geom, pool: ThreadPool) {
        let macs = channels * geom.out_h * geom.out_w * geom.kernel_h * geom.kernel_w
        let threads = min(pool.threadCount, channels)
        var act = activation.ck
        let scratchCount = ck_depthwise_scratch_count(&geom)
        withUnsafePointer(to: &geom) { gp in
            withUnsafePointer(to: &act) { ap in
                if threads > 1 && macs >= 1_000_000 {
                    pool.parallelFor(threads) { t in
                        let c0 = channels * t / threads, c1 = channels * (t + 1) / threads
                        let s = Workspace.current.extraBuffer(scratchCount)
                        ck_depthwise_conv2d(c0, c1 - c0, gp, input, weight, bias, ap, output, s)
                    }
                } else {
                    let s = Workspace.current.extraBuffer(scratchCount)
                    ck_depthwise_conv2d(0, channels, gp, input, weight, bias, ap, output, s)
                }
            }
        }
    }
}
