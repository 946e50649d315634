import ArgumentParser
import ETCore
import ETEvaluation
import ETImage
import ETTracking
import Foundation

/// `etrack track`: follow one object through a frame folder or a video.
struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Track one object through a sequence folder or a video.",
        discussion: """
        A sequence folder holds img/ (frames sorted by name) and groundtruth.txt (x,y,w,h per line); \
        --init defaults to its first line. --output gets one x,y,w,h line per frame (the first is the \
        init box), with <output>_time.txt (seconds per frame) and <output>_score.txt (raw score, \
        confidence, state; with --diagnostics also PSR and template similarity) beside it. Existing files are not overwritten unless --force is given.
        """)

    @Option(help: "A NanoTrack model folder (backbone.onnx + head.onnx), or a one-stream .onnx file (TrackerVit interface; etrack export writes them).")
    var model: String

    @Option(help: "A sequence folder (img/ + groundtruth.txt).")
    var sequence: String?

    @Option(help: "A video file (read with ffmpeg).")
    var video: String?

    @Option(help: "Initial box x,y,w,h in pixels of the first frame (default: first line of groundtruth.txt).")
    var `init`: String?

    @Option(help: "Write one x,y,w,h line per frame here (default: print to standard output).")
    var output: String?

    @Option(help: "Threads for the network.")
    var threads: Int = 1

    @OptionGroup var modeOptions: TrackerModeOptions

    @Option(help: "Write annotated frames: a video file (.mp4, .avi, .mkv) or a folder for PNG frames.")
    var render: String?

    @Flag(help: "Add the peak-to-sidelobe ratio and template similarity to each line of the score file.")
    var diagnostics = false

    @Flag(help: "Overwrite existing output files.")
    var force = false

    func validate() throws {
        guard (sequence == nil) != (video == nil) else { throw ValidationError("give exactly one of --sequence DIR or --video FILE") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        if video != nil && `init` == nil { throw ValidationError("--video needs --init x,y,w,h (videos carry no ground truth)") }
        if let i = `init`, BoundingBox(parsing: i) == nil { throw ValidationError("--init '\(i)' is not four numbers x,y,w,h") }
    }

    func run() throws {
        let outputs = output.map { TrackOutputFiles(boxes: $0) }
        if let outputs, !force {
            for f in outputs.all where FileManager.default.fileExists(atPath: f) {
                throw ValidationError("\(f) exists; pass --force to overwrite it")
            }
        }
        let factory = try TrackerLoader.load(model: model, options: try modeOptions.trackerOptions(threads: threads))
        let tracker = factory()
        let source: FrameSource
        if let sequence {
            let seq = try FolderDataset.loadSequence(at: sequence, groundTruth: `init` == nil ? .required : .ignored)
            source = FrameSource(paths: seq.framePaths)
        } else {
            source = FrameSource(video: try VideoReader(path: video!))
        }
        var initBox: BoundingBox
        if let i = `init` {
            initBox = BoundingBox(parsing: i)!
        } else {
            let seq = try FolderDataset.loadSequence(at: sequence!, groundTruth: .required)
            guard let first = seq.initialBox else { throw ValidationError("\(sequence!)/groundtruth.txt: the first box is NaN; give --init") }
            initBox = first
        }
        var renderer = try render.map { try FrameRenderer(path: $0, force: force) }
        var lines: [String] = [], times: [String] = [], scores: [String] = []
        let progress = ProgressLine(enabled: true)
        let started = Date()
        var index = 0
        while let frame = try source.next() {
            let start = DispatchTime.now().uptimeNanoseconds
            let result: TrackingResult
            if index == 0 {
                try tracker.initialize(frame: frame, box: initBox)
                result = TrackingResult(box: initBox, rawScore: 1, confidence: 1, state: .tracking)
            } else {
                result = try tracker.update(frame: frame)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            lines.append(result.box.description)
            times.append(String(format: "%.6f", seconds))
            var scoreLine = String(format: "%.6f,%.6f,%@", result.rawScore, result.confidence, result.state.rawValue)
            if diagnostics {
                scoreLine += "," + [result.peakToSidelobeRatio, result.templateSimilarity].map { $0.map { String(format: "%.6f", $0) } ?? "nan" }.joined(separator: ",")
            }
            scores.append(scoreLine)
            try renderer?.add(frame, result: result, index: index)
            index += 1
            let rate = Double(index) / max(Date().timeIntervalSince(started), 1e-9)
            let eta = source.count.map { String(format: ", ETA %.0fs", Double(max($0 - index, 0)) / rate) } ?? ""
            progress.show("tracking: \(index)" + (source.count.map { "/\($0)" } ?? "") + String(format: " frames, %.1f frames/s", rate) + eta)
        }
        progress.finish()
        guard index > 0 else { throw ValidationError("no frames could be read") }
        try renderer?.close()
        if let outputs {
            try outputs.write(boxes: lines, times: times, scores: scores)
            FileHandle.standardError.write(Data("wrote \(outputs.boxes), \(outputs.times), \(outputs.scores)\n".utf8))
        } else {
            print(lines.joined(separator: "\n"))
        }
    }
}

/// Frames from a folder (decoded on demand, one at a time) or a video.
final class FrameSource {
    private let paths: [String]?
    private let video: VideoReader?
    private var position = 0

    init(paths: [String]) { self.paths = paths; video = nil }
    init(video: VideoReader) { self.video = video; paths = nil }

    var count: Int? { paths?.count ?? video?.frameCount }

    func next() throws -> Image? {
        if let video { return try video.nextFrame() }
        guard let paths, position < paths.count else { return nil }
        position += 1
        return try ImageIO.read(path: paths[position - 1])
    }
}

/// The three result files of a run, named after the box file.
struct TrackOutputFiles {
    let boxes: String
    var stem: String { (boxes as NSString).deletingPathExtension }
    var times: String { stem + "_time.txt" }
    var scores: String { stem + "_score.txt" }
    var all: [String] { [boxes, times, scores] }

    /// Writes each file to a temporary name, then renames it, so a file is never half-written.
    func write(boxes b: [String], times t: [String], scores s: [String]) throws {
        let dir = (boxes as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        for (path, lines) in [(boxes, b), (times, t), (scores, s)] {
            let tmp = path + ".partial"
            try (lines.joined(separator: "\n") + "\n").write(toFile: tmp, atomically: false, encoding: .utf8)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        }
    }
}

/// Draws the box, frame number and confidence, and writes frames to a video or a folder.
struct FrameRenderer {
    let path: String
    var writer: VideoWriter?
    let isVideo: Bool

    init(path: String, force: Bool) throws {
        self.path = path
        let ext = (path as NSString).pathExtension.lowercased()
        isVideo = ["mp4", "avi", "mkv", "mov"].contains(ext)
        if FileManager.default.fileExists(atPath: path) && !force && (isVideo || !((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? true)) {
            throw ValidationError("\(path) exists; pass --force to overwrite it")
        }
        let folder = isVideo ? (path as NSString).deletingLastPathComponent : path
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }

    mutating func add(_ frame: Image, result: TrackingResult, index: Int) throws {
        var f = frame
        let color: [UInt8] = result.state == .tracking ? [0, 255, 0] : (result.state == .uncertain ? [255, 200, 0] : [255, 0, 0])
        let b = result.box
        ImageOps.drawRectangle(&f, x: Int(b.x.rounded()), y: Int(b.y.rounded()), width: Int(b.width.rounded()), height: Int(b.height.rounded()), color: color, thickness: 2)
        ImageOps.drawText(&f, String(format: "#%d %@ %.2f", index + 1, result.state.rawValue, result.confidence), x: 4, y: 4, color: [255, 255, 255], scale: 2, background: [0, 0, 0])
        if isVideo {
            if writer == nil { writer = try VideoWriter(path: path, width: f.width, height: f.height, fps: 25) }
            try writer!.write(f)
        } else {
            try ImageIO.write(f, to: (path as NSString).appendingPathComponent(String(format: "%08d.png", index + 1)))
        }
    }

    func close() throws { try writer?.close() }
}
