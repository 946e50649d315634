/// Statistics of a tracker's score map used to tell a real target from noise.
public enum ScoreMapStatistics {
    /// Peak-to-sidelobe ratio: (peak − mean of the sidelobe) / std of the sidelobe, where the
    /// sidelobe is the map outside a (2·radius+1)² square around the peak. A sharp single peak
    /// gives a large value; a flat or multi-modal map (target gone, black frame) gives a small one.
    public static func peakToSidelobeRatio(_ map: UnsafeBufferPointer<Float>, size: Int, peak: Int, radius: Int = 2) -> Double {
        let pr = peak / size, pc = peak % size
        var sum = 0.0, sumSq = 0.0, n = 0.0
        for r in 0..<size where abs(r - pr) > radius {
            for c in 0..<size { let v = Double(map[r * size + c]); sum += v; sumSq += v * v; n += 1 }
        }
        for r in max(0, pr - radius)...min(size - 1, pr + radius) {
            for c in 0..<size where abs(c - pc) > radius { let v = Double(map[r * size + c]); sum += v; sumSq += v * v; n += 1 }
        }
        guard n > 1 else { return 0 }
        let mean = sum / n
        let std = max((sumSq / n - mean * mean).squareRoot(), 1e-6)
        return (Double(map[peak]) - mean) / std
    }

    /// Cosine similarity between the template's centre features and the search features around a
    /// score-map cell: high when the chosen location looks like the target, low for a distractor
    /// or an empty frame.
    ///
    /// - Parameters:
    ///   - template: C × 8 × 8 template feature (the target fills its centre 4 × 4).
    ///   - search: C × 16 × 16 search feature.
    ///   - cell: Row-major index into the S × S score map whose cell (i, j) looks at search-crop
    ///     pixel ((j − S/2)·16 + 127, (i − S/2)·16 + 127).
    public static func templateSimilarity(template: UnsafeBufferPointer<Float>, search: UnsafeBufferPointer<Float>,
                                          channels C: Int, scoreSize S: Int, cell: Int) -> Double {
        // Feature f is centred on crop pixel 16f + 7.5; take the 4 × 4 window centred on the cell.
        func start(_ i: Int) -> Int {
            let f = (Double((i - S / 2) * 16 + 127) - 7.5) / 16
            return Int((f - 1.5).rounded())
        }
        let r0 = start(cell / S), c0 = start(cell % S)
        var dot = 0.0, nz = 0.0, nx = 0.0
        for ch in 0..<C {
            for dy in 0..<4 {
                let y = min(15, max(0, r0 + dy))
                for dx in 0..<4 {
                    let x = min(15, max(0, c0 + dx))
                    let z = Double(template[ch * 64 + (2 + dy) * 8 + 2 + dx]), v = Double(search[ch * 256 + y * 16 + x])
                    dot += z * v; nz += z * z; nx += v * v
                }
            }
        }
        return nz > 0 && nx > 0 ? dot / (nz * nx).squareRoot() : 0
    }
}
