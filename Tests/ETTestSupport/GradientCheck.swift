import ETNN

/// Uniform values in [-scale, scale) from a seeded generator (replayable from the seed).
public func seededValues(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in (g.nextUnitDouble() * 2 - 1) * scale }
}

/// |a − b| / max(|a|, |b|, floor): the relative error the gradient checks report.
public func relativeError(_ a: Double, _ b: Double, floor: Double = 1e-6) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

/// The worst relative error between two vectors (and where), for tolerance comparisons.
public func worstRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-6) -> (error: Double, index: Int) {
    precondition(a.count == b.count, "worstRelativeError: \(a.count) vs \(b.count) values")
    var worst = (0.0, -1)
    for i in 0..<a.count {
        let e = relativeError(a[i], b[i], floor: floor)
        if e > worst.0 { worst = (e, i) }
    }
    return (worst.0, worst.1)
}

/// Central finite differences of `loss` in float64: (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h for each
/// index in `indices`, restoring x after each probe.
public func numericalGradient(of loss: () -> Double, at x: UnsafeMutablePointer<Double>, indices: [Int],
                              step h: Double = 1e-6) -> [Double] {
    indices.map { i in
        let saved = x[i]
        x[i] = saved + h
        let up = loss()
        x[i] = saved - h
        let down = loss()
        x[i] = saved
        return (up - down) / (2 * h)
    }
}

/// `count` distinct indices in 0..<n, seeded (every index when n ≤ count).
public func sampledIndices(_ n: Int, count: Int, seed: UInt64) -> [Int] {
    guard n > count else { return Array(0..<n) }
    var g = SeededGenerator(seed: seed)
    var picked = Set<Int>()
    while picked.count < count { picked.insert(Int(g.next() % UInt64(n))) }
    return picked.sorted()
}
