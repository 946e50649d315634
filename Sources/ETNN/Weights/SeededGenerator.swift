import Foundation

/// A small deterministic random number generator (SplitMix64) for weight initialisation: the
/// same seed gives the same numbers on every platform and Swift version, unlike
/// `SystemRandomNumberGenerator`.
///
/// SplitMix64 (Steele, Lea and Flood, 2014): `state += 0x9E3779B97F4A7C15`, then the output is
/// `state` passed through two xor-shift-multiply rounds. It has a 2^64 period, passes BigCrush,
/// and costs about 1 ns per number, plenty for initialising parameters. Seed 0 gives
/// 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, ... (the tests pin these).
///
/// `init(seed:stream:)` derives an independent stream per parameter name, so a tensor's
/// initial values depend only on (seed, name) and not on the order parameters are created in:
/// adding a layer does not change the others.
public struct SeededGenerator: RandomNumberGenerator, Equatable, Sendable {
    public private(set) var state: UInt64

    /// A generator whose first output is `mix(seed + golden)`.
    public init(seed: UInt64) { state = seed }

    /// The stream of `name` under `seed`: the state is SplitMix64's mix of `seed` xor the
    /// 64-bit FNV-1a hash of the UTF-8 name.
    public init(seed: UInt64, stream name: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        state = Self.mix(seed ^ h)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
