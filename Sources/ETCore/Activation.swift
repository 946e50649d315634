import Foundation

/// Element-wise activations that kernels can fuse into their epilogue.
public enum Activation: Equatable, Sendable, CustomStringConvertible {
    case identity
    case relu
    /// min(max(x, lo), hi); ReLU6 is `.clip(0, 6)`.
    case clip(Float, Float)
    /// x * relu6(x + 3) / 6
    case hardSwish
    /// max(0, min(1, alpha * x + beta))
    case hardSigmoid(alpha: Float, beta: Float)
    case sigmoid
    /// erf-based GELU: 0.5 x (1 + erf(x / sqrt 2))
    case gelu

    /// Scalar reference of the activation (the fast paths must agree with this).
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x > 0 ? x : 0
        case let .clip(lo, hi): return x < lo ? lo : (x > hi ? hi : x)
        case .hardSwish:
            let r = x + 3
            return x * (r < 0 ? 0 : (r > 6 ? 6 : r)) / 6
        case let .hardSigmoid(alpha, beta):
            let r = alpha * x + beta
            return r < 0 ? 0 : (r > 1 ? 1 : r)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot()))
        }
    }

    public var description: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case let .clip(a, b): return "clip(\(a),\(b))"
        case .hardSwish: return "hardswish"
        case let .hardSigmoid(a, b): return "hardsigmoid(\(a),\(b))"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        }
    }
}
