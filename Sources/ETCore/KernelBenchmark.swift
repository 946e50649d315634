import Dispatch

/// Timings of the GEMM and convolution kernels at the shapes EfficientTrack's models use
/// (`etrack bench-kernels`). Peak is one Zen 3 core at ≈3.2 GHz × 32 flop/cycle.
public enum KernelBenchmark {
    /// One-core fp32 peak of the project machine, GFLOP/s.
    public static let peakGFLOPS = 102.0

    public struct Result: Sendable {
        public var name: String
        /// Multiply-adds × 2.
        public var flops: Double
        public var medianMicroseconds: Double
        public var gflops: Double { flops / medianMicroseconds / 1e3 }
        public var percentOfPeak: Double { 100 * gflops / KernelBenchmark.peakGFLOPS }
    }

    /// A GEMM shape: C[M×N] = A[M×K]·B[K×N].
    public struct GEMMShape: Sendable {
        public var m, k, n: Int
        public var transB = false
        /// A stored K×M (the weight gradients of training: dW = dOutᵀ·x).
        public var transA = false
        /// Weights pre-packed as the left operand (convolution style).
        public var packedA = false
        public var note = ""
    }

    public static let gemmShapes: [GEMMShape] = [
        GEMMShape(m: 320, k: 128, n: 384), GEMMShape(m: 320, k: 128, n: 128), GEMMShape(m: 320, k: 512, n: 128),
        GEMMShape(m: 256, k: 256, n: 768), GEMMShape(m: 64, k: 256, n: 256), GEMMShape(m: 512, k: 512, n: 512),
        GEMMShape(m: 320, k: 128, n: 384, packedA: true, note: "packed A"),
        GEMMShape(m: 320, k: 128, n: 384, transB: true, note: "transB"),
        GEMMShape(m: 48, k: 432, n: 64), GEMMShape(m: 96, k: 27, n: 256), GEMMShape(m: 72, k: 144, n: 128),
        GEMMShape(m: 96, k: 432, n: 256), GEMMShape(m: 64, k: 96, n: 256, packedA: true, note: "packed A"),
        GEMMShape(m: 1, k: 576, n: 256, note: "row × matrix"), GEMMShape(m: 256, k: 576, n: 1, note: "GEMV"),
        GEMMShape(m: 128, k: 128, n: 64, packedA: true, note: "Winograd product"),
        GEMMShape(m: 64, k: 288, n: 4096, packedA: true, note: "stem 32->64 as GEMM"),
        // Training at batch 32 (et-128-fgaf3-bn, 320 tokens per pair): token-row linears and
        // the head's 3×3 convs per image, forward and both backward products.
        GEMMShape(m: 10240, k: 128, n: 256, transB: true, note: "train linear forward"),
        GEMMShape(m: 10240, k: 256, n: 128, note: "train linear dX"),
        GEMMShape(m: 256, k: 10240, n: 128, transA: true, note: "train linear dW"),
        GEMMShape(m: 128, k: 1152, n: 256, note: "train conv forward"),
        GEMMShape(m: 128, k: 256, n: 1152, transB: true, note: "train conv dW"),
        GEMMShape(m: 1152, k: 128, n: 256, transA: true, note: "train conv dX"),
    ]

