import Foundation

/// Reads video frames as 8-bit RGB images by running `ffmpeg` (libavcodec, the decoder
/// `cv2.VideoCapture` uses) and reading `rgb24` raw video from a pipe.
///
/// Frames match `cv2.VideoCapture` closely but not necessarily bit for bit: both convert
/// YUV to RGB with swscale, but OpenCV's bundled FFmpeg version and conversion flags may differ
/// from the system `ffmpeg` (see `VideoTests` for the measured difference).
///
/// ```swift
/// let video = try VideoReader(path: "clip.mp4")
/// while let frame = try video.nextFrame() { … }
/// ```
public final class VideoReader {
    /// The file being read.
    public let path: String
    /// Frame size in pixels.
    public let width: Int, height: Int
    /// Frames per second from the container (`avg_frame_rate`, else `r_frame_rate`); 0 if unknown.
    public let fps: Double
    /// The number of frames the container declares (`nb_frames`), or nil when it has none.
    /// The frames actually decoded can differ; count ``nextFrame()`` results when it matters.
    public let frameCount: Int?
    /// Frames returned so far.
    public private(set) var framesRead = 0

    private let child: ChildProcess
    private let output: FileHandle
    private var finished = false

    /// Probes the video with `ffprobe` and starts decoding it.
    ///
    /// - Parameter path: A video file `ffmpeg` can read (mp4, avi, …).
    /// - Throws: ``ImageError/toolMissing(tool:)`` without ffmpeg/ffprobe,
    ///   ``ImageError/cannotOpen(file:reason:)`` for a missing file,
    ///   ``ImageError/videoFailed(file:reason:)`` if it has no decodable video stream.
    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ImageError.cannotOpen(file: path, reason: "no such file")
        }
        let probe = try FFmpegTool.capture("ffprobe", [
            "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames",
            "-of", "json", path,
        ], file: path)
        guard let json = try? JSONSerialization.jsonObject(with: probe) as? [String: Any],
              let streams = json["streams"] as? [[String: Any]], let stream = streams.first,
              let w = stream["width"] as? Int, let h = stream["height"] as? Int, w > 0, h > 0 else {
            throw ImageError.videoFailed(file: path, reason: "no video stream found by ffprobe")
        }
        width = w
        height = h
        func rate(_ key: String) -> Double? {
            guard let s = stream[key] as? String else { return nil }
            let parts = s.split(separator: "/").compactMap { Double($0) }
            guard parts.count == 2, parts[1] != 0, parts[0] > 0 else { return nil }
            return parts[0] / parts[1]
        }
        fps = rate("avg_frame_rate") ?? rate("r_frame_rate") ?? 0
        frameCount = (stream["nb_frames"] as? String).flatMap { Int($0) }

        let pipe = Pipe()
        child = try ChildProcess("ffmpeg", [
            "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-vsync", "passthrough", "-",
        ], stdin: nil, stdout: pipe, file: path)
        output = pipe.fileHandleForReading
    }

    deinit {
        if !finished {
            child.terminate()
            try? output.close()
            child.wait()
        }
    }

    /// The next frame, or nil at the end of the video.
    ///
    /// - Throws: ``ImageError/videoFailed(file:reason:)`` if ffmpeg stops with an error or a
    ///   frame is cut short.
    public func nextFrame() throws -> Image? {
        if finished { return nil }
        let size = width * height * 3
        var pixels = [UInt8](repeating: 0, count: size)
        var got = 0
        let fd = output.fileDescriptor
        while got < size {
            let r = pixels.withUnsafeMutableBytes { buf in read(fd, buf.baseAddress! + got, size - got) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { break }
            got += r
        }
        if got == size {
            framesRead += 1
            return Image(width: width, height: height, channels: 3, pixels: pixels)
        }
        finished = true
        let status = child.wait()
        if status != 0 {
            throw ImageError.videoFailed(file: path, reason: "ffmpeg failed after \(framesRead) frames: \(child.stderr.text)")
        }
        if got != 0 {
            throw ImageError.videoFailed(file: path, reason: "frame \(framesRead) cut short (\(got) of \(size) bytes)")
        }
        return nil
    }
}
