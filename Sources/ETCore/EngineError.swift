/// Errors raised by the numeric engine when a caller asks for something it cannot do.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
