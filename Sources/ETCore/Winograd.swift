import CKernels

/// Winograd F(2×2, 3×3) for 3×3 stride-1 pad-1 convolutions (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2015): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A per 2×2 output tile.
/// Over all tiles and channels the element-wise products become 16 GEMMs
/// M[ξ] (C_out × tiles) = U[ξ] (C_out × C_in) · V[ξ] (C_in × tiles), so 16 multiplications
/// replace 36 per tile and channel pair (2.25× fewer). Every transform coefficient is 0, ±1 or
/// ±½, so the result differs from the direct sum by rounding only (about 1e-6 relative).
enum Winograd {
    /// Whether the transforms take a map this wide (their row buffers are fixed-size).
    static func fits(width: Int) -> Bool { width <= 2 * Int(CK_WINO_MAX_TW) }

    static func tiles(inH: Int, inW: Int) -> Int { ((inH + 1) / 2) * ((inW + 1) / 2) }

    /// Floats between the 16 planes of V or M: C·T plus 16, so that the planes do not all sit at
    /// the same offset modulo 4 KiB (C·T is often a multiple of 1024, and 16 store streams with
    /// equal low address bits stall on false store-to-load dependencies: 1.3× slower transforms).
    static func planeStride(channels: Int, tiles t: Int) -> Int { channels * t + 16 }

    /// V (16 planes of C_in·T) and M (16 planes of C_out·T) floats.
    static func scratchCount(inChannels: Int, outChannels: Int, inH: Int, inW: Int) -> Int {
        let t = tiles(inH: inH, inW: inW)
        return 16 * (planeStride(channels: inChannels, tiles: t) + planeStride(channels: outChannels, tiles: t))
    }

    /// U[ξ] = (G g Gᵀ)[ξ] for every output/input channel pair, packed as 16 left GEMM operands.
    /// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]. Computed in Double, rounded once.
    static func transformedWeights(_ w: [Float], outChannels: Int, inChannels: Int) -> [PackedMatrix] {
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        var u = [Float](repeating: 0, count: 16 * outChannels * inChannels)
        let plane = outChannels * inChannels
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                let k = (co * inChannels + ci) * 9
                // t = G·k (4×3), then t·Gᵀ (4×4).
                var t = [[Double]](repeating: [0, 0, 0], count: 4)
                for i in 0..<4 { for j in 0..<3 { t[i][j] = (0..<3).reduce(0) { $0 + g[i][$1] * Double(w[k + $1 * 3 + j]) } } }
                for i in 0..<4 {
                    for j in 0..<4 {
                        u[(4 * i + j) * plane + co * inChannels + ci] = Float((0..<3).reduce(0) { $0 + t[i][$1] * g[j][$1] })
                    }
                }
            }
        }
        return u.withUnsafeBufferPointer { p in
            (0..<16).map { xi in
                PackedMatrix(side: .left, rows: outChannels, cols: inChannels, data: p.baseAddress! + xi * plane,
                             ld: inChannels, transposed: false)
            }
        }
    }

    static func run(inChannels: Int, outChannels: Int, inH: Int, inW: Int, input: UnsafePointer<Float>,
                    weights: [PackedMatrix], bias: UnsafePointer<Float>?, activation: Activation,
                    output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let t = tiles(inH: inH, inW: inW)
        let vPlane = planeStride(channels: inChannels, tiles: t), mPlane = planeStride(channels: outChannels, tiles: t)
        let v = scratch, m = scratch + 16 * vPlane
        let threads = min(pool.threadCount, 2)
        var act = activation.ck
        // Transforms split over channels, the 16 GEMMs over ξ: every piece is independent.
        func split(_ n: Int, _ body: (Int, Int) -> Void) {
            if threads > 1 {
                pool.parallelFor(threads) { i in body(n * i / threads, n * (i + 1) / threads) }
            } else {
                body(0, n)
            }
        }
        split(inChannels) { c0, c1 in ck_winograd23_input(input, c0, c1 - c0, inH, inW, v, vPlane) }
        split(16) { x0, x1 in
            for xi in x0..<x1 {
                GEMMDriver.run(m: outChannels, n: t, k: inChannels, a: .packed(weights[xi]),
                               b: .raw(v + xi * vPlane, rs: t, cs: 1), c: m + xi * mPlane, ldc: t,
                               accumulate: false, bias: nil, biasPerRow: true, activation: .identity, pool: .serial)
            }
        }
        withUnsafePointer(to: &act) { a in
            split(outChannels) { c0, c1 in ck_winograd23_output(m, mPlane, c0, c1 - c0, inH, inW, bias, a, output) }
        }
    }
}
