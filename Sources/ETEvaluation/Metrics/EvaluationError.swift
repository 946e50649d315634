/// An evaluation error that is not tied to one file: invalid results, bad options, mismatched runs.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
