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
}
