import XCTest
import ETCore

final class GEMMTests: XCTestCase {
    struct Case: CustomStringConvertible {
        var m, n, k: Int
        var transA = false, transB = false, accumulate = false
        var bias: Int = 0  // 0 none, 1 per column, 2 per row
        var activation: Activation = .identity
        var pad = 0        // extra leading-dimension elements (unaligned strides)
        var threads = 1
        var packed = 0     // 0 raw, 1 packed A, 2 packed B
        var description: String {
            "gemm m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(accumulate) bias\(bias) \(activation) pad\(pad) threads\(threads) packed\(packed)"
        }
    }

    static func check(_ t: Case, seed: UInt64 = 1) {
        var rng = SeededRandom(seed &+ UInt64(t.m * 1_000_003 + t.n * 1009 + t.k))
        let lda = (t.transA ? t.m : t.k) + t.pad, ldb = (t.transB ? t.k : t.n) + t.pad, ldc = t.n + t.pad
        let a = rng.floats((t.transA ? t.k : t.m) * lda), b = rng.floats((t.transB ? t.n : t.k) * ldb)
        let c0 = rng.floats(t.m * ldc)
        let biasV = rng.floats(max(t.m, t.n))
        var got = c0, ref = c0
        var scale = c0.map { t.accumulate ? abs($0) : 0 }
        let absA = a.map(abs), absB = b.map(abs), absBias = biasV.map(abs)
        biasV.withUnsafeBufferPointer { bv in
            absBias.withUnsafeBufferPointer { abv in
                let bp = t.bias == 0 ? nil : bv.baseAddress
                let abp = t.bias == 0 ? nil : abv.baseAddress
                ReferenceKernels.gemm(m: t.m, n: t.n, k: t.k, a: a, lda: lda, transA: t.transA, b: b, ldb: ldb,
                                      transB: t.transB, c: &ref, ldc: ldc, accumulate: t.accumulate, bias: bp,
                                      biasPerRow: t.bias == 2, activation: t.activation)
                ReferenceKernels.gemm(m: t.m, n: t.n, k: t.k, a: absA, lda: lda, transA: t.transA, b: absB, ldb: ldb,
                                      transB: t.transB, c: &scale, ldc: ldc, accumulate: t.accumulate, bias: abp,
                                      biasPerRow: t.bias == 2)
                let pool = TestPools.pool(t.threads)
                switch t.packed {
                case 1:
                    let pa = a.withUnsafeBufferPointer {
                        PackedMatrix(side: .left, rows: t.m, cols: t.k, data: $0.baseAddress!, ld: lda, transposed: t.transA)
                    }
                    b.withUnsafeBufferPointer { bb in
                        Kernels.gemm(m: t.m, n: t.n, k: t.k, a: pa, b: bb.baseAddress!, ldb: ldb, transB: t.transB,
                                     c: &got, ldc: ldc, accumulate: t.accumulate, bias: bp, biasPerRow: t.bias == 2,
                                     activation: t.activation, pool: pool)
                    }
                case 2:
                    let pb = b.withUnsafeBufferPointer {
                        PackedMatrix(side: .right, rows: t.k, cols: t.n, data: $0.baseAddress!, ld: ldb, transposed: t.transB)
                    }
                    a.withUnsafeBufferPointer { ab in
                        Kernels.gemm(m: t.m, n: t.n, k: t.k, a: ab.baseAddress!, lda: lda, transA: t.transA, b: pb,
                                     c: &got, ldc: ldc, accumulate: t.accumulate, bias: bp, biasPerRow: t.bias == 2,
                                     activation: t.activation, pool: pool)
                    }
                default:
                    Kernels.gemm(m: t.m, n: t.n, k: t.k, a: a, lda: lda, transA: t.transA, b: b, ldb: ldb,
                                 transB: t.transB, c: &got, ldc: ldc, accumulate: t.accumulate, bias: bp,
                                 biasPerRow: t.bias == 2, activation: t.activation, pool: pool)
                }
            }
        }
        // Padding columns of C must be untouched.
        for i in 0..<t.m { for j in t.n..<ldc where got[i * ldc + j] != c0[i * ldc + j] {
            XCTFail("\(t): wrote outside C at row \(i) column \(j)"); return
        } }
        assertClose(got, ref, scale: scale, tol: 2e-6, "\(t)")
    }

    func testAwkwardSizes() { Self.awkwardSizes() }
    static func awkwardSizes() {
        let sizes = [1, 3, 7, 17, 33]
        for m in sizes { for n in sizes { for k in [1, 3, 17, 33] {
            check(Case(m: m, n: n, k: k))
        } } }
    }

    func testTransposesAndStrides() { Self.transposesAndStrides() }
    static func transposesAndStrides() {
        for (m, n, k) in [(7, 17, 33), (13, 35, 5), (1, 19, 9), (19, 1, 9), (6, 16, 256), (50, 40, 300)] {
            for tA in [false, true] { for tB in [false, true] { for pad in [0, 3] {
                check(Case(m: m, n: n, k: k, transA: tA, transB: tB, pad: pad))
            } } }
        }
    }

