import Foundation
import ETCore

/// Element-wise binary operators with NumPy broadcasting.
enum BinaryOp: String {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", max = "Max", min = "Min"

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return Foundation.pow(a, b)
        case .max: return a > b ? a : b
        case .min: return a < b ? a : b
        }
    }

    func applyInt(_ a: Int64, _ b: Int64) -> Int64 {
        switch self {
        case .add: return a &+ b
        case .sub: return a &- b
        case .mul: return a &* b
        case .div: return b == 0 ? 0 : a / b
        case .pow: return Int64(Foundation.pow(Double(a), Double(b)))
        case .max: return Swift.max(a, b)
        case .min: return Swift.min(a, b)
        }
    }
}

/// Element-wise unary operators: fusable activations, and plain math functions.
enum UnaryOp: Equatable {
    case activation(Activation)
    case exp, log, sqrt, neg, abs, tanh, erf, reciprocal
    /// Gelu with `approximate='tanh'`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    case geluTanh

    func apply(_ x: Float) -> Float {
        switch self {
        case let .activation(a): return a.apply(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .sqrt: return x.squareRoot()
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .tanh: return Foundation.tanh(x)
        case .erf: return Foundation.erf(x)
        case .reciprocal: return 1 / x
        case .geluTanh:
            let k: Float = 0.7978845608028654  // √(2/π)
            return 0.5 * x * (1 + Foundation.tanh(k * (x + 0.044715 * x * x * x)))
        }
    }

    /// The op on integers (plan-time values), where it is defined on them.
    func applyInt(_ x: Int64) -> Int64? {
        switch self {
        case .neg: return 0 &- x
        case .abs: return x < 0 ? 0 &- x : x
        case .activation(.relu): return Swift.max(x, 0)
        default: return nil
        }
    }
}

/// Convolution attributes as written in the file (pads may be automatic).
struct ConvAttributes {
    var kernel: [Int]?            // from kernel_shape, else from the weight
    var strides = [1, 1]
    var dilations = [1, 1]
    var pads = [0, 0, 0, 0]       // top, left, bottom, right
    var autoPad = "NOTSET"
    var group = 1
    /// 1 or 2 when the attributes say; nil when only the weight's rank does.
    var spatialRank: Int? = nil
}

/// Every operator the engine runs: a closed list, so the compiler lists what a new op needs.
enum Operator {
    case conv(ConvAttributes, activation: Activation)
    /// `training`: batch statistics (training_mode=1), with `momentum` for the running-stat outputs.
    case batchNorm(epsilon: Float, momentum: Float, training: Bool)
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool, activation: Activation)
    case matMul(activation: Activation)
    case binary(BinaryOp)
    /// Max/Min/Sum (as .add) over any number of inputs, and Mean (`mean`: the sum divided by the count).
    case nary(BinaryOp, mean: Bool)
    case unary(UnaryOp)
    /// Clip whose min/max inputs are not constants of the file (the planner reads them).
    case clip
    case globalAveragePool
    case reshape(allowZero: Bool)
    case flatten(axis: Int)
    case squeeze(axes: [Int]?)
    case unsqueeze(axes: [Int]?)
    case identity
    case transpose(perm: [Int]?)
    case concat(axis: Int)
    case slice(starts: [Int]?, ends: [Int]?, axes: [Int]?)   // attributes for opset < 10, else inputs
    case softmax(axis: Int, coerce2D: Bool)
    case layerNorm(axis: Int, epsilon: Float)
    case shape(start: Int, end: Int?)
    case gather(axis: Int)
    case cast(to: Int64)
    case constantOfShape(value: ConstantValue)

    /// The name used in error messages and profiles.
    var name: String {
        switch self {
        case let .conv(_, a): return a == .identity ? "Conv" : "Conv+\(a)"
        case .batchNorm: return "BatchNormalization"
        case let .gemm(_, _, _, _, a): return a == .identity ? "Gemm" : "Gemm+\(a)"
        case let .matMul(a): return a == .identity ? "MatMul" : "MatMul+\(a)"
        case let .binary(b): return b.rawValue
        case let .nary(b, mean): return mean ? "Mean" : b == .add ? "Sum" : b.rawValue
        case let .unary(u):
            if case let .activation(a) = u { return "\(a)" }
            return "\(u)"
        case .clip: return "Clip"
        case .globalAveragePool: return "GlobalAveragePool"
        case .reshape: return "Reshape"
        case .flatten: return "Flatten"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .identity: return "Identity"
        case .transpose: return "Transpose"
        case .concat: return "Concat"
        case .slice: return "Slice"
        case .softmax: return "Softmax"
        case .layerNorm: return "LayerNormalization"
        case .shape: return "Shape"
        case .gather: return "Gather"
        case .cast: return "Cast"
        case .constantOfShape: return "ConstantOfShape"
        }
    }

    /// Ops whose output shares its input's memory (they only change the shape).
    var isView: Bool {
        switch self {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity: return true
        default: return false
        }
    }
}
