import Foundation

/// Writes RGB frames to a video file by piping `rgb24` raw video into `ffmpeg`.
///
/// The codec follows the extension: `.mp4`/`.mov`/`.mkv` use H.264 (libx264, yuv420p,
/// `-crf 18`) when ffmpeg has it, else MPEG-4 part 2; `.avi` uses MJPEG. Odd frame sizes are
/// padded by one black row/column because yuv420p needs even sizes.
public final class VideoWriter {
    /// The file being written.
    public let path: String
    /// Frame size every ``write(_:)`` call must match.
    public let width: Int, height: Int
    /// Frames written so far.
    public private(set) var framesWritten = 0

    private let child: ChildProcess
    private let input: FileHandle
    private var closed = false

    /// Starts ffmpeg to write a video.
    ///
    /// - Parameters:
    ///   - path: Destination; overwritten if it exists. Extension selects the codec.
    ///   - width: Frame width (> 0).
    ///   - height: Frame height (> 0).
    ///   - fps: Frames per second (> 0).
    /// - Throws: ``ImageError/toolMissing(tool:)``, ``ImageError/invalidArgument(_:)`` or
    ///   ``ImageError/videoFailed(file:reason:)``.
    public init(path: String, width: Int, height: Int, fps: Double) throws {
        guard width > 0, height > 0, fps > 0, fps.isFinite else {
            throw ImageError.invalidArgument("VideoWriter '\(path)': invalid size \(width)x\(height) or fps \(fps)")
        }
        self.path = path
        self.width = width
        self.height = height
        _ = FFmpegTool.ignoreSIGPIPE
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        var codec: [String]
        switch ext {
        case "avi": codec = ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"]
        case "mp4", "mov", "mkv", "m4v":
            codec = Self.hasEncoder("libx264")
                ? ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
                : ["-c:v", "mpeg4", "-q:v", "3", "-pix_fmt", "yuv420p"]
        default:
            throw ImageError.invalidArgument("VideoWriter '\(path)': unknown extension '.\(ext)'; use .mp4, .mov, .mkv or .avi")
        }
        if width % 2 != 0 || height % 2 != 0 { codec += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"] }
        let pipe = Pipe()
        child = try ChildProcess("ffmpeg", [
            "-nostdin", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", "\(width)x\(height)", "-r", String(fps), "-i", "-",
        ] + codec + [path], stdin: pipe, stdout: nil, file: path)
        input = pipe.fileHandleForWriting
    }

    deinit { if !closed { try? close() } }

    /// Appends one frame.
    ///
    /// - Throws: ``ImageError/invalidArgument(_:)`` if the frame's size or channels differ, or
    ///   ``ImageError/videoFailed(file:reason:)`` if ffmpeg has stopped.
    public func write(_ frame: Image) throws {
        guard !closed else { throw ImageError.videoFailed(file: path, reason: "write after close") }
        guard frame.width == width, frame.height == height, frame.channels == 3 else {
            throw ImageError.invalidArgument(
                "VideoWriter '\(path)': frame is \(frame.width)x\(frame.height)x\(frame.channels), expected \(width)x\(height)x3")
        }
        let fd = input.fileDescriptor
        try frame.pixels.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let r = Foundation.write(fd, buf.baseAddress! + done, buf.count - done)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 {
                    let code = errno
                    closed = true
                    try? input.close()
                    child.wait()
                    throw ImageError.videoFailed(file: path,
                        reason: "ffmpeg stopped accepting frames (\(String(cString: strerror(code)))): \(child.stderr.text)")
                }
                done += r
            }
        }
        framesWritten += 1
    }

    /// Finishes the file and waits for ffmpeg.
    ///
    /// - Throws: ``ImageError/videoFailed(file:reason:)`` if ffmpeg reports an error.
    public func close() throws {
        if closed { return }
        closed = true
        try? input.close()
        let status = child.wait()
        if status != 0 { throw ImageError.videoFailed(file: path, reason: "ffmpeg failed: \(child.stderr.text)") }
    }

    private static func hasEncoder(_ name: String) -> Bool {
        guard let data = try? FFmpegTool.capture("ffmpeg", ["-hide_banner", "-encoders"], file: "ffmpeg") else { return false }
        return String(decoding: data, as: UTF8.self).contains(" \(name) ")
    }
}
