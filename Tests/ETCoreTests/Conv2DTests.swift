import XCTest
import ETCore

final class Conv2DTests: XCTestCase {
    static func check(_ p: Conv2DParameters, inH: Int, inW: Int, activation: Activation = .identity, bias: Bool = true,
               threads: Int = 1, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRandom(seed &+ UInt64(p.weightCount * 31 + inH * 7 + inW))
        let input = rng.floats(p.inChannels * inH * inW)
        let weight = rng.floats(p.weightCount)
        let b: [Float]? = bias ? rng.floats(p.outChannels) : nil
        let (oh, ow) = p.outputSize(inH: inH, inW: inW)
        let count = p.outChannels * oh * ow
        var ref = [Float](repeating: 0, count: count), scale = ref
        ReferenceKernels.conv2d(p, input: input, inH: inH, inW: inW, weight: weight, bias: b,
                                activation: activation, output: &ref)
        ReferenceKernels.conv2d(p, input: input.map(abs), inH: inH, inW: inW, weight: weight.map(abs),
                                bias: b?.map(abs), activation: .identity, output: &scale)
        let conv = Conv2D(p, weight: weight, bias: b, activation: activation)
        var scratch = [Float](repeating: .nan, count: conv.scratchCount(inH: inH, inW: inW))
        var out = [Float](repeating: .nan, count: count + 5)
        scratch.withUnsafeMutableBufferPointer { s in
            conv.forward(input: input, inH: inH, inW: inW, output: &out, scratch: s.baseAddress,
                         pool: TestPools.pool(threads))
        }
        XCTAssertTrue(out[count...].allSatisfy { $0.isNaN }, "\(p) wrote past the output", file: file, line: line)
        assertClose(Array(out[..<count]), ref, scale: scale, tol: 2e-6,
                    "\(p) in \(inH)×\(inW) \(activation) bias \(bias) threads \(threads)", file: file, line: line)
        // The same convolution with weights given at call time.
        var dyn = [Float](repeating: .nan, count: count)
        weight.withUnsafeBufferPointer { w in
            func run(_ bp: UnsafePointer<Float>?) {
                Kernels.conv2d(p, input: input, inH: inH, inW: inW, weight: w.baseAddress!, bias: bp,
                               activation: activation, output: &dyn, pool: TestPools.pool(threads))
            }
            if let b { b.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }
        assertClose(dyn, ref, scale: scale, tol: 2e-6,
                    "Kernels.conv2d \(p) in \(inH)×\(inW) \(activation) bias \(bias) threads \(threads)", file: file, line: line)
    }

    func testDepthwiseFastPaths() { Self.depthwiseFastPaths() }
    static func depthwiseFastPaths() {
        for k in [2, 3, 4, 5] { for s in [1, 2] {
            for (h, w) in [(1, 1), (2, 3), (8, 8), (13, 29), (16, 16), (33, 17)] {
                for pads in [(k / 2, k / 2, k / 2, k / 2), (0, 0, 0, 0), (0, 1, 1, 0), (2, 0, 1, 3)] {
                    let p = Conv2DParameters(inChannels: 3, outChannels: 3, kernelH: k, kernelW: k, strideH: s, strideW: s,
                                             padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3, groups: 3)
                    if p.outputSize(inH: h, inW: w).h <= 0 || p.outputSize(inH: h, inW: w).w <= 0 { continue }
                    check(p, inH: h, inW: w, activation: .hardSwish)
                }
            }
        } }
    }

    func testDepthwiseGenericPaths() { Self.depthwiseGenericPaths() }
    static func depthwiseGenericPaths() {
        let cases = [
            Conv2DParameters(inChannels: 4, outChannels: 4, kernelH: 7, kernelW: 7, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3, groups: 4),
            Conv2DParameters(inChannels: 4, outChannels: 4, kernelH: 3, kernelW: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                             dilationH: 2, dilationW: 2, groups: 4),
            Conv2DParameters(inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 5, strideH: 1, strideW: 2, padTop: 1, padLeft: 2,
                             padBottom: 1, padRight: 2, groups: 2),
            Conv2DParameters(inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 3, strideH: 3, strideW: 3, padTop: 1, padLeft: 1,
                             groups: 2),
            Conv2DParameters(inChannels: 5, outChannels: 5, kernelH: 1, kernelW: 1, groups: 5),
        ]
        for p in cases { for (h, w) in [(7, 9), (17, 12)] { check(p, inH: h, inW: w, activation: .relu) } }
    }

    func testNanoTrackHeadShapes() { Self.nanoTrackHeadShapes() }
    static func nanoTrackHeadShapes() {
        // Template-as-kernel cross-correlation (4×4 depthwise, pad 1) and the 2×2 depthwise layers.
        check(Conv2DParameters(inChannels: 96, outChannels: 96, kernelH: 4, kernelW: 4, padTop: 1, padLeft: 1,
                               padBottom: 1, padRight: 1, groups: 96), inH: 16, inW: 16, bias: false)
        check(Conv2DParameters(inChannels: 64, outChannels: 64, kernelH: 2, kernelW: 2, groups: 64), inH: 15, inW: 15,
              activation: .clip(0, 6))
    }

    func testDepthwiseWideMaps() { Self.depthwiseWideMaps() }
    static func depthwiseWideMaps() {
        // Widths around the 16- and 32-column blocks of the AVX-512 depthwise kernels.
        for k in [3, 5] { for s in [1, 2] { for (h, w) in [(5, 31), (6, 32), (7, 33), (9, 47), (4, 64), (3, 70)] {
            let p = Conv2DParameters(inChannels: 2, outChannels: 2, kernelH: k, kernelW: k, strideH: s, strideW: s,
                                     padTop: k / 2, padLeft: k / 2, padBottom: k / 2, padRight: k / 2, groups: 2)
            check(p, inH: h, inW: w, activation: .relu)
        } } }
    }

    func testPointwise() { Self.pointwise() }
    static func pointwise() {
        for (cin, cout, h, w) in [(1, 1, 1, 1), (3, 7, 5, 3), (16, 17, 8, 8), (33, 48, 16, 16), (96, 24, 7, 9)] {
            for act in [Activation.identity, .relu, .hardSwish] {
                check(Conv2DParameters(inChannels: cin, outChannels: cout, kernelH: 1, kernelW: 1), inH: h, inW: w, activation: act)
            }
        }
        check(Conv2DParameters(inChannels: 8, outChannels: 12, kernelH: 1, kernelW: 1, groups: 2), inH: 6, inW: 5, bias: false)
    }

    func testGeneralConvolutions() { Self.generalConvolutions() }
    static func generalConvolutions() {
        let cases = [
            Conv2DParameters(inChannels: 3, outChannels: 16, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),  // NanoTrack stem
            Conv2DParameters(inChannels: 8, outChannels: 12, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1,
                             padRight: 1, groups: 4),
            Conv2DParameters(inChannels: 6, outChannels: 6, kernelH: 3, kernelW: 3, padTop: 2, padLeft: 2, padBottom: 2,
                             padRight: 2, dilationH: 2, dilationW: 2),
            Conv2DParameters(inChannels: 4, outChannels: 5, kernelH: 2, kernelW: 3, strideH: 2, strideW: 1, padTop: 0,
                             padLeft: 1, padBottom: 1, padRight: 0),
            Conv2DParameters(inChannels: 5, outChannels: 7, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2),
            Conv2DParameters(inChannels: 2, outChannels: 3, kernelH: 5, kernelW: 5),
        ]
        for p in cases { for (h, w) in [(9, 9), (6, 13), (16, 11)] {
            check(p, inH: h, inW: w, activation: .clip(0, 6))
            check(p, inH: h, inW: w, bias: false)
        } }
        // Output rows of 16+ columns, so im2col packs whole 16-column pieces (stride 1 and 2),
        // up to the end of the input.
        for (h, w) in [(33, 35), (20, 64), (7, 97)] {
            check(cases[0], inH: h, inW: w, activation: .hardSwish)
            check(cases[3], inH: h, inW: w, activation: .relu)
            check(cases[5], inH: h, inW: w, bias: false)
        }
    }

    func testWinograd() { Self.winograd() }
    static func winograd() {
        // 3×3 stride-1 pad-1 with ≥ 16 channels each side: Winograd F(2×2,3×3). Widths that are a
        // multiple of 16 take the vector transforms, the others the shared body; odd sizes leave
        // half tiles at the right and bottom edges; a width above 256 falls back to im2col.
        func p(_ cin: Int, _ cout: Int) -> Conv2DParameters {
            Conv2DParameters(inChannels: cin, outChannels: cout, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        }
        for (cin, cout) in [(16, 16), (17, 33), (128, 64)] {
            for (h, w) in [(16, 16), (1, 1), (2, 2), (3, 5), (15, 17), (16, 32), (7, 48), (9, 20)] {
                check(p(cin, cout), inH: h, inW: w, activation: .relu)
            }
        }
        check(p(32, 16), inH: 16, inW: 16, bias: false)
        check(p(32, 16), inH: 16, inW: 16, activation: .hardSwish)
        check(p(16, 16), inH: 3, inW: 260, activation: .relu)
        check(p(64, 48), inH: 32, inW: 32, activation: .relu, threads: 2)
        check(p(24, 40), inH: 11, inW: 13, threads: 2)
    }

    func testTwoThreads() { Self.twoThreads() }
    static func twoThreads() {
        // Large enough to take the threaded branches of every path.
        check(Conv2DParameters(inChannels: 32, outChannels: 32, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1,
                               padBottom: 1, padRight: 1, groups: 32), inH: 64, inW: 60, activation: .relu, threads: 2)
        check(Conv2DParameters(inChannels: 64, outChannels: 64, kernelH: 1, kernelW: 1), inH: 32, inW: 32,
              activation: .hardSwish, threads: 2)
        check(Conv2DParameters(inChannels: 16, outChannels: 24, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                               padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), inH: 40, inW: 36, threads: 2)
    }
}
