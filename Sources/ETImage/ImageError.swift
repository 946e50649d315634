/// Errors raised while reading, writing or processing images and videos.
///
/// Every case that concerns a file carries its name, so a failure in a long evaluation run
/// says which frame or video was at fault. `description` is the message to show a user.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist or cannot be opened.
    case cannotOpen(file: String, reason: String)
    /// The bytes are neither JPEG nor PNG (detected by magic bytes).
    case unsupportedFormat(file: String)
    /// The decoder rejected the data (truncated, corrupt, or an unsupported variant).
    case decodeFailed(file: String, reason: String)
    /// Encoding or writing the file failed.
    case encodeFailed(file: String, reason: String)
    /// A helper program (`ffmpeg`, `ffprobe`) was not found on `PATH`.
    case toolMissing(tool: String)
    /// A video could not be probed, decoded or encoded.
    case videoFailed(file: String, reason: String)
    /// An argument is outside what the operation accepts.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): return "cannot open '\(file)': \(reason)"
        case let .unsupportedFormat(file): return "'\(file)' is not a JPEG or PNG image"
        case let .decodeFailed(file, reason): return "cannot decode '\(file)': \(reason)"
        case let .encodeFailed(file, reason): return "cannot write '\(file)': \(reason)"
        case let .toolMissing(tool):
            return "'\(tool)' was not found on PATH; install FFmpeg (e.g. apt-get install ffmpeg) to read or write videos"
        case let .videoFailed(file, reason): return "video '\(file)': \(reason)"
        case let .invalidArgument(message): return message
        }
    }
}
