/// A tensor whose value is known before running: an initializer, a `Constant` node, or a
/// value folded at planning time (shapes are known then, so `Shape` and its consumers fold).
struct ConstantValue {
    var shape: [Int]
    /// Float data (float tensors) or nil.
    var floats: [Float]?
    /// Integer data (int64/int32/bool tensors) or nil.
    var ints: [Int64]?

    var count: Int { shape.reduce(1, *) }
    var isInteger: Bool { ints != nil }

    init(shape: [Int], floats: [Float]) { self.shape = shape; self.floats = floats }
    init(shape: [Int], ints: [Int64]) { self.shape = shape; self.ints = ints }

    init(_ t: ONNXTensorProto) throws {
        guard t.elementCount >= 0 else { throw ONNXError("tensor '\(t.name)' has impossible dims \(t.dims)") }
        shape = t.dims.map { Int($0) }
        if t.isFloatingPoint { floats = try t.floats() } else { ints = try t.int64s() }
    }

    /// The values as Float whatever the element type.
    var asFloats: [Float] { floats ?? ints!.map { Float($0) } }
    /// The values as Int (floats are truncated).
    var asInts: [Int] { ints.map { $0.map { Int(clamping: $0) } } ?? floats!.map { Int($0) } }
}
