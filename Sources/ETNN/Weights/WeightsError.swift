/// Errors from reading, writing or checking weights. Messages start with the file (or
/// `<memory>`) and name the tensor concerned, e.g.
/// `w.safetensors: tensor 'blocks.0.attn.qkv.weight': expected shape [384, 128], found [128, 384]`.
public struct WeightsError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