    /// NanoTrack (MobileNetV3 backbone, 255×255 search / 127×127 template) convolution shapes.
    public static let convShapes: [(name: String, params: Conv2DParameters, h: Int, w: Int)] = {
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ s: Int, groups: Int = 1) -> Conv2DParameters {
            Conv2DParameters(inChannels: cin, outChannels: cout, kernelH: k, kernelW: k, strideH: s, strideW: s,
                             padTop: k / 2, padLeft: k / 2, padBottom: k / 2, padRight: k / 2, groups: groups)
        }
        func dw(_ c: Int, _ k: Int, _ s: Int) -> Conv2DParameters { conv(c, c, k, s, groups: c) }
        return [
            ("stem 3->16 3x3 s2 @255", conv(3, 16, 3, 2), 255, 255),
            ("stem 3->16 3x3 s2 @127", conv(3, 16, 3, 2), 127, 127),
            ("dw3x3 s1 16ch @128", dw(16, 3, 1), 128, 128),
            ("dw3x3 s2 64ch @128", dw(64, 3, 2), 128, 128),
            ("dw3x3 s1 72ch @64", dw(72, 3, 1), 64, 64),
            ("dw5x5 s2 72ch @64", dw(72, 5, 2), 64, 64),
            ("dw5x5 s1 120ch @32", dw(120, 5, 1), 32, 32),
            ("dw5x5 s1 96ch @8", dw(96, 5, 1), 8, 8),
            ("dw3x3 s1 96ch @16 (head)", dw(96, 3, 1), 16, 16),
            ("dw4x4 p1 96ch @16 (head xcorr)", Conv2DParameters(inChannels: 96, outChannels: 96, kernelH: 4, kernelW: 4,
                                                               padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                                                               groups: 96), 16, 16),
            ("dw2x2 p0 64ch @16 (head)", Conv2DParameters(inChannels: 64, outChannels: 64, kernelH: 2, kernelW: 2,
                                                         groups: 64), 16, 16),
            ("pw 16->64 @128", conv(16, 64, 1, 1), 128, 128),
            ("pw 24->72 @64", conv(24, 72, 1, 1), 64, 64),
            ("pw 72->24 @64", conv(72, 24, 1, 1), 64, 64),
            ("pw 40->120 @32", conv(40, 120, 1, 1), 32, 32),
            ("pw 96->576 @8", conv(96, 576, 1, 1), 8, 8),
            ("pw 576->96 @8", conv(576, 96, 1, 1), 8, 8),
            ("pw 96->96 @16 (head)", conv(96, 96, 1, 1), 16, 16),
            ("pw 48->48 @16 (head)", conv(48, 48, 1, 1), 16, 16),
            ("3x3 48->48 @16 (general)", conv(48, 48, 3, 1), 16, 16),
            // One-stream center heads (Winograd F(2x2,3x3) where both sides have >= 16 channels).
            ("3x3 128->128 @16 (one-stream head)", conv(128, 128, 3, 1), 16, 16),
            ("3x3 256->128 @16 (one-stream head)", conv(256, 128, 3, 1), 16, 16),
            ("3x3 128->64 @16 (one-stream head)", conv(128, 64, 3, 1), 16, 16),
            ("3x3 64->32 @16 (one-stream head)", conv(64, 32, 3, 1), 16, 16),
            ("3x3 32->16 @16 (one-stream head)", conv(32, 16, 3, 1), 16, 16),
            // One-stream patch embeddings (stride 2, search 256×256): et-256 and et-128 stems.
            ("3x3 s2 3->32 @256 (stem)", conv(3, 32, 3, 2), 256, 256),
            ("3x3 s2 32->64 @128 (stem)", conv(32, 64, 3, 2), 128, 128),
            ("3x3 s2 64->128 @64 (stem)", conv(64, 128, 3, 2), 64, 64),
            ("3x3 s2 128->256 @32 (stem)", conv(128, 256, 3, 2), 32, 32),
            ("3x3 s2 16->32 @128 (stem)", conv(16, 32, 3, 2), 128, 128),
        ]
    }()

    /// Median wall time of `body` in µs over at least `minRuns` runs and `minSeconds` seconds.
    public static func median(minRuns: Int = 9, minSeconds: Double = 0.05, _ body: () -> Void) -> Double {
        body(); body()
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while times.count < minRuns || (Double(DispatchTime.now().uptimeNanoseconds - start) < minSeconds * 1e9 && times.count < 2000) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Times every GEMM shape whose name contains `filter` (bias per column and ReLU fused, as in a real layer).
    public static func runGEMM(pool: ThreadPool, shapes: [GEMMShape] = gemmShapes, minSeconds: Double = 0.05,
                               matching filter: String = "") -> [Result] {
        shapes.compactMap { s in
            let name = "gemm \(s.m)x\(s.k)x\(s.n)" + (s.note.isEmpty ? "" : " (\(s.note))")
            if !filter.isEmpty && !name.contains(filter) { return nil }
            var rng: UInt32 = 12345
            func r() -> Float { rng = rng &* 1_664_525 &+ 1_013_904_223; return Float(rng >> 8) / Float(1 << 24) - 0.5 }
            let a = (0..<(s.m * s.k)).map { _ in r() }, b = (0..<(s.k * s.n)).map { _ in r() }
            let bias = (0..<max(s.m, s.n)).map { _ in r() }
            var c = [Float](repeating: 0, count: s.m * s.n)
            let ldb = s.transB ? s.k : s.n
            let packed = s.packedA ? PackedMatrix(side: .left, rows: s.m, cols: s.k, data: a, ld: s.k, transposed: false) : nil
            let us = median(minSeconds: minSeconds) {
                if let packed {
                    Kernels.gemm(m: s.m, n: s.n, k: s.k, a: packed, b: b, ldb: ldb, transB: s.transB, c: &c, ldc: s.n,
                                 bias: bias, activation: .relu, pool: pool)
                } else {
                    Kernels.gemm(m: s.m, n: s.n, k: s.k, a: a, lda: s.transA ? s.m : s.k, transA: s.transA, b: b, ldb: ldb, transB: s.transB,
                                 c: &c, ldc: s.n, bias: bias, activation: .relu, pool: pool)
                }
            }
            return Result(name: name, flops: 2 * Double(s.m * s.n * s.k), medianMicroseconds: us)
        }
    }

    /// Times every convolution shape whose name contains `filter` (bias + hard-swish fused).
    public static func runConv(pool: ThreadPool, minSeconds: Double = 0.05, matching filter: String = "") -> [Result] {
        convShapes.compactMap { item in
            if !filter.isEmpty && !item.name.contains(filter) { return nil }
            let p = item.params
            let (oh, ow) = p.outputSize(inH: item.h, inW: item.w)
            let input = [Float](repeating: 0.25, count: p.inChannels * item.h * item.w)
            let conv = Conv2D(p, weight: [Float](repeating: 0.01, count: p.weightCount),
                              bias: [Float](repeating: 0.1, count: p.outChannels), activation: .hardSwish)
            var scratch = [Float](repeating: 0, count: max(1, conv.scratchCount(inH: item.h, inW: item.w)))
            var out = [Float](repeating: 0, count: p.outChannels * oh * ow)
            let us = median(minSeconds: minSeconds) {
                scratch.withUnsafeMutableBufferPointer { s in
                    conv.forward(input: input, inH: item.h, inW: item.w, output: &out, scratch: s.baseAddress, pool: pool)
                }
            }
            let macs = Double(p.outChannels * oh * ow * (p.inChannels / p.groups) * p.kernelH * p.kernelW)
            return Result(name: item.name, flops: 2 * macs, medianMicroseconds: us)
        }
    }
}
