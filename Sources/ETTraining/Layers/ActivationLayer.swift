/// Pointwise activations with their derivatives, evaluated at the cached input.
public enum ActivationLayer: Sendable {
    case relu, hardSwish, gelu

    public func forward<T: TrainingScalar>(out: MP<T>, inp: CP<T>, count: Int) {
        switch self {
        case .relu: for i in 0..<count { out[i] = max(inp[i], 0) }
        case .hardSwish: for i in 0..<count { let x = inp[i]; out[i] = x * min(max(x + 3, 0), 6) / 6 }
        case .gelu:
            let r = 1 / T(2).squareRoot()
            for i in 0..<count { let x = inp[i]; out[i] = x / 2 * (1 + T.erf(x * r)) }
        }
    }

    /// dInp += dOut · f′(inp). At the kinks PyTorch's one-sided choices: relu′(0) = 0,
    /// hardswish′(−3) = −0.5 (left) and hardswish′(3) = 1.5 (x/3 + 0.5).
    public func backward<T: TrainingScalar>(dInp: MP<T>, dOut: CP<T>, inp: CP<T>, count: Int) {
        switch self {
        case .relu: for i in 0..<count where inp[i] > 0 { dInp[i] += dOut[i] }
        case .hardSwish:
            for i in 0..<count {
                let x = inp[i]
                if x < -3 { continue }
                dInp[i] += dOut[i] * (x > 3 ? 1 : x / 3 + T(0.5))
            }
        case .gelu:
            let r = 1 / T(2).squareRoot(), c = 1 / (2 * T.pi).squareRoot()
            for i in 0..<count {
                let x = inp[i]
                dInp[i] += dOut[i] * ((1 + T.erf(x * r)) / 2 + x * c * T.exp(-x * x / 2))
            }
        }
    }
}
