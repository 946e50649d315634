/// A missing or malformed benchmark file, reported with its path and (when known) the 1-based line.
///
/// The description reads like a compiler diagnostic, `path:line: message`, so editors and
/// terminals can jump to it.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or folder at fault.
    public var path: String
    /// The 1-based line number inside `path`, when the problem is on one line.
    public var line: Int?
    /// What is wrong, in words a user can act on.
    public var message: String

    public init(path: String, line: Int? = nil, _ message: String) {
        self.path = path; self.line = line; self.message = message
    }

    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}
