/// Errors from reading, checking or running an ONNX model. Messages name the file, node and op.
public struct ONNXError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
