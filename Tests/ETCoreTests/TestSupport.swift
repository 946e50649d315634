import XCTest
import ETCore

/// Deterministic pseudo-random numbers (SplitMix64), so a failure reproduces.
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<n).map { _ in float(lo, hi) }
    }
}

/// Checks |got - ref| <= tol * (1 + scale) element-wise (scale: Σ|terms| of each output, or 0 for a
/// plain relative-to-one check) and reports the parameters and the largest violation.
func assertClose(_ got: [Float], _ ref: [Float], scale: [Float]? = nil, tol: Float, _ context: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, ref.count, "count mismatch: \(context())", file: file, line: line)
    var worst: Float = 0, worstIndex = -1, maxDiff: Float = 0
    for i in 0..<min(got.count, ref.count) {
        let d = abs(got[i] - ref[i])
        if !(d <= maxDiff) { maxDiff = d.isNaN ? .infinity : d }
        let allowed = tol * (1 + (scale?[i] ?? abs(ref[i])))
        let ratio = d.isNaN ? Float.infinity : d / allowed
        if ratio > worst { worst = ratio; worstIndex = i }
    }
    if worst > 1 {
        XCTFail("\(context()): max |diff| \(maxDiff); worst at [\(worstIndex)] got \(got[worstIndex]) ref \(ref[worstIndex]) (\(worst)× tolerance \(tol))",
                file: file, line: line)
    }
}

/// A pool per thread count, shared by the tests (workers are persistent).
enum TestPools {
    static let two = ThreadPool(threads: 2, spinMicroseconds: 200)
    static func pool(_ threads: Int) -> ThreadPool { threads == 1 ? .serial : two }
}
