import ETCore
import Foundation

/// How a parameter tensor starts: constants, or seeded random values.
///
/// `truncatedNormal` follows timm's `trunc_normal_(tensor, mean=0., std=1., a=-2., b=2.)`
/// (timm.layers.weight_init), which ViT-style models use with `std=.02`:
/// - `a` and `b` are **absolute** cut points, not multiples of `std`. With the defaults
///   (std 0.02, a -2, b 2) the cut lies at ±100 σ, so the values are in effect N(0, 0.02²);
///   pass `a: -0.04, b: 0.04` for a cut at ±2 σ.
/// - The method is the same inverse-CDF one: `l = Φ((a-μ)/σ)`, `u = Φ((b-μ)/σ)`; draw
///   `v` uniform in `[2l-1, 2u-1]`; the value is `μ + σ·√2·erfinv(v)`, clamped to `[a, b]`.
///   One uniform draw per element, in row-major order, so element `i` depends only on the
///   generator state and `i`.
/// The numbers are not PyTorch's (a different RNG), only the same distribution; the erfinv
/// and arithmetic run in Double and are rounded once to Float.
public enum ParameterInit: Equatable, Sendable {
    case zeros
    case ones
    case constant(Float)
    /// Uniform in [low, high).
    case uniform(low: Float, high: Float)
    /// Normal(mean, std²) truncated to the absolute interval [a, b] (timm's `trunc_normal_`).
    case truncatedNormal(mean: Float = 0, std: Float = 0.02, a: Float = -2, b: Float = 2)

    /// timm's ViT default: `trunc_normal_(std=.02)` with the absolute cut ±2.
    public static let vitDefault = ParameterInit.truncatedNormal()

    /// A tensor of `shape` drawn from `generator` (constants draw nothing).
    public func tensor(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        var data = [Float](repeating: 0, count: shape.reduce(1, *))
        fill(&data, generator: &generator)
        return Tensor(shape: shape, data: data)
    }

    /// A tensor of `shape` from the stream of `name` under `seed` (see `SeededGenerator(seed:stream:)`):
    /// the values depend only on (seed, name, shape).
    public func tensor(_ shape: [Int], seed: UInt64, name: String) -> Tensor {
        var g = SeededGenerator(seed: seed, stream: name)
        return tensor(shape, generator: &g)
    }

    /// Overwrites `values` with this initialisation.
    public func fill(_ values: inout [Float], generator: inout SeededGenerator) {
        switch self {
        case .zeros: for i in values.indices { values[i] = 0 }
        case .ones: for i in values.indices { values[i] = 1 }
        case let .constant(c): for i in values.indices { values[i] = c }
        case let .uniform(low, high):
            let (lo, span) = (Double(low), Double(high) - Double(low))
            for i in values.indices { values[i] = Swift.min(Float(lo + span * generator.nextUnitDouble()), high.nextDown) }
        case let .truncatedNormal(mean, std, a, b):
            precondition(std > 0 && a < b, "truncatedNormal: std must be positive and a < b (std \(std), a \(a), b \(b))")
            let (m, s) = (Double(mean), Double(std))
            func cdf(_ x: Double) -> Double { (1 + Foundation.erf(x / 2.0.squareRoot())) / 2 }
            let lo = 2 * cdf((Double(a) - m) / s) - 1
            let hi = 2 * cdf((Double(b) - m) / s) - 1
            for i in values.indices {
                let v = lo + (hi - lo) * generator.nextUnitDouble()
                let x = m + s * 2.0.squareRoot() * Self.erfinv(v)
                values[i] = Swift.min(Swift.max(Float(x), a), b)
            }
        }
    }

    /// Inverse error function on (-1, 1) (±infinity at ±1), so that erf(erfinv(y)) = y to about 1 ulp.
    ///
    /// Giles' single-precision polynomial ("Approximating the erfinv function", GPU Computing
    /// Gems, 2011) as the first guess, then Newton steps on `erf(x) - y` using libm's erf until
    /// the step is below 1e-16 relative (two steps in the body, up to six in the far tail,
    /// where the polynomial is least accurate).
    public static func erfinv(_ y: Double) -> Double {
        if y <= -1 { return -.infinity }
        if y >= 1 { return .infinity }
        if y == 0 { return 0 }
        var w = -Foundation.log((1 - y) * (1 + y))
        var p: Double
        if w < 5 {
            w -= 2.5
            p = 2.81022636e-08
            p = 3.43273939e-07 + p * w
            p = -3.5233877e-06 + p * w
            p = -4.39150654e-06 + p * w
            p = 0.00021858087 + p * w
            p = -0.00125372503 + p * w
            p = -0.00417768164 + p * w
            p = 0.246640727 + p * w
            p = 1.50140941 + p * w
        } else {
            w = w.squareRoot() - 3
            p = -0.000200214257
            p = 0.000100950558 + p * w
            p = 0.00134934322 + p * w
            p = -0.00367342844 + p * w
            p = 0.00573950773 + p * w
            p = -0.0076224613 + p * w
            p = 0.00943887047 + p * w
            p = 1.00167406 + p * w
            p = 2.83297682 + p * w
        }
        var x = p * y
        let twoOverSqrtPi = 2 / Double.pi.squareRoot()
        for _ in 0..<6 {
            let d = twoOverSqrtPi * Foundation.exp(-x * x)
            guard d > 0 else { break }
            let step = (Foundation.erf(x) - y) / d
            x -= step
            if abs(step) <= 1e-16 * abs(x) { break }
        }
        return x
    }
}
