import Foundation

// Size letters: P positions, C channels, H×W grid.

/// Position tables: the 1-D sin/cos initialisation and the 2-D bicubic resampling used to move a
/// table between grids (architecture.md §3).
public enum PositionEmbedding {
    /// Interleaved 1-D transformer sinusoid, P×C row-major:
    /// PE[p, 2i] = sin(p / 10000^(2i/C)), PE[p, 2i+1] = cos(p / 10000^(2i/C)).
    public static func sinusoid(positions: Int, channels c: Int) -> [Float] {
        var t = [Float](repeating: 0, count: positions * c)
        for p in 0..<positions {
            var i = 0
            while i < c {
                let angle = Double(p) / pow(10000, Double(i) / Double(c))
                t[p * c + i] = Float(sin(angle))
                if i + 1 < c { t[p * c + i + 1] = Float(cos(angle)) }
                i += 2
            }
        }
        return t
    }

    /// The VitTrack table (1+P)×C: a zero cls row, then the sinusoid over the P patch tokens.
    public static func vitTrackTable(patchTokens: Int, channels c: Int) -> [Float] {
        [Float](repeating: 0, count: c) + sinusoid(positions: patchTokens, channels: c)
    }

    /// PyTorch's cubic convolution weights (A = −0.75) for fractional offset t ∈ [0, 1).
    static func cubicWeights(_ t: Double) -> [Double] {
        let a = -0.75
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]
    }

    /// Resamples a table laid out as an inH×inW grid of C-vectors (row-major positions) to
    /// outH×outW, as `F.interpolate(mode="bicubic", align_corners=True)` on the C×H×W view.
    public static func resample(_ table: [Float], channels c: Int, from inH: Int, _ inW: Int,
                                to outH: Int, _ outW: Int) -> [Float] {
        precondition(table.count == inH * inW * c, "PositionEmbedding.resample: \(table.count) floats for \(inH)×\(inW)×\(c)")
        func taps(_ outN: Int, _ inN: Int) -> [(idx: [Int], w: [Double])] {
            (0..<outN).map { o in
                let src = outN > 1 ? Double(o) * Double(inN - 1) / Double(outN - 1) : 0
                let i0 = Int(src.rounded(.down))
                let w = cubicWeights(src - Double(i0))
                return ((-1...2).map { min(max(i0 + $0, 0), inN - 1) }, w)
            }
        }
        let ty = taps(outH, inH), tx = taps(outW, inW)
        var out = [Float](repeating: 0, count: outH * outW * c)
        var acc = [Double](repeating: 0, count: c)
        for oy in 0..<outH {
            for ox in 0..<outW {
                for j in 0..<c { acc[j] = 0 }
                for a in 0..<4 {
                    for b in 0..<4 {
                        let w = ty[oy].w[a] * tx[ox].w[b]
                        let base = (ty[oy].idx[a] * inW + tx[ox].idx[b]) * c
                        for j in 0..<c { acc[j] += w * Double(table[base + j]) }
                    }
                }
                let o = (oy * outW + ox) * c
                for j in 0..<c { out[o + j] = Float(acc[j]) }
            }
        }
        return out
    }
}