    func testAccumulateBiasActivations() { Self.accumulateBiasActivations() }
    static func accumulateBiasActivations() {
        let acts: [Activation] = [.identity, .relu, .clip(-0.5, 0.7), .hardSwish, .hardSigmoid(alpha: 0.2, beta: 0.5),
                                  .sigmoid, .gelu]
        for act in acts { for bias in 0...2 { for acc in [false, true] {
            check(Case(m: 17, n: 33, k: 27, accumulate: acc, bias: bias, activation: act))
            check(Case(m: 1, n: 21, k: 9, accumulate: acc, bias: bias, activation: act))
            check(Case(m: 21, n: 1, k: 9, transA: true, accumulate: acc, bias: bias, activation: act))
        } } }
    }

    func testMicroTileEdges() { Self.microTileEdges() }
    static func microTileEdges() {
        // Around the AVX-512 tiles (12 or 6 rows × 32 or 16 columns: pairs of 16-column panels
        // with an odd last panel) and the AVX2 6×16 tile, with every epilogue part.
        for m in [5, 6, 7, 11, 12, 13, 18, 25] { for n in [15, 16, 31, 32, 33, 48, 49, 64] {
            check(Case(m: m, n: n, k: 19, accumulate: (m + n) % 2 == 0, bias: (m + n) % 3, activation: .relu))
        } }
        for act: Activation in [.clip(-0.5, 0.7), .hardSwish, .hardSigmoid(alpha: 0.2, beta: 0.5), .sigmoid, .gelu] {
            check(Case(m: 13, n: 49, k: 7, accumulate: true, bias: 1, activation: act))
            check(Case(m: 24, n: 64, k: 300, bias: 2, activation: act, packed: 1))
        }
    }

    func testZeroK() { Self.zeroK() }
    static func zeroK() {
        check(Case(m: 5, n: 7, k: 0, accumulate: true, bias: 1, activation: .relu))
        check(Case(m: 5, n: 7, k: 0, bias: 2))
    }

    func testBlockingEdges() { Self.blockingEdges() }
    static func blockingEdges() {
        // Several K blocks (split evenly), M over MC, N over NC, with every operand form.
        for packed in 0...2 {
            // N over NC (1024) with two K blocks; M over MC (96) with three K blocks.
            check(Case(m: 7, n: 1030, k: 300, bias: 2, activation: .relu, packed: packed))
            check(Case(m: 100, n: 21, k: 520, transA: true, transB: true, accumulate: true, bias: 1, pad: 1, packed: packed))
        }
    }

    func testPackedOperands() { Self.packedOperands() }
    static func packedOperands() {
        for packed in 1...2 { for tA in [false, true] { for tB in [false, true] {
            check(Case(m: 19, n: 35, k: 29, transA: tA, transB: tB, bias: 1, activation: .hardSwish, pad: 2, packed: packed))
            check(Case(m: 1, n: 3, k: 7, transA: tA, transB: tB, packed: packed))
        } } }
    }

    func testTwoThreads() { Self.twoThreads() }
    static func twoThreads() {
        for packed in 0...2 {
            check(Case(m: 96, n: 200, k: 300, bias: 2, activation: .sigmoid, threads: 2, packed: packed))
            check(Case(m: 200, n: 40, k: 600, accumulate: true, bias: 1, threads: 2, packed: packed))
        }
    }

    func testPackingFromArray() { Self.packingFromArray() }
    static func packingFromArray() {
        // ONNX Gemm style: Y[m×n] = X[m×k] · Wᵀ with W stored n×k (transB = 1), W packed once.
        var rng = SeededRandom(11)
        let m = 5, n = 19, k = 23
        let x = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n)
        let packed = PackedMatrix.packing(side: .right, rows: k, cols: n, w, transposed: true)
        var got = [Float](repeating: 0, count: m * n), ref = got
        Kernels.gemm(m: m, n: n, k: k, a: x, lda: k, transA: false, b: packed, c: &got, ldc: n, bias: bias)
        ReferenceKernels.gemm(m: m, n: n, k: k, a: x, lda: k, transA: false, b: w, ldb: k, transB: true,
                              c: &ref, ldc: n, bias: bias)
        assertClose(got, ref, tol: 1e-5, "PackedMatrix.packing right \(k)×\(n) transposed")
    }

    func testOneAndTwoThreadsAgree() { Self.oneAndTwoThreadsAgree() }
    static func oneAndTwoThreadsAgree() {
        var rng = SeededRandom(7)
        let m = 64, n = 256, k = 288
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var c1 = [Float](repeating: 0, count: m * n), c2 = c1
        Kernels.gemm(m: m, n: n, k: k, a: a, lda: k, transA: false, b: b, ldb: n, transB: false, c: &c1, ldc: n)
        Kernels.gemm(m: m, n: n, k: k, a: a, lda: k, transA: false, b: b, ldb: n, transB: false, c: &c2, ldc: n,
                     pool: TestPools.two)
        XCTAssertEqual(c1, c2, "1 and 2 threads differ (m\(m) n\(n) k\(k))")
    }
}
