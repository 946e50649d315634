/// A dense float32 tensor in row-major (C) order.
///
/// `Tensor` is a value type over a copy-on-write `[Float]`; the inference engine uses it at the
/// edges (inputs, outputs, weights) and works on planned raw buffers inside.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    /// Number of elements implied by `shape` (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Row-major strides of `shape`.
    public static func strides(of shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// Largest absolute element-wise difference; `.infinity` if the shapes differ.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        guard shape == other.shape else { return .infinity }
        var m: Float = 0
        for i in 0..<data.count { m = Swift.max(m, abs(data[i] - other.data[i])) }
        return m
    }
}
